package browsertest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/store"
)

const (
	memberEmail = "k.wojcik@morawica.example"
	adminEmail  = "admin@forum-jst.example"
	memberGroup = "gwd-wiejskie" // the member's group in the demo data
	// ruralHeading is the section of the index that lists the member's group.
	ruralHeading = "Gminy wiejskie i miejsko-wiejskie"
)

// The public pages: the about page, the login page, and the login page after
// an empty submit. Also the basics: lang="pl", the skip link comes first and
// works, every login field has a label.
func TestAnonymousPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)

	if st := p.open("/"); st != 200 {
		t.Fatalf("GET / (anonymous) = %d", st)
	}
	if lang := eval[string](p, `document.documentElement.lang`); lang != "pl" {
		t.Errorf(`<html lang> = %q, want "pl"`, lang)
	}
	p.checkPage("about")

	// The skip link is the first thing the Tab key reaches, it becomes
	// visible when focused, and Enter moves the focus to the main content.
	p.press("press Tab", kb.Tab)
	if href := eval[string](p, `document.activeElement.getAttribute("href") || ""`); href != "#main" {
		t.Errorf("first Tab focuses %q (%s), want the skip link to #main", href,
			eval[string](p, `document.activeElement.outerHTML.slice(0, 120)`))
	} else {
		if !eval[bool](p, `(() => { const r = document.activeElement.getBoundingClientRect();
			return r.left >= 0 && r.top >= 0 && r.width > 0 && r.right <= innerWidth })()`) {
			t.Error("the focused skip link is not visible on screen")
		}
		p.press("press Enter on the skip link", kb.Enter)
		if id := eval[string](p, `document.activeElement.id`); id != "main" {
			t.Errorf("after following the skip link the focus is on %q, want #main", id)
		}
	}

	if st := p.open("/login"); st != 200 {
		t.Fatalf("GET /login = %d", st)
	}
	if lang := eval[string](p, `document.documentElement.lang`); lang != "pl" {
		t.Errorf(`login: <html lang> = %q, want "pl"`, lang)
	}
	// Every visible field of the login form has a non-empty <label>.
	unlabelled := eval[[]string](p, `[...document.querySelectorAll("main form input:not([type=hidden]), main form select, main form textarea")]
		.filter(el => !el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
		.map(el => el.id || el.name)`)
	if len(unlabelled) > 0 {
		t.Errorf("login fields without a label: %v", unlabelled)
	}
	labels := eval[[]string](p, `[...document.querySelectorAll("#f-email, #f-password")].map(el => el.labels[0] ? el.labels[0].textContent.trim() : "")`)
	if len(labels) != 2 || labels[0] == "" || labels[1] == "" {
		t.Errorf("login labels = %q, want two non-empty labels", labels)
	}
	p.checkPage("login")

	// An empty submit: the error summary names both fields, they are marked
	// invalid and described by their messages.
	st := p.submit("submit the empty login form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	if st != 400 {
		t.Errorf("empty login submit = %d, want 400", st)
	}
	// Each problem in the summary names its field and links to it.
	items := eval[[]string](p, `[...document.querySelectorAll(".error-summary li a")].map(a => a.getAttribute("href") + " " + a.textContent.trim())`)
	if len(items) != 2 || !strings.HasPrefix(items[0], "#f-email Adres e-mail") || !strings.HasPrefix(items[1], "#f-password Hasło") {
		t.Errorf("error summary links = %q, want one per field, naming it", items)
	}
	for _, id := range []string{"f-email", "f-password"} {
		got := eval[string](p, `(() => { const el = document.getElementById("`+id+`");
			const d = (el.getAttribute("aria-describedby") || "").trim();
			return el.getAttribute("aria-invalid") + "|" + (d && document.getElementById(d) ? document.getElementById(d).textContent.trim() : "") })()`)
		if !strings.HasPrefix(got, "true|") || got == "true|" {
			t.Errorf("#%s after an empty submit: aria-invalid|description = %q, want true|<message>", id, got)
		}
	}
	if active := eval[string](p, `document.activeElement.className`); !strings.Contains(active, "error-summary") {
		t.Errorf("after a failed submit the focus is on %q, want the error summary (so screen readers announce it)", active)
	}
	p.checkPage("login-error")

	// The login page on a phone (390 px wide): nothing scrolls sideways.
	p.viewport(mobileWidth, mobileHeight, true)
	p.open("/login")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > mobileWidth {
		t.Errorf("login at %dpx scrolls sideways: the page is %dpx wide", mobileWidth, w)
	}
	p.checkPage("login-mobile")
}

// A member logs in through the form and sees the index; the index is checked
// at desktop and phone widths, with larger text and in high contrast.
func TestMemberPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	p := s.newTab(t)
	p.loginForm(memberEmail)

	headings := eval[[]string](p, `[...document.querySelectorAll("main h2")].map(h => h.textContent.trim())`)
	if !contains(headings, ruralHeading) {
		t.Errorf("index headings = %q, want %q", headings, ruralHeading)
	}
	if eval[string](p, `document.documentElement.lang`) != "pl" {
		t.Error(`index: <html lang> is not "pl"`)
	}
	p.checkPage("index-member")

	// A+ makes the text larger: the computed font size of <html> grows.
	before := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
	p.do("click A+", chromedp.Click(chromedp.CSS(`[data-a11y-font="up"]`)))
	after := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
	if !(after > before) {
		t.Errorf("A+ changed the font size of <html> from %.2fpx to %.2fpx, want larger", before, after)
	}
	// The choice is remembered on the next page.
	p.open("/")
	if again := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); again != after {
		t.Errorf("after reloading, the font size is %.2fpx, want the chosen %.2fpx", again, after)
	}
	p.screenshot("index-member-larger-text")
	p.do("click A−", chromedp.Click(chromedp.CSS(`[data-a11y-font="down"]`)))
	if back := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); back != before {
		t.Errorf("A− after A+ gives %.2fpx, want the original %.2fpx", back, before)
	}

	// The member's group page and its first thread.
	if st := p.open("/g/" + strconv.FormatInt(group.ID, 10)); st != 200 {
		t.Errorf("GET /g/%d = %d", group.ID, st)
	}
	p.checkPage("group")
	href := eval[string](p, `(document.querySelector(".thread-list a[href^='/t/']") || {}).pathname || ""`)
	if href == "" {
		t.Fatal("the group page lists no thread link")
	}
	if st := p.open(href); st != 200 {
		t.Fatalf("GET %s = %d", href, st)
	}
	p.checkPage("thread")
	// The report form a member reaches from a post.
	if rep := eval[string](p, `(document.querySelector("a[href$='/report']") || {}).pathname || ""`); rep == "" {
		t.Error("thread page offers no report link")
	} else if st := p.open(rep); st != 200 {
		t.Errorf("GET %s = %d", rep, st)
	} else {
		p.checkPage("post-report")
	}

	// A page that does not exist.
	if st := p.open("/g/999999"); st != 404 {
		t.Errorf("GET /g/999999 = %d, want 404", st)
	}
	if h1 := run(p, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); strings.TrimSpace(h1) == "" {
		t.Error("404 page has no heading")
	}
	p.checkPage("not-found")

	// The index on a phone (390 px wide).
	p.viewport(mobileWidth, mobileHeight, true)
	p.open("/")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > mobileWidth {
		t.Errorf("index at %dpx scrolls sideways: the page is %dpx wide", mobileWidth, w)
	}
	p.checkPage("index-mobile")
	p.viewport(desktopWidth, desktopHeight, false)

	// High contrast: the "Kontrast" toggle is pressed and the page passes again.
	p.open("/")
	label := run(p, "read the contrast button", chromedp.Text(chromedp.CSS(`[data-a11y-contrast]`)))
	if !strings.Contains(label, "Kontrast") {
		t.Errorf("contrast button label = %q, want Kontrast", label)
	}
	p.do("click Kontrast", chromedp.Click(chromedp.CSS(`[data-a11y-contrast]`)))
	if got := eval[string](p, `document.querySelector("[data-a11y-contrast]").getAttribute("aria-pressed") + " " + document.documentElement.classList.contains("contrast")`); got != "true true" {
		t.Errorf("after clicking Kontrast: aria-pressed and html.contrast = %q, want \"true true\"", got)
	}
	p.checkPage("index-contrast")
}

// The administrator's pages, with an invitation created through the form so
// that its one-time link is shown.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	member, err := store.GetUserByEmail(context.Background(), s.env.DB, memberEmail)
	if err != nil {
		t.Fatal(err)
	}
	p := s.newTab(t)
	p.loginForm(adminEmail)

	pages := []struct{ name, path string }{
		{"admin-users", "/admin/users"},
		{"admin-user", "/admin/users/" + strconv.FormatInt(member.ID, 10)},
		{"admin-jst", "/admin/jst"},
		{"admin-groups", "/admin/groups"},
	}
	for _, pg := range pages {
		if st := p.open(pg.path); st != 200 {
			t.Errorf("GET %s = %d", pg.path, st)
			continue
		}
		p.checkPage(pg.name)
	}

	// The end-sessions confirmation, reached from the user's page.
	p.open("/admin/users/" + strconv.FormatInt(member.ID, 10))
	if st := p.submit("click the end-sessions button", chromedp.Click(chromedp.CSS(`a.button.danger[href$="/sessions/end"]`))); st != 200 {
		t.Errorf("end-sessions confirmation = %d", st)
	}
	if !strings.HasSuffix(p.path(), "/sessions/end") {
		t.Errorf("end-sessions button led to %s", p.path())
	}
	p.checkPage("admin-confirm-end-sessions")

	// Create an invitation through the form; the page shows the one-time link.
	if st := p.open("/admin/invitations"); st != 200 {
		t.Fatalf("GET /admin/invitations = %d", st)
	}
	p.do("type the invitation email",
		chromedp.SendKeys(chromedp.CSS("#f-email"), "nowy.delegat@lubicz.example"),
		chromedp.SendKeys(chromedp.CSS("#f-job_title"), "Inspektor ds. oświaty"))
	if st := p.submit("submit the invitation form",
		chromedp.Click(chromedp.CSS(`form[action="/admin/invitations"] button[type="submit"]`))); st != 201 {
		t.Errorf("create invitation = %d, want 201", st)
	}
	link := run(p, "read the invitation link", chromedp.Value(chromedp.CSS("#invite-url")))
	if !strings.Contains(link, "/invite/") {
		t.Errorf("invitation link = %q", link)
	}
	p.checkPage("admin-invitations")
}

// Keyboard only: focus the email field, type, Tab to the password, type, Enter.
// A moderator's tools: the panels on the group and thread pages, every
// moderation form, the report queue, mutes and the audit log.
func TestModeratorPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.FormatInt(group.ID, 10)
	p := s.newTab(t)
	p.loginForm("moderator@forum-jst.example")

	if st := p.open("/g/" + gid); st != 200 {
		t.Fatalf("GET /g/%s = %d", gid, st)
	}
	if n := eval[int](p, `document.querySelectorAll(".mod-panel").length`); n != 1 {
		t.Errorf("group page shows %d moderation panels to a moderator, want 1", n)
	}
	p.checkPage("mod-group")
	href := eval[string](p, `(document.querySelector(".thread-list a[href^='/t/']") || {}).pathname || ""`)
	if href == "" {
		t.Fatal("the group page lists no thread link")
	}
	p.open(href)
	p.do("open the split form", chromedp.Click(chromedp.CSS(`details.split summary`)))
	p.checkPage("mod-thread")
	for _, form := range []string{"hide", "edit", "move", "merge"} {
		if st := p.open(href + "/mod/" + form); st != 200 {
			t.Errorf("GET %s/mod/%s = %d", href, form, st)
			continue
		}
		p.checkPage("mod-form-" + form)
	}
	p.open(href)
	if hide := eval[string](p, `(document.querySelector("a[href$='/mod/hide'][href^='/p/']") || {}).pathname || ""`); hide == "" {
		t.Error("thread page offers a moderator no post hide link")
	} else {
		p.open(hide)
		// Submitting without a reason is refused with the reason field marked.
		if st := p.submit("submit without a reason", chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); st != 400 {
			t.Errorf("hiding a post without a reason answered %d, want 400", st)
		}
		p.checkPage("mod-post-hide-error")
	}
	for _, page := range []string{"flags", "mutes", "audit"} {
		if st := p.open("/g/" + gid + "/" + page); st != 200 {
			t.Errorf("GET /g/%s/%s = %d", gid, page, st)
			continue
		}
		p.checkPage("mod-" + page)
	}
}

func TestKeyboardOnlyLogin(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	if st := p.open("/login"); st != 200 {
		t.Fatalf("GET /login = %d", st)
	}
	p.do("focus the email field", chromedp.Focus(chromedp.CSS("#f-email")))
	p.press("type the email", memberEmail)
	p.press("press Tab", kb.Tab)
	if id := eval[string](p, `document.activeElement.id`); id != "f-password" {
		t.Fatalf("Tab from the email field focuses #%s, want #f-password", id)
	}
	p.press("type the password", seed.DemoPassword)
	st := p.submit("press Enter", chromedp.KeyEvent(kb.Enter))
	if got := p.path(); st != 200 || got != "/" {
		t.Fatalf("keyboard login landed on %s with status %d, want / with 200", got, st)
	}
	headings := eval[[]string](p, `[...document.querySelectorAll("main h2")].map(h => h.textContent.trim())`)
	if !contains(headings, ruralHeading) {
		t.Errorf("after keyboard login the index headings are %q, want %q", headings, ruralHeading)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
