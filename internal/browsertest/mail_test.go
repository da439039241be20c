package browsertest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
)

var resetLinkRE = regexp.MustCompile(`/haslo/[A-Za-z0-9_-]{43}`)

// Issue 12's pages: forgot password (form, its error, its answer), the reset
// link's form, the unsubscribe page, and the administrators' mail queue with
// a mail's detail — axe-clean at desktop and phone widths, nothing scrolling
// sideways on a phone. Without SMTP the mail is kept and read from the queue.
func TestMailPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)

	if st := p.open("/login"); st != 200 {
		t.Fatalf("GET /login = %d", st)
	}
	if st := p.submit("follow the forgot-password link", chromedp.Click(chromedp.CSS(`a[href="/haslo"]`))); st != 200 || p.path() != "/haslo" {
		t.Fatalf("the forgot-password link led to %s (%d)", p.path(), st)
	}
	p.checkPage("password-forgot")
	if st := p.submit("submit the empty form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 400 {
		t.Errorf("empty forgot-password submit = %d, want 400", st)
	}
	p.checkPage("password-forgot-error")
	p.do("type the e-mail", chromedp.SendKeys(chromedp.CSS("#f-email"), memberEmail))
	if st := p.submit("ask for a link", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Errorf("forgot-password submit = %d, want 200", st)
	}
	if txt := eval[string](p, `document.querySelector("main [role=status]").textContent`); !strings.Contains(txt, "Jeśli ten adres") {
		t.Errorf("no confirmation after asking for a link: %q", txt)
	}
	p.checkPage("password-forgot-sent")

	// The kept mail's link.
	var text string
	if err := s.env.DB.Get(&text, `SELECT body_text FROM mails WHERE to_addr = $1 AND kind = 'password_reset' ORDER BY id DESC LIMIT 1`, memberEmail); err != nil {
		t.Fatal(err)
	}
	link := resetLinkRE.FindString(text)
	if link == "" {
		t.Fatalf("no reset link in the kept mail:\n%s", text)
	}
	if st := p.open(link); st != 200 {
		t.Fatalf("GET the reset link = %d", st)
	}
	p.checkPage("password-reset")
	p.do("type mismatched passwords", chromedp.SendKeys(chromedp.CSS("#f-password"), "nowe-haslo-do-forum"),
		chromedp.SendKeys(chromedp.CSS("#f-password_confirm"), "inne-haslo-do-forum"))
	if st := p.submit("submit mismatched passwords", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 400 {
		t.Errorf("mismatched passwords = %d, want 400", st)
	}
	p.checkPage("password-reset-error")
	if st := p.open("/haslo/nieznany"); st != 404 {
		t.Errorf("an unknown link = %d, want 404", st)
	}
	p.checkPage("password-reset-invalid")

	// A person of this test's own: the button below really unsubscribes.
	reader := s.env.NewUser(model.RoleMember)
	tok := s.env.App.Mail.UnsubscribeToken(reader.ID, "reply")
	if st := p.open("/unsubscribe/" + tok); st != 200 {
		t.Fatalf("GET unsubscribe = %d", st)
	}
	p.checkPage("unsubscribe")

	p.loginForm(adminEmail)
	if st := p.open("/admin/mail"); st != 200 {
		t.Fatalf("GET /admin/mail = %d", st)
	}
	p.checkPage("admin-mail")
	var id int64
	if err := s.env.DB.Get(&id, `SELECT max(id) FROM mails WHERE to_addr = $1`, memberEmail); err != nil {
		t.Fatal(err)
	}
	detail := "/admin/mail/" + strconv.FormatInt(id, 10)
	if st := p.open(detail); st != 200 {
		t.Fatalf("GET %s = %d", detail, st)
	}
	if !eval[bool](p, `(() => { const f = document.querySelector("iframe.mail-preview");
		return !!f && f.getAttribute("sandbox") === "" && f.contentDocument === null })()`) {
		t.Error("the mail's HTML is not in a sandboxed frame of its own origin")
	}
	p.checkPage("admin-mail-detail")

	// The phone (360 px, the narrowest the forum promises): every page of
	// the issue passes axe there too and none scrolls sideways.
	p.viewport(narrowWidth, narrowHeight, true)
	for _, pg := range []struct{ name, path string }{
		{"password-forgot", "/haslo"}, {"password-reset", link}, {"password-reset-invalid", "/haslo/nieznany"},
		{"unsubscribe", "/unsubscribe/" + tok}, {"admin-mail", "/admin/mail"}, {"admin-mail-detail", detail},
	} {
		p.open(pg.path)
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > narrowWidth {
			t.Errorf("%s at %dpx scrolls sideways: the page is %dpx wide; sticking out: %s", pg.path, narrowWidth, w, eval[string](p, jsOverflow))
		}
		p.checkPage(pg.name + "-360")
	}
	// The unsubscribe button's answer, on the phone.
	p.open("/unsubscribe/" + tok)
	if st := p.submit("unsubscribe", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Errorf("unsubscribe button = %d, want 200", st)
	}
	if txt := eval[string](p, `document.querySelector("main [role=status]").textContent`); txt == "" {
		t.Error("no confirmation after unsubscribing")
	}
	p.checkPage("unsubscribe-done-360")
}
