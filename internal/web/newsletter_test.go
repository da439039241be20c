package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type newsletterJSON struct {
	ID         int64   `json:"id"`
	Subject    string  `json:"subject"`
	BodyHTML   string  `json:"body_html"`
	SentAt     *string `json:"sent_at"`
	Recipients int     `json:"recipients"`
}

func TestNewsletterWritePreviewSendRead(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	staffUser := env.NewUser(model.RoleStaff)
	st := env.Login(staffUser)
	g, elsewhere := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	in, out, outsider := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(in.ID, g.ID, model.GroupMember)
	env.AddMember(out.ID, g.ID, model.GroupMember)
	env.AddMember(outsider.ID, elsewhere.ID, model.GroupMember)
	member := env.Login(in)
	wantStatus(t, "out says no", env.Login(out).JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"newsletter": "never"}}), http.StatusOK)

	// Writing is for staff; members do not see that it exists.
	wantError(t, "member creates", member.JSON("POST", "/api/v1/newsletters", map[string]string{"subject": "Nie", "body": "x"}),
		http.StatusNotFound, "not_found")
	wantDetails(t, "invalid", st.JSON("POST", "/api/v1/newsletters", map[string]string{"subject": "x", "body": " "}), "subject", "body")
	subject := "Wieści z programu " + testkit.Unique()
	r := st.JSON("POST", "/api/v1/newsletters", map[string]string{"subject": subject,
		"body": "## Spotkanie w maju\n\nZapraszamy! <script>alert(1)</script> [program](https://example.org/p)"})
	wantStatus(t, "create", r, http.StatusCreated)
	var n newsletterJSON
	r.Decode(&n)
	if strings.Contains(n.BodyHTML, "<script") || !strings.Contains(n.BodyHTML, "<h2>Spotkanie w maju</h2>") {
		t.Errorf("body_html not sanitized Markdown: %s", n.BodyHTML)
	}
	path := fmt.Sprintf("/api/v1/newsletters/%d", n.ID)
	wantError(t, "member reads a draft", member.Get(path), http.StatusNotFound, "not_found")
	var p mail.Preview
	r = st.Get(path + "/preview")
	wantStatus(t, "preview", r, http.StatusOK)
	r.Decode(&p)
	if p.Subject != subject || !strings.Contains(p.HTML, "Spotkanie w maju") || strings.Contains(p.HTML, "<script") ||
		!strings.Contains(p.UnsubscribeURL, "/unsubscribe/") {
		t.Errorf("preview: %+v", p)
	}
	wantStatus(t, "edit draft", st.JSON("PATCH", path, map[string]string{"subject": subject, "body": "## Spotkanie w maju\n\nZapraszamy wszystkich."}), http.StatusOK)

	// The page refuses to send without the confirmation.
	pagePath := fmt.Sprintf("/newsletter/%d", n.ID)
	wantStatus(t, "send form without confirm", st.Form(pagePath+"/send", url.Values{"_csrf": {csrfOf(t, st, pagePath)},
		"group_ids": {itoa(g.ID)}}), http.StatusBadRequest)
	wantDetails(t, "no audience", st.JSON("POST", path+"/send", map[string]any{"all": false}), "audience")

	// Two sends at once (a double click, a retry): one mail per person.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := st.JSON("POST", path+"/send", map[string]any{"group_ids": []int64{g.ID}}); r.Status != http.StatusOK {
				t.Errorf("send = %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	count := func(u testkit.User) int {
		var c int
		if err := env.DB.Get(&c, `SELECT count(*) FROM mails WHERE user_id = $1 AND kind = 'newsletter'`, u.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if count(in) != 1 || count(out) != 0 || count(outsider) != 0 {
		t.Errorf("newsletter mails: subscribed member %d (want 1), opted out %d, other group %d (want 0)", count(in), count(out), count(outsider))
	}
	r = member.Get(path)
	wantStatus(t, "member reads the sent issue", r, http.StatusOK)
	r.Decode(&n)
	if n.SentAt == nil || n.Recipients != 1 {
		t.Errorf("sent issue: %+v", n)
	}
	wantError(t, "edit after send", st.JSON("PATCH", path, map[string]string{"subject": subject, "body": "zmiana"}), http.StatusConflict, "already_sent")
	var audits int
	if err := env.DB.Get(&audits, `SELECT count(*) FROM audit_log WHERE action = 'newsletter.send' AND target_id = $1`, n.ID); err != nil {
		t.Fatal(err)
	}
	if audits != 1 {
		t.Errorf("%d send audit entries, want 1", audits)
	}

	// The archive and the page, for members.
	r = member.Get("/newsletter")
	wantStatus(t, "archive", r, http.StatusOK)
	if !strings.Contains(r.String(), subject) {
		t.Error("the archive lacks the sent issue")
	}
	r = member.Get(pagePath)
	wantStatus(t, "issue page", r, http.StatusOK)
	if !strings.Contains(r.String(), "Zapraszamy wszystkich.") || strings.Contains(r.String(), `action="`+pagePath+`/send"`) {
		t.Error("the issue page lacks the text or offers a member to send it")
	}
	wantStatus(t, "anonymous archive", env.Anonymous().Get("/newsletter"), http.StatusFound)

	// The link in the mail turns the newsletter off.
	var unsub string
	if err := env.DB.Get(&unsub, `SELECT unsubscribe_url FROM mails WHERE user_id = $1 AND kind = 'newsletter'`, in.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "unsubscribe", env.Anonymous().Do("POST", strings.TrimPrefix(unsub, env.URL), nil, nil), http.StatusOK)
	if prefs, _ := env.App.Mail.PrefsOf(context.Background(), in.ID); prefs["newsletter"] != mail.Never {
		t.Errorf("newsletter pref after the link: %q", prefs["newsletter"])
	}
}

// The programme's pages (good practices, tournaments, reviews) offer
// "Zapisz się do newslettera" to someone who said no, as a plain form that
// subscribes and comes back; to a subscriber they say so and link the settings.
func TestNewsletterOfferOnProgrammePages(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	wantStatus(t, "say no", c.JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"newsletter": "never"}}), http.StatusOK)
	for _, path := range []string{"/praktyki", "/turnieje", "/opiniowanie"} {
		page := c.Get(path)
		wantStatus(t, path, page, http.StatusOK)
		if !strings.Contains(page.String(), `action="/newsletter/subscribe"`) || !strings.Contains(page.String(), "Zapisz się do newslettera") {
			t.Errorf("%s does not offer the newsletter to someone who is not subscribed", path)
		}
	}
	r := c.Form("/newsletter/subscribe", url.Values{"next": {"/turnieje"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/turnieje" {
		t.Fatalf("subscribe: %d → %q, want 303 → /turnieje", r.Status, r.Header.Get("Location"))
	}
	if prefs, err := env.App.Mail.PrefsOf(context.Background(), u.ID); err != nil || prefs["newsletter"] != mail.Immediately {
		t.Errorf("newsletter pref after subscribing: %q (%v)", prefs["newsletter"], err)
	}
	page := c.Get("/turnieje").String()
	if strings.Contains(page, `action="/newsletter/subscribe"`) || !strings.Contains(page, "Otrzymujesz newsletter programu") ||
		!strings.Contains(page, `href="/konto/poczta"`) {
		t.Error("a subscriber is offered the newsletter again, or not told they get it")
	}
	// Only to one's own site: another address goes to the archive.
	r = c.Form("/newsletter/subscribe", url.Values{"next": {"//evil.example/"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/newsletter" {
		t.Errorf("subscribe with a foreign next: %d → %q", r.Status, r.Header.Get("Location"))
	}
	// In English too.
	wantStatus(t, "English", c.JSON("PATCH", "/api/v1/me", map[string]any{"lang": "en"}), http.StatusOK)
	if !strings.Contains(c.Get("/praktyki").String(), "You receive the programme") {
		t.Error("the offer is not translated")
	}
	// Nobody logged in has nothing to subscribe.
	if r := env.Anonymous().Form("/newsletter/subscribe", nil); r.Status < 400 && !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous subscribe: %d → %q", r.Status, r.Header.Get("Location"))
	}
}

// The audience by group kind: members of groups of the kinds chosen, not of
// other kinds; creating and editing a draft are on record like sending.
func TestNewsletterAudienceByGroupKindAndAudit(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL) // no SMTP: mails are kept, no worker of another test sends them
	staffUser := env.NewUser(model.RoleStaff)
	st := env.Login(staffUser)
	county, urban := env.NewGroup(model.KindCounty), env.NewGroup(model.KindUrban)
	in, out, observer := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(in.ID, county.ID, model.GroupMember)
	env.AddMember(observer.ID, county.ID, model.GroupObserver)
	env.AddMember(out.ID, urban.ID, model.GroupMember)
	r := st.JSON("POST", "/api/v1/newsletters", map[string]string{"subject": "Powiaty " + testkit.Unique(), "body": "Dla powiatów."})
	wantStatus(t, "create", r, http.StatusCreated)
	var n newsletterJSON
	r.Decode(&n)
	path := fmt.Sprintf("/api/v1/newsletters/%d", n.ID)
	wantStatus(t, "edit", st.JSON("PATCH", path, map[string]string{"subject": n.Subject, "body": "Dla powiatów, poprawione."}), http.StatusOK)
	wantDetails(t, "unknown kind", st.JSON("POST", path+"/send", map[string]any{"group_kinds": []string{"gminy"}}), "group_kinds")
	wantStatus(t, "send to county groups", st.JSON("POST", path+"/send", map[string]any{"group_kinds": []string{"county"}}), http.StatusOK)
	count := func(u testkit.User) int {
		var c int
		if err := env.DB.Get(&c, `SELECT count(*) FROM mails WHERE user_id = $1 AND kind = 'newsletter' AND status = 'kept'`, u.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if count(in) != 1 || count(observer) != 1 || count(out) != 0 {
		t.Errorf("newsletter mails: county member %d, county observer %d (want 1 each), urban member %d (want 0)",
			count(in), count(observer), count(out))
	}
	for _, action := range []string{"newsletter.create", "newsletter.update", "newsletter.send"} {
		var c int
		if err := env.DB.Get(&c, `SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2 AND actor_id = $3`, action, n.ID, staffUser.ID); err != nil {
			t.Fatal(err)
		}
		if c != 1 {
			t.Errorf("%d audit entries %s, want 1", c, action)
		}
	}
}
