package browsertest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
)

var newsletterPathRE = regexp.MustCompile(`^/newsletter/[0-9]+$`)

// Issue 12's mail settings and newsletter pages: /konto/poczta (saved, and
// with an error), the newsletter's draft form, a draft with its mail preview
// and the audience form (refused without the confirmation), and the
// archive — axe-clean at desktop and phone widths, nothing scrolling
// sideways on a phone.
func TestMailPrefsAndNewsletterPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	p.loginForm(adminEmail)

	if st := p.open("/konto/poczta"); st != 200 {
		t.Fatalf("GET /konto/poczta = %d", st)
	}
	p.checkPage("mail-prefs")
	p.do("choose the digest for replies", chromedp.SetValue(chromedp.CSS("#f-pref_reply"), "digest"))
	if st := p.submit("save the settings", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || p.path() != "/konto/poczta" {
		t.Fatalf("saving the settings led to %s (%d)", p.path(), st)
	}
	if got := eval[string](p, `document.querySelector("#f-pref_reply").value`); got != "digest" {
		t.Errorf("replies after saving: %q", got)
	}
	p.checkPage("mail-prefs-saved")

	if st := p.open("/newsletter/nowy"); st != 200 {
		t.Fatalf("GET /newsletter/nowy = %d", st)
	}
	p.checkPage("newsletter-new")
	if st := p.submit("save an empty draft", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 400 {
		t.Errorf("empty draft = %d, want 400", st)
	}
	p.checkPage("newsletter-new-error")
	p.do("write the issue", chromedp.SendKeys(chromedp.CSS("#f-subject"), "Wieści z programu"),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "## Spotkanie w maju\n\nZapraszamy **wszystkich**."))
	if st := p.submit("save the draft", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || !newsletterPathRE.MatchString(p.path()) {
		t.Fatalf("saving the draft led to %s (%d)", p.path(), st)
	}
	draft := p.path()
	if !eval[bool](p, `(() => { const f = document.querySelector("iframe.mail-preview");
		return !!f && f.getAttribute("sandbox") === "" && f.contentDocument === null })()`) {
		t.Error("the preview is not in a sandboxed frame of its own origin")
	}
	p.checkPage("newsletter-draft")
	if st := p.submit("send without confirming", chromedp.Click(chromedp.CSS(`form[action$="/send"] button[type="submit"]`))); st != 400 {
		t.Errorf("sending without the confirmation = %d, want 400", st)
	}
	p.checkPage("newsletter-send-error")
	if st := p.open("/newsletter"); st != 200 {
		t.Fatalf("GET /newsletter = %d", st)
	}
	p.checkPage("newsletter-archive")

	// Sent (through the API, to a group with nobody in it: no demo account
	// gets mail), the issue is what members read.
	staff := s.env.Login(s.env.NewUser(model.RoleStaff))
	empty := s.env.NewGroup(model.KindRural)
	if r := staff.JSON("POST", strings.Replace(draft, "/newsletter/", "/api/v1/newsletters/", 1)+"/send", map[string]any{"group_ids": []int64{empty.ID}}); r.Status != 200 {
		t.Fatalf("send the issue = %d %s", r.Status, r.Body)
	}

	// The phone (360 px, the narrowest the forum promises): every page of
	// the issue passes axe there too and none scrolls sideways.
	p.viewport(narrowWidth, narrowHeight, true)
	m := s.newTab(t)
	m.loginForm(memberEmail)
	m.viewport(narrowWidth, narrowHeight, true)
	for _, pg := range []struct {
		who        *tab
		name, path string
	}{
		{p, "mail-prefs", "/konto/poczta"}, {p, "newsletter-new", "/newsletter/nowy"}, {p, "newsletter-sent-staff", draft},
		{m, "newsletter-archive", "/newsletter"}, {m, "newsletter-issue", draft}, {m, "mail-prefs-member", "/konto/poczta"},
	} {
		if st := pg.who.open(pg.path); st != 200 {
			t.Errorf("GET %s = %d", pg.path, st)
			continue
		}
		if w := eval[int](pg.who, `document.documentElement.scrollWidth`); w > narrowWidth {
			t.Errorf("%s at %dpx scrolls sideways: the page is %dpx wide; sticking out: %s", pg.path, narrowWidth, w, eval[string](pg.who, jsOverflow))
		}
		pg.who.checkPage(pg.name + "-360")
	}

	// A programme page offers the newsletter to someone who said no: one
	// button, and back on the same page, subscribed.
	u := s.env.NewUser(model.RoleMember)
	if _, err := s.env.DB.Exec(`INSERT INTO mail_prefs (user_id, kind, mode) VALUES ($1, 'newsletter', 'never')`, u.ID); err != nil {
		t.Fatal(err)
	}
	o := s.newTab(t)
	o.loginAs(u)
	o.viewport(narrowWidth, narrowHeight, true)
	if st := o.open("/praktyki"); st != 200 {
		t.Fatalf("GET /praktyki = %d", st)
	}
	o.checkPage("newsletter-offer-360")
	if st := o.submit("subscribe", chromedp.Click(chromedp.CSS(`form[action="/newsletter/subscribe"] button`))); st != 200 || o.path() != "/praktyki" {
		t.Errorf("subscribing led to %s (%d), want /praktyki", o.path(), st)
	}
	if eval[int](o, `document.querySelectorAll('form[action="/newsletter/subscribe"]').length`) != 0 {
		t.Error("still offered the newsletter after subscribing")
	}
	if w := eval[int](o, `document.documentElement.scrollWidth`); w > narrowWidth {
		t.Errorf("/praktyki at %dpx scrolls sideways: the page is %dpx wide", narrowWidth, w)
	}
	o.checkPage("newsletter-offer-subscribed-360")
}
