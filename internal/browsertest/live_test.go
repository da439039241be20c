package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The live pages (issue 5 items 9–10, issue 4 item 8) driven in real browsers:
// two people in two separate browser contexts chat in a live meeting; open
// thread and group pages learn about replies and moderation at once. The
// scripts' debug handle window.__forumLive (js/live.js) gives the tests the
// page's socket, so a test can drop the connection.

// liveWorld is a fresh group with a moderator and two members with readable
// names (they show in the screenshots), and API clients for each.
type liveWorld struct {
	group        model.Group
	mod, a, b    testkit.User
	modAPI, bAPI *testkit.Client
}

func newLiveWorld(t *testing.T, s *suite) *liveWorld {
	t.Helper()
	env := s.env
	w := &liveWorld{group: env.NewGroup(model.KindRural)}
	person := func(name, role string) testkit.User {
		u := env.NewUser(model.RoleMember)
		if _, err := env.DB.Exec(`UPDATE users SET display_name = $1 WHERE id = $2`, name, u.ID); err != nil {
			t.Fatal(err)
		}
		u.Name = name
		env.AddMember(u.ID, w.group.ID, role)
		return u
	}
	w.mod = person("Marek Wiśniewski", model.GroupModerator)
	w.a = person("Anna Kowalska", model.GroupMember)
	w.b = person("Jan Nowak", model.GroupMember)
	w.modAPI, w.bAPI = env.Login(w.mod), env.Login(w.b)
	return w
}

// liveMeeting creates a meeting in the group and starts it.
func (w *liveWorld) liveMeeting(t *testing.T) int64 {
	t.Helper()
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute)
	r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{
		"title": "Sesja 6: Czat na żywo", "starts_at": start, "ends_at": start.Add(5 * time.Hour),
		"location": "Online", "agenda": "1. Powitanie\n2. Pytania uczestników"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", r.Status, r.Body)
	}
	var m struct {
		ID int64 `json:"id"`
	}
	r.Decode(&m)
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil); r.Status != http.StatusOK {
		t.Fatalf("start meeting: %d %s", r.Status, r.Body)
	}
	return m.ID
}

// loginAs logs in through the login form with a fixture user's password.
func (p *tab) loginAs(u testkit.User) {
	p.t.Helper()
	if st := p.open("/login"); st != 200 {
		p.t.Fatalf("GET /login = %d", st)
	}
	p.do("type the credentials of "+u.Email,
		chromedp.SendKeys(chromedp.CSS("#f-email"), u.Email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), u.Password))
	st := p.submit("submit the login form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	if got := p.path(); st != 200 || got != "/" {
		p.t.Fatalf("login as %s: landed on %s with status %d", u.Email, got, st)
	}
}

// waitFor polls a JavaScript condition until it holds (at most 20 s); on a
// timeout it fails the test, showing the value of the diagnostic expression.
func (p *tab) waitFor(what, cond, diag string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 25*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")",
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		got := "?"
		if diag != "" {
			got = eval[string](p, diag)
		}
		p.t.Fatalf("waiting for %s: %v (now: %s)", what, err, got)
	}
}

// typeText types text into the focused field the way a keyboard layout or an
// on-screen keyboard commits it (Input.insertText): chromedp's key events drop
// some Polish letters (ą, ć). Enter and Shift+Enter are sent as real keys.
func (p *tab) typeText(what, text string) {
	p.t.Helper()
	p.do(what, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// Snippets of page state the tests read.
const (
	jsLiveState   = `((document.getElementById("live-state") || {dataset: {}}).dataset.state || "")`
	jsChatTexts   = `JSON.stringify([...document.querySelectorAll("#chat-log li")].map(li => (li.dataset.seq || "-") + ":" + (li.dataset.state || "") + ":" + li.querySelector(".post-body").textContent.trim()))`
	jsPresence    = `(document.getElementById("presence-h").textContent + " " + document.getElementById("presence-list").textContent)`
	jsAnnounced   = `(document.getElementById("chat-announce").textContent)`
	jsLiveNotices = `([...document.querySelectorAll(".live-notices .notice")].map(n => n.textContent.trim()).join(" | "))`
)

// countText counts the chat messages whose body is exactly text.
func countText(p *tab, text string) int {
	p.t.Helper()
	return eval[int](p, `[...document.querySelectorAll("#chat-log li .post-body")].filter(b => b.textContent.trim() === `+strconv.Quote(text)+`).length`)
}

// Two people chat in a live meeting: A types and sends with the keyboard
// alone, B sees the message without reloading and is told by the live region;
// A's message goes pending → sent; a burst over the rate limit is refused with
// a clear text and sent again by itself; presence and the connection state
// show; the page passes axe at desktop, 200 % zoom and phone widths; ending
// the meeting through the API flips both pages to a read-only archive.
func TestLiveMeetingChat(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	id := w.liveMeeting(t)
	path := "/m/" + strconv.FormatInt(id, 10)

	pa, pb := s.newTab(t), s.newTab(t)
	pa.loginAs(w.a)
	pb.loginAs(w.b)
	for _, p := range []*tab{pa, pb} {
		if st := p.open(path); st != 200 {
			t.Fatalf("GET %s = %d", path, st)
		}
	}
	for _, p := range []*tab{pa, pb} {
		p.waitFor("the connection state to say connected", jsLiveState+` === "open"`, jsLiveState)
		p.waitFor("presence to list both people", `/\(2\)/.test(`+jsPresence+`)`, jsPresence)
	}
	if got := eval[string](pa, `document.getElementById("live-state").textContent`); got != "Połączono" {
		t.Errorf("connection state text = %q", got)
	}
	if got := eval[string](pa, jsPresence); !strings.Contains(got, "W pokoju (2)") || !strings.Contains(got, "Anna Kowalska") || !strings.Contains(got, "Jan Nowak") {
		t.Errorf("presence = %q, want W pokoju (2) with both names", got)
	}
	if got := eval[string](pa, `document.getElementById("live-state").getAttribute("role")`); got != "status" {
		t.Errorf("connection state role = %q, want status", got)
	}

	// Record every state A's own message item passes through.
	pa.do("watch the message states", chromedp.Evaluate[chromedp.Void](`window.__states = [];
		new MutationObserver(() => {
			for (const li of document.querySelectorAll("#chat-log li[data-client-id]")) {
				const last = window.__states[window.__states.length - 1];
				if (last !== li.dataset.state) window.__states.push(li.dataset.state);
			}
		}).observe(document.getElementById("chat-log"), {subtree: true, childList: true, attributes: true}); true`))

	// Keyboard only: focus the field, type, Enter.
	const first = "Dzień dobry, tu Anna z Morawicy."
	pa.do("focus the message field", chromedp.Focus(chromedp.CSS("#f-body")))
	pa.typeText("type a message", first)
	pa.press("press Enter", kb.Enter)
	pa.waitFor("A's message to be sent", `!!document.querySelector('#chat-log li[data-client-id][data-state="sent"]')`, jsChatTexts)
	if got := eval[[]string](pa, `window.__states`); len(got) < 2 || got[0] != "pending" || got[len(got)-1] != "sent" {
		t.Errorf("A's message went through the states %q, want pending … sent", got)
	}
	if got := eval[string](pa, `document.activeElement.id + "|" + document.activeElement.value`); got != "f-body|" {
		t.Errorf("after Enter the focus|value is %q, want the emptied message field still focused", got)
	}
	pb.waitFor("B to see A's message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("tu Anna z Morawicy"))`, jsChatTexts)
	pb.waitFor("B's live region to announce it", jsAnnounced+` === "Anna Kowalska: nowa wiadomość"`, jsAnnounced)
	if got := eval[string](pb, `document.getElementById("chat-announce").getAttribute("aria-live")`); got != "polite" {
		t.Errorf("announcer aria-live = %q, want polite", got)
	}
	// A is not told about A's own message.
	if got := eval[string](pa, jsAnnounced); strings.Contains(got, "Anna Kowalska") {
		t.Errorf("A's own message was announced to A: %q", got)
	}

	// Shift+Enter is a new line, Enter sends; B answers the same way.
	pb.do("focus B's message field", chromedp.Focus(chromedp.CSS("#f-body")))
	pb.typeText("type the first line", "Witam, mam pytanie:")
	pb.do("press Shift+Enter", chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(kb.ModifierShift)))
	if v := eval[string](pb, `document.getElementById("f-body").value`); v != "Witam, mam pytanie:\n" {
		t.Errorf("after Shift+Enter the field holds %q, want the line and a newline (not sent)", v)
	}
	pb.typeText("type the second line", "czy budżet jest gotowy?")
	pb.press("press Enter", kb.Enter)
	pa.waitFor("A to see B's two-line message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("mam pytanie:") && b.textContent.includes("czy budżet"))`, jsChatTexts)
	pa.waitFor("A's live region to announce B", jsAnnounced+` === "Jan Nowak: nowa wiadomość"`, jsAnnounced)
	for _, p := range []*tab{pa, pb} {
		if n := countText(p, first); n != 1 {
			t.Errorf("A's first message is shown %d times, want once (%s)", n, eval[string](p, jsChatTexts))
		}
	}
	// Seqs in the DOM are strictly increasing: in order, none twice.
	for _, p := range []*tab{pa, pb} {
		if !eval[bool](p, `(() => { const s = [...document.querySelectorAll("#chat-log li[data-seq]")].map(li => +li.dataset.seq); return s.every((v, i) => i === 0 || v > s[i-1]) })()`) {
			t.Errorf("chat log out of seq order: %s", eval[string](p, jsChatTexts))
		}
	}

	pa.checkPage("live-meeting-a")
	pb.checkPage("live-meeting-b")

	// 200 % zoom on a 1280 px screen is a 640 px wide layout; then a phone.
	for _, vp := range []struct {
		name string
		w, h int64
	}{{"live-meeting-zoom200", 640, 900}, {"live-meeting-mobile", mobileWidth, mobileHeight}} {
		pa.viewport(vp.w, vp.h, vp.w == mobileWidth)
		if sw := eval[int](pa, `document.documentElement.scrollWidth`); sw > int(vp.w) {
			t.Errorf("%s: the page is %dpx wide at a %dpx viewport (scrolls sideways)", vp.name, sw, vp.w)
		}
		pa.checkPage(vp.name)
	}
	pa.viewport(desktopWidth, desktopHeight, false)
	// High contrast, then back.
	pa.do("click Kontrast", chromedp.Click(chromedp.CSS(`[data-a11y-contrast]`)))
	pa.checkPage("live-meeting-contrast")
	pa.do("click Kontrast again", chromedp.Click(chromedp.CSS(`[data-a11y-contrast]`)))

	// Over the rate limit (10 messages in 10 s): the refused message shows
	// why, keeps its text, and is sent again by itself once allowed.
	pa.do("send a burst of 12 messages", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.getElementById("chat-form"), ta = document.getElementById("f-body");
		for (let i = 1; i <= 12; i++) { ta.value = "Seria " + i; f.requestSubmit(); }
		return true })()`))
	pa.waitFor("a refused message to say why", `[...document.querySelectorAll('#chat-log li[data-state="failed"]')].some(li => li.textContent.includes("Za dużo wiadomości naraz") && li.textContent.includes("Seria"))`, jsChatTexts)
	pa.screenshot("live-meeting-rate-limited")
	if probs := pa.takeProblems(); len(probs) > 0 {
		t.Errorf("browser errors during the burst: %v", probs)
	}
	pa.waitFor("every message of the burst to be sent in the end", `document.querySelectorAll('#chat-log li[data-client-id]:not([data-state="sent"])').length === 0`, jsChatTexts)
	pb.waitFor("B to see the whole burst", `[...document.querySelectorAll("#chat-log li .post-body")].filter(b => /^Seria \d+$/.test(b.textContent.trim())).length === 12`, jsChatTexts)
	for i := 1; i <= 12; i++ {
		if n := countText(pb, "Seria "+strconv.Itoa(i)); n != 1 {
			t.Errorf("B shows %q %d times, want once", "Seria "+strconv.Itoa(i), n)
		}
	}

	// Without JavaScript the page is the plain archive with a working form:
	// nothing live shows, the message posts and reloads, and the live page
	// of the other person receives it.
	pn := s.newTab(t)
	pn.do("disable scripts", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	pn.loginAs(w.b)
	if st := pn.open(path); st != 200 {
		t.Fatalf("GET %s without scripts = %d", path, st)
	}
	if got := eval[string](pn, `["live-state", "presence", "chat-keys"].map(id => getComputedStyle(document.getElementById(id)).display).join(",")`); got != "none,none,none" {
		t.Errorf("without scripts the live parts' display is %q, want none,none,none", got)
	}
	pn.do("type without scripts", chromedp.SendKeys(chromedp.CSS("#f-body"), "Bez JavaScriptu"))
	if st := pn.submit("send without scripts", chromedp.Click(chromedp.CSS(`#chat-form button[type="submit"]`))); st != 200 {
		t.Errorf("sending without scripts ended with %d", st)
	}
	if n := countText(pn, "Bez JavaScriptu"); n != 1 {
		t.Errorf("after the plain form post the message is shown %d times, want once", n)
	}
	pa.waitFor("A to receive the message sent without scripts", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.trim() === "Bez JavaScriptu")`, jsChatTexts)
	// (axe needs scripts: the page's accessibility is checked above with them.)
	pn.screenshot("live-meeting-nojs")

	// The moderator ends the meeting through the API: both pages flip.
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/end", id), nil); r.Status != http.StatusOK {
		t.Fatalf("end meeting: %d %s", r.Status, r.Body)
	}
	for _, p := range []*tab{pa, pb} {
		p.waitFor("the status badge to say ended", `document.getElementById("meeting-status").classList.contains("status-ended")`,
			`document.getElementById("meeting-status").outerHTML`)
		if got := eval[string](p, `document.getElementById("meeting-status").textContent`); got != "Zakończone" {
			t.Errorf("status badge = %q, want Zakończone", got)
		}
		if !eval[bool](p, `(() => { const f = document.getElementById("chat-form"), b = f.querySelector("button");
				return getComputedStyle(f).display === "none" || (b.disabled && document.getElementById("f-body").readOnly) })()`) {
			t.Error("the send form is still usable after the meeting ended")
		}
		if got := eval[string](p, `(() => { const n = document.getElementById("chat-closed"); return n.hidden ? "" : n.textContent })()`); !strings.Contains(got, "tylko do odczytu") {
			t.Errorf("read-only note = %q", got)
		}
		if got := eval[string](p, `document.getElementById("chat-h").textContent`); got != "Zapis czatu" {
			t.Errorf("chat heading after the end = %q, want Zapis czatu", got)
		}
	}
	pb.checkPage("live-meeting-ended")
}

// A dropped connection: while A's page is offline, B sends a message and A
// types one. After A reconnects, B's message appears exactly once (replayed
// from since_seq) and A's pending message is sent again with the same
// client_id and stored exactly once.
func TestLiveChatReconnect(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	id := w.liveMeeting(t)
	path := "/m/" + strconv.FormatInt(id, 10)

	pa, pb := s.newTab(t), s.newTab(t)
	pa.loginAs(w.a)
	pb.loginAs(w.b)
	for _, p := range []*tab{pa, pb} {
		p.open(path)
		p.waitFor("connected", jsLiveState+` === "open"`, jsLiveState)
	}
	pb.do("focus B's field", chromedp.Focus(chromedp.CSS("#f-body")))
	pb.typeText("type", "Pierwsza wiadomość")
	pb.press("send", kb.Enter)
	pa.waitFor("A to see the first message", `document.querySelectorAll("#chat-log li[data-seq]").length === 1`, jsChatTexts)

	// Hold A's page offline: while __blockWS is set, every new WebSocket asks
	// for an address that is no websocket (the handshake fails and js/live.js
	// keeps retrying with backoff), then drop the current socket through the
	// debug handle.
	pa.do("cut A's connection", chromedp.Evaluate[chromedp.Void](`(() => {
		const Real = window.WebSocket;
		window.__blockWS = true;
		window.WebSocket = class extends Real {
			constructor(url) { super(window.__blockWS ? url.replace(/\/ws$/, "/no-websocket-here") : url); }
		};
		window.__forumLive.socket.close();
		return true })()`))
	pa.waitFor("A to show the reconnecting state", jsLiveState+` === "reconnecting"`, jsLiveState)
	if got := eval[string](pa, `document.getElementById("live-state").textContent`); got != "Łączenie ponownie…" {
		t.Errorf("state while offline = %q", got)
	}
	pa.screenshot("live-meeting-reconnecting")

	// B writes while A is away; A writes too (it stays pending).
	pb.typeText("type", "Druga wiadomość, gdy Anny nie ma")
	pb.press("send", kb.Enter)
	pb.waitFor("B's second message to be sent", `document.querySelectorAll('#chat-log li[data-state="sent"]').length === 2`, jsChatTexts)
	pa.do("focus A's field", chromedp.Focus(chromedp.CSS("#f-body")))
	pa.typeText("type", "Anna pisze bez połączenia")
	pa.press("send", kb.Enter)
	if got := eval[string](pa, `(document.querySelector("#chat-log li[data-client-id]") || {dataset: {}}).dataset.state || ""`); got != "pending" {
		t.Errorf("A's message while offline is %q, want pending", got)
	}
	if got := eval[string](pa, `document.querySelector("#chat-log li[data-client-id] .chat-state").textContent`); got != "Wysyłanie…" {
		t.Errorf("pending text = %q, want Wysyłanie…", got)
	}
	clientID := eval[string](pa, `document.querySelector("#chat-log li[data-client-id]").dataset.clientId`)
	if n := countText(pa, "Druga wiadomość, gdy Anny nie ma"); n != 0 {
		t.Fatalf("A got B's message while offline (%d): the connection was not cut", n)
	}

	// Back online: the page reconnects, resubscribes from its last seq and
	// sends its pending message again.
	pa.do("let A reconnect", chromedp.Evaluate[chromedp.Void](`window.__blockWS = false; window.dispatchEvent(new Event("online")); true`))
	pa.waitFor("A to reconnect", jsLiveState+` === "open"`, jsLiveState+` + " " + JSON.stringify(window.__forumLive)`)
	pa.waitFor("B's message to reach A", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("gdy Anny nie ma"))`, jsChatTexts)
	pa.waitFor("A's pending message to be sent", `document.querySelectorAll('#chat-log li[data-client-id]:not([data-state="sent"])').length === 0`, jsChatTexts)
	pb.waitFor("B to get A's message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("Anna pisze bez"))`, jsChatTexts)
	for _, p := range []*tab{pa, pb} {
		for _, text := range []string{"Pierwsza wiadomość", "Druga wiadomość, gdy Anny nie ma", "Anna pisze bez połączenia"} {
			if n := countText(p, text); n != 1 {
				t.Errorf("%q shown %d times, want once: %s", text, n, eval[string](p, jsChatTexts))
			}
		}
	}
	if got := eval[string](pa, `document.querySelector('#chat-log li[data-client-id]').dataset.clientId`); got != clientID {
		t.Errorf("A's message has client_id %s after the resend, want the same %s", got, clientID)
	}
	// The archive holds each message once.
	var stored int
	if err := s.env.DB.Get(&stored, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if stored != 3 {
		t.Errorf("%d messages stored, want 3", stored)
	}
	// The ack is lost: the connection drops right after a chat.send leaves.
	// The server stored the message; after the reconnect the page must show
	// it once (replayed, or re-sent with the same client_id and answered with
	// the same seq), and the archive must hold it once.
	pa.do("drop the connection after the next send", chromedp.Evaluate[chromedp.Void](`(() => {
		const orig = window.WebSocket.prototype.send;
		window.__dropAfterSend = true;
		window.WebSocket.prototype.send = function (data) {
			orig.call(this, data);
			if (window.__dropAfterSend && String(data).includes('"chat.send"')) { window.__dropAfterSend = false; this.close(); }
		};
		return true })()`))
	pa.typeText("type", "Wiadomość bez potwierdzenia")
	pa.press("send", kb.Enter)
	pa.waitFor("the message without an ack to end up sent", `!window.__dropAfterSend && `+jsLiveState+` === "open" && document.querySelectorAll('#chat-log li[data-client-id]:not([data-state="sent"])').length === 0`, jsChatTexts)
	pb.waitFor("B to get it", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.includes("bez potwierdzenia"))`, jsChatTexts)
	for _, p := range []*tab{pa, pb} {
		if n := countText(p, "Wiadomość bez potwierdzenia"); n != 1 {
			t.Errorf("the message without an ack is shown %d times, want once: %s", n, eval[string](p, jsChatTexts))
		}
	}
	if err := s.env.DB.Get(&stored, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if stored != 4 {
		t.Errorf("%d messages stored, want 4", stored)
	}
	// The failed connections to the blocked address are expected console noise.
	pa.takeProblems()
}

// Open thread and group pages: replies by someone else through the API show
// as "N nowych wpisów" with Polish plural forms and a working link; a
// moderator's lock and merge show at once and close the reply form; the
// group page offers a refresh when a thread is opened.
func TestLiveThreadAndGroup(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	create := func(title string) int64 {
		r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID), map[string]any{
			"title": title, "body": "Proszę o opinie do projektu uchwały."})
		if r.Status != http.StatusCreated {
			t.Fatalf("create thread: %d %s", r.Status, r.Body)
		}
		var th struct {
			ID int64 `json:"id"`
		}
		r.Decode(&th)
		return th.ID
	}
	tid := create("Projekt uchwały w sprawie sieci szkół")
	reply := func(n int) (last int64) {
		for i := 0; i < n; i++ {
			r := w.bAPI.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tid), map[string]any{"body": "Odpowiedź z Lubicza nr " + strconv.Itoa(i+1)})
			if r.Status != http.StatusCreated {
				t.Fatalf("reply: %d %s", r.Status, r.Body)
			}
			var p struct {
				ID int64 `json:"id"`
			}
			r.Decode(&p)
			last = p.ID
		}
		return last
	}

	pa := s.newTab(t)
	pa.loginAs(w.a)
	tpath := "/t/" + strconv.FormatInt(tid, 10)
	pa.open(tpath)
	pa.waitFor("the thread page to follow the thread", `"subscribed" in document.getElementById("thread-live").dataset`, jsLiveNotices)

	for _, step := range []struct {
		replies int
		want    string
	}{{1, "1 nowy wpis"}, {1, "2 nowe wpisy"}, {3, "5 nowych wpisów"}} {
		last := reply(step.replies)
		pa.waitFor("the notice "+step.want, jsLiveNotices+`.startsWith(`+strconv.Quote(step.want+" ")+`)`, jsLiveNotices)
		href := eval[string](pa, `document.querySelector('.live-notices .notice[data-kind="posts"] a').getAttribute("href")`)
		if want := "/p/" + strconv.FormatInt(last, 10); href != want {
			t.Errorf("new-posts link = %q, want %q", href, want)
		}
	}
	if got := eval[string](pa, `document.getElementById("thread-live").getAttribute("role")`); got != "status" {
		t.Errorf("notice box role = %q, want status", got)
	}
	pa.checkPage("live-thread-new-posts")

	// The moderator locks the thread: the notice shows, the form goes.
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/lock", tid), nil); r.Status != http.StatusOK {
		t.Fatalf("lock: %d %s", r.Status, r.Body)
	}
	pa.waitFor("the locked notice", jsLiveNotices+`.includes("Moderator zamknął ten wątek")`, jsLiveNotices)
	if !eval[bool](pa, `document.querySelector("#composer form").hidden && !document.getElementById("composer-closed").hidden`) {
		t.Error("the reply form is still shown in the locked thread")
	}
	pa.checkPage("live-thread-locked")
	// The new-posts link works: it leads to the newest post.
	pa.open(eval[string](pa, `document.querySelector('.live-notices .notice[data-kind="posts"] a').getAttribute("href")`))
	if !eval[bool](pa, `!!document.querySelector(location.hash) && location.hash.startsWith("#p")`) {
		t.Errorf("the new-posts link led to %s without its post", eval[string](pa, `location.href`))
	}

	// Merged into another thread: the link leads there.
	target := create("Sieć szkół – wątek zbiorczy")
	pa.open(tpath)
	pa.waitFor("the thread page to follow the thread again", `"subscribed" in document.getElementById("thread-live").dataset`, jsLiveNotices)
	if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/merge", tid), map[string]any{"into_thread_id": target, "reason": "duplikat"}); r.Status != http.StatusOK {
		t.Fatalf("merge: %d %s", r.Status, r.Body)
	}
	pa.waitFor("the merged notice", jsLiveNotices+`.includes("połączył ten wątek")`, jsLiveNotices)
	if got := eval[string](pa, `document.querySelector('.live-notices .notice[data-kind="merged"] a').getAttribute("href")`); got != "/t/"+strconv.FormatInt(target, 10) {
		t.Errorf("merged link = %q, want /t/%d", got, target)
	}

	// Hidden, and moved to a group A is not in: each says so once, with no
	// second "no longer available" notice when A loses access.
	for _, c := range []struct {
		action string
		body   map[string]any
		want   string
	}{
		{"hide", map[string]any{"reason": "do wyjaśnienia"}, "Moderator ukrył ten wątek."},
		// A is not in the new group: told so, and not sent to a page they may not read.
		{"move", map[string]any{"group_id": s.env.NewGroup(model.KindUrban).ID, "reason": "inna grupa"}, "Moderator przeniósł ten wątek do grupy, do której nie należysz."},
	} {
		id := create("Wątek do akcji " + c.action)
		if c.action == "move" {
			s.env.AddMember(w.mod.ID, c.body["group_id"].(int64), model.GroupModerator)
		}
		pa.open("/t/" + strconv.FormatInt(id, 10))
		pa.waitFor("the thread page to follow thread "+c.action, `"subscribed" in document.getElementById("thread-live").dataset`, jsLiveNotices)
		if r := w.modAPI.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/%s", id, c.action), c.body); r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.action, r.Status, r.Body)
		}
		pa.waitFor("the "+c.action+" notice", jsLiveNotices+` === `+strconv.Quote(c.want), jsLiveNotices)
		if c.action == "hide" && !eval[bool](pa, `document.querySelector("#composer form").hidden`) {
			t.Error("the reply form is still shown in the hidden thread")
		}
		// Losing access (the server drops the topic) adds no second notice.
		time.Sleep(500 * time.Millisecond)
		if got := eval[string](pa, jsLiveNotices); got != c.want {
			t.Errorf("after %s the notices are %q, want only %q", c.action, got, c.want)
		}
	}

	// The group page: a new thread by someone else offers a refresh.
	gpath := "/g/" + strconv.FormatInt(w.group.ID, 10)
	pa.open(gpath)
	pa.waitFor("the group page to follow the group", `"subscribed" in document.getElementById("group-live").dataset`, `document.getElementById("group-live").outerHTML`)
	create("Nowy wątek o dowozach")
	pa.waitFor("the group activity notice", `document.querySelector("#group-live .notice") !== null`, `document.getElementById("group-live").outerHTML`)
	if got := eval[string](pa, `document.querySelector("#group-live .notice").textContent`); got != "Nowa aktywność w grupie. Odśwież listę wątków" {
		t.Errorf("group notice = %q", got)
	}
	if got := eval[string](pa, `document.querySelector("#group-live a").getAttribute("href")`); got != gpath {
		t.Errorf("group refresh link = %q, want %q", got, gpath)
	}
	pa.checkPage("live-group-activity")
}

// Two people on two `serve` instances of one database, as behind a load
// balancer: each browser talks only to its own instance, and both see each
// other in the room and each other's messages at once, carried between the
// instances by PostgreSQL NOTIFY (SPEC §5).
func TestLiveChatAcrossTwoInstances(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	other := testkit.Start(t, dbURL) // the second instance, same database
	w := newLiveWorld(t, s)
	id := w.liveMeeting(t)
	path := "/m/" + strconv.FormatInt(id, 10)

	pa, pb := s.newTab(t), s.newTab(t)
	pb.base = other.URL
	pa.loginAs(w.a)
	pb.loginAs(w.b)
	for _, p := range []*tab{pa, pb} {
		if st := p.open(path); st != 200 {
			t.Fatalf("GET %s%s = %d", p.base, path, st)
		}
	}
	for _, p := range []*tab{pa, pb} {
		p.waitFor("the connection state to say connected", jsLiveState+` === "open"`, jsLiveState)
		p.waitFor("presence to list both people, one per instance", `/\(2\)/.test(`+jsPresence+`)`, jsPresence)
	}
	if got := eval[string](pb, `location.host`); "http://"+got != other.URL {
		t.Fatalf("B's page is on %s, want the second instance %s", got, other.URL)
	}

	const fromA = "Anna na pierwszej instancji: zaczynamy?"
	pa.do("focus A's message field", chromedp.Focus(chromedp.CSS("#f-body")))
	pa.typeText("type A's message", fromA)
	pa.press("press Enter", kb.Enter)
	pa.waitFor("A's message to be sent", `!!document.querySelector('#chat-log li[data-client-id][data-state="sent"]')`, jsChatTexts)
	pb.waitFor("B, on the other instance, to see A's message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.trim() === `+strconv.Quote(fromA)+`)`, jsChatTexts)
	pb.waitFor("B's live region to announce it", jsAnnounced+` === "Anna Kowalska: nowa wiadomość"`, jsAnnounced)

	const fromB = "Jan na drugiej instancji: tak, słyszę."
	pb.do("focus B's message field", chromedp.Focus(chromedp.CSS("#f-body")))
	pb.typeText("type B's message", fromB)
	pb.press("press Enter", kb.Enter)
	pa.waitFor("A to see B's message", `[...document.querySelectorAll("#chat-log li .post-body")].some(b => b.textContent.trim() === `+strconv.Quote(fromB)+`)`, jsChatTexts)
	// A may see it before B's own page has taken its acknowledgement (B's
	// browser is busy too): compare once both pages have settled.
	pb.waitFor("B's message to be sent", `document.querySelectorAll('#chat-log li[data-seq]').length === 2 && !document.querySelector('#chat-log li[data-client-id]:not([data-state="sent"])')`, jsChatTexts)

	// Both pages show both messages once each, in the same seq order.
	order := `JSON.stringify([...document.querySelectorAll("#chat-log li[data-seq]")].map(li => li.dataset.seq + ":" + li.querySelector(".post-body").textContent.trim()))`
	if a, b := eval[string](pa, order), eval[string](pb, order); a != b || countText(pa, fromA) != 1 || countText(pb, fromB) != 1 {
		t.Errorf("the two instances' pages differ or repeat a message:\n A: %s\n B: %s", a, b)
	}
	pa.checkPage("live-two-instances-a")
	pb.checkPage("live-two-instances-b")
}

// A socket that holds a renewed session's old token is ended by the server
// (4001) at the next revocation, although the reader is still logged in: the
// page asks the API and comes back instead of telling them to log in again.
// Once the account is really disabled, the page says so.
func TestLiveSessionRenewedOrEnded(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	id := w.liveMeeting(t)
	admin := s.env.Login(s.env.NewUser(model.RoleAdmin))
	other := s.env.NewGroup(model.KindCounty)
	member := func(role string) {
		t.Helper()
		if r := admin.JSON("PUT", fmt.Sprintf("/api/v1/groups/%d/members/%d", other.ID, w.a.ID), map[string]string{"role": role}); r.Status != http.StatusOK && r.Status != http.StatusCreated {
			t.Fatalf("membership %s: %d %s", role, r.Status, r.Body)
		}
	}

	pa := s.newTab(t)
	pa.loginAs(w.a)
	pa.open("/m/" + strconv.FormatInt(id, 10))
	pa.waitFor("connected", jsLiveState+` === "open"`, jsLiveState)
	// A membership change marks A's session for a new token; the next request
	// (this fetch) gets it, and the open socket keeps the old one.
	member(model.GroupMember)
	pa.do("renew the session's token", chromedp.Evaluate[chromedp.Void](`(async () => {
		window.__firstSocket = window.__forumLive.socket;
		await fetch("/api/v1/me", {credentials: "same-origin", headers: {Accept: "application/json"}});
		return true })()`, chromedp.EvalAwaitPromise))
	// The next revocation re-checks the socket's old token: 4001.
	member(model.GroupObserver)
	pa.waitFor("the page to come back on a new socket", `window.__forumLive.socket && window.__forumLive.socket !== window.__firstSocket && `+jsLiveState+` === "open"`,
		jsLiveState)

	if r := admin.JSON("PATCH", fmt.Sprintf("/api/v1/users/%d", w.a.ID), map[string]any{"disabled": true}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	pa.waitFor("the page to say the session ended", jsLiveState+` === "ended"`, jsLiveState)
	pa.takeProblems()
}
