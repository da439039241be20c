package browsertest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 14 item 2 and the menu of the programme's spaces: at 360 px the
// header is the logo, the search and one Menu button; the button opens the
// menu and the tools with the focus on the first item, ESC closes it and
// gives the focus back, a link inside works, the SHIFT+ALT shortcuts reach
// the folded items and the help dialog numbers the items as the menu orders
// them. At 1280 px there is no button and everything is shown, and without
// JavaScript everything is shown at 360 px too. The test never follows the
// links to /praktyki, /turnieje or /opiniowanie (other branches build them).
func TestUIPhoneMenu(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	p.loginForm(adminEmail)

	const jsShown = `(sel) => { const e = document.querySelector(sel); return !!e && getComputedStyle(e).display !== "none" && e.getClientRects().length > 0 }`
	shown := func(sel string) bool { return eval[bool](p, `(`+jsShown+`)(`+strconv.Quote(sel)+`)`) }
	const jsMenu = `JSON.stringify([...document.querySelectorAll(".main-nav a[href]")].map(a => a.getAttribute("href") + " " + a.textContent.trim()))`

	// 1280 px: the menu as before, with the programme's spaces; no button.
	if shown(".menu-button") || !shown("#site-nav") || !shown("#site-tools") {
		t.Errorf("at 1280px: button shown %v, menu shown %v, tools shown %v; want no button and both parts", shown(".menu-button"), shown("#site-nav"), shown("#site-tools"))
	}
	want := `["/ Forum","/notifications Powiadomienia","/newsletter Newsletter","/praktyki Dobre praktyki","/turnieje Turnieje","/opiniowanie Opiniowanie materiałów","/admin/users Administracja"]`
	if got := eval[string](p, jsMenu); got != want {
		t.Errorf("the admin's menu = %s, want %s", got, want)
	}
	if got := eval[string](p, `document.querySelectorAll(".main-nav a[href]")[3].getAttribute("aria-keyshortcuts")`); got != "Shift+Alt+4" {
		t.Errorf("Dobre praktyki's aria-keyshortcuts = %q", got)
	}
	// The shortcuts help numbers the items in the menu's order.
	rows := eval[[]string](p, `[...document.querySelectorAll("#shortcuts-dialog tbody tr")].map(r => [...r.cells].map(c => c.textContent.replace(/\s+/g, " ").trim()).join(" | ")).filter(r => /Alt \+ [1-8]/.test(r))`)
	if len(rows) != 7 || rows[0] != "Shift + Alt + 1 | menu: Forum" || rows[3] != "Shift + Alt + 4 | menu: Dobre praktyki" ||
		rows[5] != "Shift + Alt + 6 | menu: Opiniowanie materiałów" || rows[6] != "Shift + Alt + 7 | menu: Administracja" {
		t.Errorf("the shortcuts help lists the menu as %q", rows)
	}

	// 360 px: logo, search and Menu; the menu and the tools folded.
	p.viewport(360, 780, true)
	p.open("/newsletter")
	if !shown(".menu-button") || shown("#site-nav") || shown("#site-tools") || !shown("#site-search") {
		t.Fatalf("at 360px: button %v, menu %v, tools %v, search %v; want the button and the search only", shown(".menu-button"), shown("#site-nav"), shown("#site-tools"), shown("#site-search"))
	}
	if got := eval[string](p, `(b => [...b.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim() + "|" + b.getAttribute("aria-expanded") + "|" + b.getAttribute("aria-controls"))(document.querySelector(".menu-button"))`); got != "Menu|false|site-nav site-tools" {
		t.Errorf("the button: label|aria-expanded|aria-controls = %q", got)
	}
	// The unread count folds away with the menu, so the button repeats it.
	if got := eval[string](p, `(m => m.hidden ? "none" : m.textContent)(document.querySelector("[data-menu-unread]")) + "|" + ((document.querySelector(".main-nav [data-unread]") || {}).textContent || "none")`); got[:strings.Index(got, "|")] != got[strings.Index(got, "|")+1:] {
		t.Errorf("Menu button's unread count|menu's = %q, want the same", got)
	}
	if h := eval[float64](p, `document.querySelector("main").getBoundingClientRect().top`); h > 120 {
		t.Errorf("the folded header takes %.0fpx at 360px, want at most 120", h)
	}
	p.screenshot("ui-menu-closed-360")

	// The keyboard opens it: the focus goes to the first item.
	p.do("focus Menu", chromedp.Focus(chromedp.CSS(".menu-button")))
	p.press("Enter opens the menu", kb.Enter)
	p.holds("the menu open", `document.querySelector(".menu-button").getAttribute("aria-expanded") === "true"`)
	if !shown("#site-nav") || !shown("#site-tools") {
		t.Error("the opened menu does not show the menu and the tools")
	}
	if got := eval[string](p, `document.activeElement.getAttribute("href") || document.activeElement.outerHTML.slice(0, 80)`); got != "/" {
		t.Errorf("after opening, the focus is on %q, want the first menu item", got)
	}
	if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > 360 {
		t.Errorf("the opened menu is %dpx wide at 360px", sw)
	}
	p.checkPage("ui-menu-open-360")

	// ESC closes it from inside and the focus is back on the button.
	p.do("focus the third item", chromedp.Focus(chromedp.CSS(`.main-nav a[href="/newsletter"]`)))
	p.press("Escape closes the menu", kb.Escape)
	p.holds("the menu closed", `document.querySelector(".menu-button").getAttribute("aria-expanded") === "false"`)
	if shown("#site-nav") {
		t.Error("after ESC the menu is still shown")
	}
	if !eval[bool](p, `document.activeElement === document.querySelector(".menu-button")`) {
		t.Errorf("after ESC the focus is on %q, want the Menu button", eval[string](p, `document.activeElement.outerHTML.slice(0, 80)`))
	}

	// SHIFT+ALT+2 reaches a folded item.
	p.shiftAlt("2")
	p.holds("Shift+Alt+2 with the menu folded", `location.pathname === "/notifications" && document.readyState === "complete"`)

	// A click on a link inside the opened menu works.
	p.do("click Menu", chromedp.Click(chromedp.CSS(".menu-button")))
	p.holds("the menu open again", `document.querySelector(".menu-button").getAttribute("aria-expanded") === "true"`)
	if st := p.submit("follow Administracja", chromedp.Click(chromedp.CSS(`.main-nav a[href="/admin/users"]`))); st != 200 || p.path() != "/admin/users" {
		t.Errorf("the menu's Administracja link led to %s (%d)", p.path(), st)
	}

	// Without JavaScript the button is never shown and everything is.
	p.do("switch scripts off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	p.open("/")
	if shown(".menu-button") || !shown("#site-nav") || !shown("#site-tools") {
		t.Errorf("without JavaScript at 360px: button %v, menu %v, tools %v; want everything but the button", shown(".menu-button"), shown("#site-nav"), shown("#site-tools"))
	}
	if sw := eval[int](p, `document.scrollingElement.scrollWidth`); sw > 360 {
		t.Errorf("without JavaScript the page is %dpx wide at 360px", sw)
	}
	p.screenshot("ui-menu-nojs-360")
}

// Writing with the toolbar and a mention together (issue 14 items 4 and 9):
// text, bold from the toolbar, "@Kat…" chosen from the suggestions with the
// keyboard; the preview shows the bold word and the mention's link, and so
// does the published post.
func TestUIMentionWithToolbar(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	w := newLiveWorld(t, s)
	colleague := s.env.NewUser(model.RoleMember)
	s.env.AddMember(colleague.ID, w.group.ID, model.GroupMember)
	name := "Katarzyna Zawadzka-" + testkit.Unique()
	if _, err := s.env.DB.Exec(`UPDATE users SET display_name = $1 WHERE id = $2`, name, colleague.ID); err != nil {
		t.Fatal(err)
	}
	tid, _ := s.env.NewThread(w.group.ID, w.mod.ID, 1)
	p := s.newTab(t)
	p.loginAs(w.a)
	p.open(fmt.Sprintf("/t/%d", tid))

	p.do("focus the reply field", chromedp.Focus(chromedp.CSS("#f-body")))
	p.typeText("type a reply", "Pilne: dowozy")
	p.do("select a word", chromedp.Evaluate[chromedp.Void](`document.getElementById("f-body").setSelectionRange(7, 13)`))
	p.do("click Pogrubienie", chromedp.Click(chromedp.CSS(`.editor-bar [data-action="bold"]`)))
	p.do("caret to the end", chromedp.Focus(chromedp.CSS("#f-body")),
		chromedp.Evaluate[chromedp.Void](`(ta => ta.setSelectionRange(ta.value.length, ta.value.length))(document.getElementById("f-body"))`))
	p.typeText("start a mention", " – pytanie do @Kat")
	const jsOptions = `JSON.stringify([...document.querySelectorAll(".mention-list [role=option]")].map(o => (o.getAttribute("aria-selected") === "true" ? "*" : "") + o.textContent))`
	p.waitFor("the suggestions", `!document.querySelector(".mention-list").hidden && document.querySelectorAll(".mention-list [role=option]").length > 0`, jsOptions)
	// Down arrow until she is the active option (the first one may be someone else).
	for i := 0; i < 6 && !strings.Contains(eval[string](p, `(document.querySelector(".mention-list [aria-selected=true]") || {}).textContent || ""`), name); i++ {
		p.press("ArrowDown", kb.ArrowDown)
	}
	p.press("Enter chooses", kb.Enter)
	want := "Pilne: **dowozy** – pytanie do @" + name + " "
	p.waitFor("the name inserted", `document.getElementById("f-body").value === `+strconv.Quote(want), `document.getElementById("f-body").value + " " + `+jsOptions)

	link := fmt.Sprintf(`a[href="/u/%d"]`, colleague.ID)
	p.do("open the preview", chromedp.Click(chromedp.CSS(`.editor-bar [data-action="preview"]`)))
	p.waitFor("the preview to show the bold word and the mention link",
		`(pv => !!pv && pv.innerHTML.includes("<strong>dowozy</strong>") && (pv.querySelector(`+strconv.Quote(link)+`) || {}).textContent === `+strconv.Quote("@"+name)+`)(document.getElementById("f-body-preview"))`,
		`(document.getElementById("f-body-preview") || {}).innerHTML`)
	p.checkPage("ui-mention-toolbar-preview")

	if st := p.submit("send", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/t/%d/posts"] button[type="submit"]`, tid)))); st != 200 {
		t.Fatalf("sending answered %d", st)
	}
	got := eval[string](p, `(b => b ? b.innerHTML : "")([...document.querySelectorAll(".post-body:not(.editor-preview)")].pop())`)
	if !strings.Contains(got, "<strong>dowozy</strong>") || !strings.Contains(got, fmt.Sprintf(`href="/u/%d"`, colleague.ID)) || !strings.Contains(got, "@"+name+"</a>") {
		t.Errorf("the published post = %q, want the bold word and the mention link", got)
	}
}
