package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// The interface as officials live it (issue 14): a live meeting is found from
// the index and joined in one click, the message box opens by itself when the
// meeting starts, observers are told why they cannot write, ending asks first,
// and an ended meeting shows who came rather than a room.

// scheduledMeeting creates a meeting in the group that has not started yet.
func (w *liveWorld) scheduledMeeting(t *testing.T, title string) int64 {
	t.Helper()
	start := time.Now().Add(time.Hour).UTC().Truncate(time.Minute)
	r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{
		"title": title, "starts_at": start, "ends_at": start.Add(5 * time.Hour),
		"location": "Online", "agenda": "1. Powitanie\n2. Budżet oświaty 2027\n3. Pytania uczestników"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", r.Status, r.Body)
	}
	var m struct {
		ID int64 `json:"id"`
	}
	r.Decode(&m)
	return m.ID
}

const jsBanner = `(() => { const s = document.querySelector('[data-banner-group="%d"]'); return s ? (s.dataset.status || "") + "|" + s.textContent.trim().replace(/\s+/g, " ") : "no slot" })()`

func TestUILiveMeetingJourney(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	obs := s.env.NewUser(model.RoleMember)
	s.env.AddMember(obs.ID, w.group.ID, model.GroupObserver)
	id := w.scheduledMeeting(t, "Sesja 7: Budżet oświaty")
	path := "/m/" + strconv.FormatInt(id, 10)
	banner := fmt.Sprintf(jsBanner, w.group.ID)

	// A has the meeting open before it starts: no message box yet, a note why.
	pa := s.newTab(t)
	pa.loginAs(w.a)
	pa.open(path)
	if got := eval[string](pa, `document.getElementById("chat-form").hidden + "|" + !document.getElementById("chat-not-started").hidden`); got != "true|true" {
		t.Errorf("before the start: form hidden|waiting note shown = %q, want true|true", got)
	}
	pa.waitFor("A's page to be connected", jsLiveState+` === "open" || document.getElementById("live-state").hidden`, jsLiveState)

	// B is on the index: the group's card announces the next meeting.
	pb := s.newTab(t)
	pb.loginAs(w.b)
	if got := eval[string](pb, banner); !strings.HasPrefix(got, "scheduled|Najbliższe spotkanie Sesja 7: Budżet oświaty") {
		t.Errorf("index banner before the start = %q", got)
	}
	pb.waitFor("the index to follow the group", `window.__forumLive && window.__forumLive.state === "open"`, `window.__forumLive.state`)

	// The observer's page says why there is no message box.
	po := s.newTab(t)
	po.loginAs(obs)
	po.open(path)
	if got := eval[string](po, `(document.getElementById("chat-observer") || {}).textContent || ""`); !strings.Contains(got, "obserwatorem") {
		t.Errorf("observer's note = %q, want it to say they are an observer", got)
	}
	if eval[bool](po, `!!document.getElementById("chat-form")`) {
		t.Error("the observer's page has a message box")
	}

	// The moderator starts the meeting.
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", id), nil); r.Status != http.StatusOK {
		t.Fatalf("start meeting: %d %s", r.Status, r.Body)
	}
	// A's message box opens without a reload, and A can send at once.
	pa.waitFor("A's message box to open", `!document.getElementById("chat-form").hidden`, `document.getElementById("chat-form").outerHTML.slice(0, 200)`)
	if !eval[bool](pa, `document.getElementById("chat-not-started").hidden`) {
		t.Error("the 'chat opens when the moderator starts' note is still shown")
	}
	pa.do("focus the message field", chromedp.Focus(chromedp.CSS("#f-body")))
	pa.typeText("type a message", "Dzień dobry wszystkim!")
	pa.do("send", chromedp.Click(chromedp.CSS("#chat-form button[type=submit]")))
	pa.waitFor("A's message to be sent", `!!document.querySelector('#chat-log li.own[data-state="sent"]')`, jsChatTexts)
	pa.screenshot("ui-meeting-opened-live")

	// B's index banner turns into "join", and joining lands on the chat.
	pb.waitFor("the index banner to say the meeting is live", `/^live\|Trwa spotkanie/.test(`+banner+`)`, banner)
	pb.checkPage("ui-index-live-banner")
	pb.submit("join from the banner", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-banner-group="%d"] a`, w.group.ID))))
	if got := eval[string](pb, `location.pathname + location.hash`); got != path+"#chat" {
		t.Errorf("the banner led to %q, want %s#chat", got, path)
	}
	// The chat comes before the programme, and the box is there.
	if !eval[bool](pb, `!!(document.getElementById("chat").compareDocumentPosition(document.getElementById("agenda-h")) & Node.DOCUMENT_POSITION_FOLLOWING)`) {
		t.Error("on a live meeting the chat is not before the programme")
	}
	pb.waitFor("B to see A's message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("Dzień dobry wszystkim"))`, jsChatTexts)
	if eval[string](pb, `document.querySelector("#chat-log li.chat-msg time").textContent.trim()`) == "" ||
		!eval[bool](pb, `/^\d\d:\d\d$/.test(document.querySelector("#chat-log li.chat-msg time").textContent.trim())`) {
		t.Errorf("a chat line's time = %q, want the clock only", eval[string](pb, `document.querySelector("#chat-log li.chat-msg time").textContent`))
	}
	if !eval[bool](pb, `!!document.querySelector("#chat-log li.chat-day")`) {
		t.Error("the chat has no day separator")
	}
	pb.checkPage("ui-meeting-live-desktop")
	pb.viewport(360, 780, true)
	pb.open(path)
	if sw := eval[int](pb, `document.scrollingElement.scrollWidth`); sw > 360 {
		t.Errorf("live meeting at 360px is %dpx wide", sw)
	}
	// On a phone the chat is near the top: above the fold's second screen.
	if top := eval[float64](pb, `document.getElementById("chat").getBoundingClientRect().top + scrollY`); top > 780 {
		t.Errorf("on a phone the chat starts %.0fpx down, want within the first screen", top)
	}
	pb.checkPage("ui-meeting-live-phone")

	// The moderator ends it, through a confirmation page.
	pm := s.newTab(t)
	pm.loginAs(w.mod)
	pm.open(path)
	if st := pm.submit("click Zakończ spotkanie", chromedp.Click(chromedp.CSS(`.mod-actions a.danger`))); st != 200 {
		t.Fatalf("the end link answered %d", st)
	}
	if got := pm.path(); got != path+"/end" {
		t.Fatalf("Zakończ spotkanie led to %s, want the confirmation %s/end", got, path)
	}
	if q := eval[string](pm, `document.querySelector("main .lead").textContent`); !strings.Contains(q, "Zakończyć spotkanie") {
		t.Errorf("confirmation question = %q", q)
	}
	pm.checkPage("ui-meeting-end-confirm")
	pm.submit("confirm", chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
	if got := eval[string](pm, `document.getElementById("meeting-status").textContent`); got != "Zakończone" {
		t.Errorf("after confirming, the status is %q", got)
	}
	// The ended meeting says who came, not "who will be", and has no room list.
	if body := eval[string](pm, `document.querySelector("main").textContent`); strings.Contains(body, "Zobacz, kto będzie") {
		t.Error(`an ended meeting still says "Zobacz, kto będzie"`)
	}
	if eval[bool](pm, `!!document.getElementById("presence")`) {
		t.Error("an ended meeting still has the room list")
	}
	// B's open page closes its box by itself.
	pb.waitFor("B's message box to close", `!document.getElementById("chat-form") || document.getElementById("chat-form").hidden`, `document.getElementById("chat").dataset.status`)
	if !eval[bool](pb, `document.getElementById("presence").hidden`) {
		t.Error("B's page still shows the room after the end")
	}
}

// jsOverflow names the elements that stick out to the right of the viewport
// (a diagnostic when a page scrolls sideways).
const jsOverflow = `[...document.querySelectorAll("body *")].filter(e => { const r = e.getBoundingClientRect(); return r.width && r.right > innerWidth + 1 && !(e.parentElement && e.parentElement.closest(".table-scroll")) })
	.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") + " " + Math.round(e.getBoundingClientRect().right) + "px").join(", ")`

// WCAG 1.4.10 reflow: at 360 px no page scrolls sideways (a wide table
// scrolls inside its own labelled region), for a member, a moderator and an
// administrator; every page also passes axe at that width.
func TestUIPhoneWidth(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	g := strconv.FormatInt(group.ID, 10)
	var thread, meeting, user int64
	if err := s.env.DB.Get(&thread, `SELECT min(id) FROM threads WHERE group_id = $1`, group.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.env.DB.Get(&meeting, `SELECT min(id) FROM meetings WHERE group_id = $1`, group.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.env.DB.Get(&user, `SELECT min(id) FROM users WHERE role = 'member'`); err != nil {
		t.Fatal(err)
	}
	m, th := strconv.FormatInt(meeting, 10), strconv.FormatInt(thread, 10)
	for _, role := range []struct {
		name, email string
		pages       []string
	}{
		{"member", memberEmail, []string{"/", "/g/" + g, "/t/" + th, "/g/" + g + "/meetings", "/m/" + m, "/m/" + m + "/files",
			"/m/" + m + "/attendance", "/g/" + g + "/members", "/notifications", "/g/" + g + "/new"}},
		{"moderator", "moderator@forum-jst.example", []string{"/g/" + g, "/g/" + g + "/flags", "/g/" + g + "/mutes", "/g/" + g + "/audit",
			"/g/" + g + "/meetings/new", "/m/" + m + "/edit"}},
		{"admin", adminEmail, []string{"/admin/users", "/admin/users/" + strconv.FormatInt(user, 10), "/admin/jst", "/admin/groups",
			"/admin/invitations", "/admin/areas", "/admin/audit", "/admin/2fa"}},
	} {
		t.Run(role.name, func(t *testing.T) {
			p := s.newTab(t)
			p.loginForm(role.email)
			p.viewport(360, 780, true)
			for _, path := range role.pages {
				if st := p.open(path); st != 200 {
					t.Errorf("GET %s = %d", path, st)
					continue
				}
				if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > 360 {
					t.Errorf("%s at 360px is %dpx wide; sticking out: %s", path, sw, eval[string](p, jsOverflow))
				}
				// Every scrolling table is a focusable, named region.
				if bad := eval[int](p, `[...document.querySelectorAll(".table-scroll")].filter(d => d.getAttribute("role") !== "region" || !d.getAttribute("aria-label") || d.tabIndex !== 0).length`); bad > 0 {
					t.Errorf("%s: %d table scroll containers are not named, focusable regions", path, bad)
				}
				p.checkPage("ui-phone-" + role.name + strings.NewReplacer("/", "-").Replace(path))
			}
			// The header leaves room for content: at most 200px before main on a
			// phone, for every role (the menu and the tools fold behind the Menu
			// button), and still with the text enlarged (A+ three times).
			p.open("/")
			if h := eval[float64](p, `document.querySelector("main").getBoundingClientRect().top`); h > 200 {
				t.Errorf("the header takes %.0fpx at 360px, want at most 200", h)
			}
			p.do("A+ three times", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("forumjst.a11y", JSON.stringify({scale: 1.3}))`))
			p.open("/")
			if h := eval[float64](p, `document.querySelector("main").getBoundingClientRect().top`); h > 200 {
				t.Errorf("with A+ three times the header takes %.0fpx at 360px, want at most 200", h)
			}
			p.do("text size back", chromedp.Evaluate[chromedp.Void](`localStorage.removeItem("forumjst.a11y")`))
			// The narrowest and a wide phone: no page scrolls sideways either.
			for _, width := range []int64{320, 414} {
				p.viewport(width, 780, true)
				for _, path := range role.pages {
					p.open(path)
					if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > int(width) {
						t.Errorf("%s at %dpx is %dpx wide; sticking out: %s", path, width, sw, eval[string](p, jsOverflow))
					}
				}
			}
		})
	}
}

// Writing a reply: the toolbar formats without Markdown knowledge, the preview
// shows the server's rendering, the draft survives a reload, and when a
// moderator locks the thread meanwhile the text stays on the page.
func TestUIWritingJourney(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	tid, _ := s.env.NewThread(w.group.ID, w.mod.ID, 2)
	path := "/t/" + strconv.FormatInt(tid, 10)
	p := s.newTab(t)
	p.loginAs(w.a)
	p.open(path)
	if n := eval[int](p, `document.querySelectorAll(".editor-bar button").length`); n < 6 {
		t.Fatalf("the toolbar has %d buttons, want bold, italic, list, link, quote and preview", n)
	}
	p.do("focus the reply field", chromedp.Focus(chromedp.CSS("#f-body")))
	p.typeText("type a reply", "Budżet na dowozy")
	// Select "dowozy" and make it bold with the toolbar.
	p.do("select a word", chromedp.Evaluate[chromedp.Void](`(() => { const ta = document.getElementById("f-body"); ta.setSelectionRange(10, 16); true })()`))
	p.do("click Pogrubienie", chromedp.Click(chromedp.CSS(`.editor-bar [data-action="bold"]`)))
	if v := eval[string](p, `document.getElementById("f-body").value`); v != "Budżet na **dowozy**" {
		t.Errorf("after Pogrubienie the text is %q", v)
	}
	// Ctrl+B in the field does the same with a fresh selection.
	p.do("open the preview", chromedp.Click(chromedp.CSS(`.editor-bar [data-action="preview"]`)))
	p.waitFor("the preview to show the bold word", `(document.getElementById("f-body-preview") || {}).innerHTML && document.getElementById("f-body-preview").innerHTML.includes("<strong>dowozy</strong>")`,
		`document.getElementById("f-body-preview").textContent`)
	p.checkPage("ui-writing-preview")

	// The draft is kept: a reload brings it back.
	p.waitFor("the draft to be saved", `Object.keys(localStorage).some(k => k.startsWith("forumjst.draft:") && localStorage.getItem(k).includes("dowozy"))`, `JSON.stringify(localStorage)`)
	p.open(path)
	if v := eval[string](p, `document.getElementById("f-body").value`); v != "Budżet na **dowozy**" {
		t.Errorf("after a reload the reply field holds %q, want the draft", v)
	}
	if !eval[bool](p, `!!document.querySelector(".draft-note")`) {
		t.Error("the page does not say the draft was restored")
	}
	p.waitFor("the thread page to follow the thread", `"subscribed" in (document.getElementById("thread-live") || {dataset: {}}).dataset || window.__forumLive.state === "open"`, `window.__forumLive.state`)
	time.Sleep(500 * time.Millisecond) // the subscription's greeting sets the known state

	// A moderator locks the thread: the text stays, read-only, not sendable.
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/lock", tid), nil); r.Status != http.StatusOK {
		t.Fatalf("lock: %d %s", r.Status, r.Body)
	}
	p.waitFor("the composer to close", `document.getElementById("f-body").readOnly`, `document.getElementById("composer").textContent.slice(0, 200)`)
	if got := eval[string](p, `(() => { const f = document.querySelector("#composer form"); return f.hidden + "|" + document.getElementById("f-body").value })()`); got != "false|Budżet na **dowozy**" {
		t.Errorf("after the lock: form hidden|text = %q, want the text still shown", got)
	}
	p.checkPage("ui-writing-locked")
	p.viewport(360, 780, true)
	if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > 360 {
		t.Errorf("thread with the toolbar at 360px is %dpx wide", sw)
	}
	p.screenshot("ui-writing-phone")
}

// A form with errors, as a moderator meets it: every problem at once in field
// order, and a summary link puts the keyboard in its field.
func TestUIFormErrors(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	p := s.newTab(t)
	p.loginAs(w.mod)
	path := fmt.Sprintf("/g/%d/meetings/new", w.group.ID)
	p.open(path)
	if got := eval[string](p, `document.querySelector("main form button[type=submit]").textContent.trim()`); got != "Zaplanuj spotkanie" {
		t.Errorf("the create button says %q", got)
	}
	if st := p.submit("submit the empty form", chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); st != 400 {
		t.Fatalf("empty meeting form answered %d, want 400", st)
	}
	links := eval[[]string](p, `[...document.querySelectorAll(".error-summary a")].map(a => a.getAttribute("href") + " " + a.textContent.trim())`)
	if len(links) != 3 || !strings.HasPrefix(links[0], "#f-title Tytuł:") || !strings.HasPrefix(links[1], "#f-starts_date Początek:") || !strings.HasPrefix(links[2], "#f-ends_date Koniec:") {
		t.Errorf("summary = %q, want title, start, end in that order, each naming its field", links)
	}
	if got := eval[string](p, `document.activeElement.className`); got != "error-summary" {
		t.Errorf("the focus is on %q, want the error summary", got)
	}
	p.checkPage("ui-form-errors-desktop")
	p.do("follow the second summary link", chromedp.Click(chromedp.CSS(`.error-summary li:nth-child(2) a`)))
	if got := eval[string](p, `document.activeElement.id`); got != "f-starts_date" {
		t.Errorf("after the summary link the focus is on %q, want #f-starts_date", got)
	}
	p.viewport(360, 780, true)
	p.submit("submit again on a phone", chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
	if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > 360 {
		t.Errorf("the form with errors is %dpx wide at 360px", sw)
	}
	p.checkPage("ui-form-errors-phone")
}
