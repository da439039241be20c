package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

const statementLink = `href="/deklaracja-dostepnosci"`

// The accessibility statement is public, in both languages, has the parts the
// law asks for, and shows the configured contact.
func TestAccessibilityStatementAnonymous(t *testing.T) {
	env := testkit.Start(t, dbURL, func(c *config.Config) {
		c.AccessibilityContact = "Jan Kowalski, dostepnosc@example.gov.pl, tel. 22 123 45 67"
	})
	anon := env.Anonymous()

	r := anon.Get("/deklaracja-dostepnosci")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /deklaracja-dostepnosci anonymously = %d, want 200", r.Status)
	}
	page := r.String()
	for _, want := range []string{
		`<html lang="pl">`, "Deklaracja dostępności", "ustawą z dnia 4 kwietnia 2019 r.",
		`id="a11y-status"`, "częściowo zgodna",
		// The dates: published, prepared, reviewed and audited 2 December 2026
		// (the axe run of the browser suite).
		`<time id="a11y-data-publikacja" datetime="2026-12-02">2 grudnia 2026</time>`,
		`<time id="a11y-data-sporzadzenie" datetime="2026-12-02">2 grudnia 2026</time>`,
		`<time id="a11y-data-przeglad" datetime="2026-12-02">2 grudnia 2026</time>`,
		`<time id="a11y-data-audyt" datetime="2026-12-02">2 grudnia 2026</time>`,
		"czytników ekranu", `aria-live=&#34;polite&#34;`, "kierownika podmiotu publicznego", "Rzecznika Praw Obywatelskich",
		`id="a11y-data-sporzadzenie"`, `id="a11y-data-audyt"`, "axe-core",
		"Skróty klawiaturowe", "<kbd>M</kbd>", "Procedura wnioskowo-skargowa", "7 dni",
		"Dostępność architektoniczna", "Jan Kowalski, dostepnosc@example.gov.pl, tel. 22 123 45 67",
		statementLink + ` aria-current="page"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("Polish statement lacks %q", want)
		}
	}

	if r := anon.Form("/lang", url.Values{"lang": {"en"}, "next": {"/deklaracja-dostepnosci"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("switch to English = %d", r.Status)
	}
	r = anon.Get("/deklaracja-dostepnosci")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /deklaracja-dostepnosci in English = %d, want 200", r.Status)
	}
	page = r.String()
	for _, want := range []string{
		`<html lang="en">`, "Accessibility statement", "Act of 4 April 2019", "partially compliant",
		"Keyboard shortcuts", "Enforcement procedure", "Architectural accessibility",
		"Jan Kowalski, dostepnosc@example.gov.pl", `datetime="2026-12-02">2 December 2026</time>`, "head of the public body",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("English statement lacks %q", want)
		}
	}
	if strings.Contains(page, "Procedura wnioskowo-skargowa") {
		t.Error("English statement shows the Polish text")
	}
}

// Without FORUM_ACCESSIBILITY_CONTACT the statement sends people to the
// programme office; every page's footer links the statement, logged in or not.
func TestAccessibilityStatementDefaultContactAndFooter(t *testing.T) {
	env := testkit.Start(t, dbURL)
	anon := env.Anonymous()
	page := anon.Get("/deklaracja-dostepnosci").String()
	if !strings.Contains(page, "biuro programu Grup Wymiany Doświadczeń") {
		t.Error("statement without a configured contact does not name the programme office")
	}
	// …and gives a mailbox on the forum's own domain.
	mailbox := "dostepnosc@" + env.Config.PublicURL.Hostname()
	if !strings.Contains(page, `<a id="a11y-email" href="mailto:`+mailbox+`">`+mailbox+`</a>`) {
		t.Errorf("statement without a configured contact lacks the mailbox %s", mailbox)
	}
	for _, p := range []string{"/", "/about", "/login"} {
		if body := anon.Get(p).String(); !strings.Contains(body, statementLink) {
			t.Errorf("anonymous %s: footer lacks the statement link", p)
		}
	}
	u := env.NewUser(model.RoleMember)
	g := env.NewGroup(model.KindRural)
	env.AddMember(u.ID, g.ID, model.GroupMember)
	c := env.Login(u)
	for _, p := range []string{"/", "/g/" + itoa(g.ID), "/notifications", "/deklaracja-dostepnosci"} {
		r := c.Get(p)
		if r.Status != http.StatusOK {
			t.Errorf("member GET %s = %d", p, r.Status)
			continue
		}
		body := r.String()
		if !strings.Contains(body, statementLink) {
			t.Errorf("member %s: footer lacks the statement link", p)
		}
		if !strings.Contains(body, `id="shortcuts-dialog"`) || !strings.Contains(body, "data-a11y-spacing") {
			t.Errorf("member %s: no shortcuts dialog or spacing toggle", p)
		}
	}
}
