package browsertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
)

// narrowWidth is the smallest phone the forum promises to work on.
const narrowWidth, narrowHeight = 360, 740

// My account (/konto), its forms with errors, the deletion page, the
// confirmation of a logout, and a profile (/u/{id}): axe-clean at 1280 and
// 360 px, with no sideways scrolling on the phone.
func TestAccountAndProfilePages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	env := s.env
	g := env.NewGroup(model.KindRural)
	me, colleague := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(me.ID, g.ID, model.GroupMember)
	env.AddMember(colleague.ID, g.ID, model.GroupMember)
	tid, _ := env.NewThread(g.ID, colleague.ID, 3)
	// A second session, so the list has something to log out.
	env.Login(me)

	p := s.newTab(t)
	p.loginAs(me)

	// The name in the header leads to the account page.
	if href := eval[string](p, `(document.querySelector(".whoami a") || {}).pathname || ""`); href != "/konto" {
		t.Errorf("the header's name links to %q, want /konto", href)
	}
	if st := p.open("/konto"); st != 200 {
		t.Fatalf("GET /konto = %d", st)
	}
	if n := eval[int](p, `document.querySelectorAll(".session-list .session").length`); n != 2 {
		t.Errorf("%d sessions listed, want 2", n)
	}
	p.checkPage("account")

	// An invalid name: the error summary and the field's message pass too.
	p.do("clear the name", chromedp.SetValue(chromedp.CSS("#f-name"), "X"))
	if st := p.submit("save the profile", chromedp.Click(chromedp.CSS(`form[action="/konto/profile"] button[type="submit"]`))); st != 400 {
		t.Errorf("invalid profile = %d, want 400", st)
	}
	if !strings.Contains(eval[string](p, `document.querySelector(".error-summary").textContent`), "Imię") &&
		eval[string](p, `document.querySelector("#f-name").getAttribute("aria-invalid")`) != "true" {
		t.Error("the invalid name is not marked")
	}
	p.checkPage("account-invalid")

	// The phone: every section fits in 360 px.
	p.viewport(narrowWidth, narrowHeight, true)
	p.open("/konto")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > narrowWidth {
		t.Errorf("/konto at %dpx scrolls sideways: the page is %dpx wide", narrowWidth, w)
	}
	p.checkPage("account-mobile")

	// "Wyloguj" on the other session asks first.
	end := eval[string](p, `[...document.querySelectorAll(".session")].filter(s => !s.querySelector(".badge")).map(s => s.querySelector("a").pathname)[0] || ""`)
	if end == "" {
		t.Fatal("no logout link for the other session")
	}
	if st := p.open(end); st != 200 {
		t.Fatalf("GET %s = %d", end, st)
	}
	p.checkPage("account-session-confirm-mobile")
	if st := p.submit("confirm the logout", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || p.path() != "/konto" {
		t.Errorf("after the logout: %s (%d)", p.path(), st)
	}
	if n := eval[int](p, `document.querySelectorAll(".session-list .session").length`); n != 1 {
		t.Errorf("%d sessions listed after logging one out, want 1", n)
	}

	if st := p.open("/konto/delete"); st != 200 {
		t.Fatalf("GET /konto/delete = %d", st)
	}
	p.checkPage("account-delete-mobile")

	// The colleague's profile, from their name in the thread.
	p.viewport(desktopWidth, desktopHeight, false)
	p.open(fmt.Sprintf("/t/%d", tid))
	href := eval[string](p, `(document.querySelector(".post-author a") || {}).pathname || ""`)
	if href != fmt.Sprintf("/u/%d", colleague.ID) {
		t.Fatalf("the author's name links to %q", href)
	}
	if st := p.submit("open the profile", chromedp.Click(chromedp.CSS(".post-author a"))); st != 200 {
		t.Fatalf("profile = %d", st)
	}
	if h1 := eval[string](p, `document.querySelector("main h1").textContent`); h1 != colleague.Name {
		t.Errorf("profile heading %q, want %q", h1, colleague.Name)
	}
	if n := eval[int](p, `document.querySelectorAll(".profile-posts li").length`); n != 3 {
		t.Errorf("%d recent posts on the profile, want 3", n)
	}
	p.checkPage("profile")
	p.viewport(narrowWidth, narrowHeight, true)
	p.open(href)
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > narrowWidth {
		t.Errorf("the profile at %dpx scrolls sideways: the page is %dpx wide", narrowWidth, w)
	}
	p.checkPage("profile-mobile")

	// In English, after choosing it on the account page.
	p.viewport(desktopWidth, desktopHeight, false)
	p.open("/konto")
	p.do("choose English", chromedp.SetValue(chromedp.CSS("#f-lang"), "en"))
	p.submit("save", chromedp.Click(chromedp.CSS(`form[action="/konto/profile"] button[type="submit"]`)))
	if l := eval[string](p, `document.documentElement.lang`); l != "en" {
		t.Errorf("after choosing English, <html lang> = %q", l)
	}
	p.checkPage("account-en")
}
