package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func TestMailPrefsAPIAndPage(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)

	wantError(t, "anonymous GET", env.Anonymous().Get("/api/v1/me/mail-prefs"), http.StatusUnauthorized, "unauthenticated")
	var got mail.Prefs
	r := c.Get("/api/v1/me/mail-prefs")
	wantStatus(t, "GET mail-prefs", r, http.StatusOK)
	r.Decode(&got)
	want := map[string]string{"mention": "immediately", "reply": "immediately", "meeting_scheduled": "digest",
		"new_thread": "digest", "newsletter": "immediately"}
	for k, m := range want {
		if got.Prefs[k] != m {
			t.Errorf("default %s = %q, want %q", k, got.Prefs[k], m)
		}
	}

	r = c.JSON("PUT", "/api/v1/me/mail-prefs", map[string]any{"prefs": map[string]string{"reply": "digest", "newsletter": "never"}})
	wantStatus(t, "PUT mail-prefs", r, http.StatusOK)
	r.Decode(&got)
	if got.Prefs["reply"] != "digest" || got.Prefs["newsletter"] != "never" || got.Prefs["mention"] != "immediately" {
		t.Errorf("after PUT: %v", got.Prefs)
	}

	// Invalid kinds and modes are named; nothing of the request is stored.
	r = c.JSON("PUT", "/api/v1/me/mail-prefs", map[string]any{"prefs": map[string]string{
		"reply": "never", "bogus": "never", "newsletter": "digest", "new_thread": "immediately"}})
	wantDetails(t, "PUT invalid", r, "prefs.bogus", "prefs.newsletter", "prefs.new_thread")
	wantDetails(t, "PUT empty", c.JSON("PUT", "/api/v1/me/mail-prefs", map[string]any{"prefs": map[string]string{}}), "prefs")
	wantError(t, "PUT unknown field", c.JSON("PUT", "/api/v1/me/mail-prefs", map[string]any{"prefs": map[string]string{"reply": "never"}, "x": 1}),
		http.StatusBadRequest, "bad_request")
	if p, _ := env.App.Mail.PrefsOf(context.Background(), u.ID); p["reply"] != "digest" {
		t.Errorf("a refused request stored reply = %q", p["reply"])
	}

	// The page: one labelled choice per kind, saved by a form.
	r = c.Get("/konto/poczta")
	wantStatus(t, "GET /konto/poczta", r, http.StatusOK)
	body := r.String()
	for _, s := range []string{`id="f-pref_reply"`, `for="f-pref_reply"`, `<option value="digest" selected>`, "Odpowiedzi na moje wpisy"} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	// It is reached from the account page.
	if r := c.Get("/konto"); !strings.Contains(r.String(), `href="/konto/poczta"`) {
		t.Error("/konto does not link the mail settings")
	}
	form := url.Values{"_csrf": {csrfOf(t, c, "/konto/poczta")}, "pref_reply": {"never"}, "pref_newsletter": {"immediately"}}
	r = c.Form("/konto/poczta", form)
	wantStatus(t, "POST /konto/poczta", r, http.StatusSeeOther)
	if p, _ := env.App.Mail.PrefsOf(context.Background(), u.ID); p["reply"] != "never" || p["newsletter"] != "immediately" {
		t.Errorf("after the form: %v", p)
	}
	form.Set("pref_reply", "sometimes")
	r = c.Form("/konto/poczta", form)
	wantStatus(t, "POST invalid", r, http.StatusBadRequest)
	if !strings.Contains(r.String(), `href="#f-pref_reply"`) {
		t.Error("the error summary does not point at the field")
	}
}

// csrfOf reads the CSRF token from a page's form.
func csrfOf(t *testing.T, c *testkit.Client, path string) string {
	t.Helper()
	body := c.Get(path).String()
	i := strings.Index(body, `name="_csrf" value="`)
	if i < 0 {
		t.Fatalf("%s has no CSRF field", path)
	}
	rest := body[i+len(`name="_csrf" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// A reply notification is mailed to its recipient once, with two instances
// (each with a mail worker) on one database; a recipient who chose "never",
// and one who may no longer read the thread, get nothing; the mail's
// unsubscribe link turns replies off.
func TestReplyMailedOnceAcrossTwoInstances(t *testing.T) {
	srv := testkit.StartSMTP(t)
	a := startWithSMTP(t, srv)
	b := startWithSMTP(t, srv)
	g := a.NewGroup(model.KindRural)
	author, quiet, gone, replier := a.NewUser(model.RoleMember), a.NewUser(model.RoleMember), a.NewUser(model.RoleMember), a.NewUser(model.RoleMember)
	for _, u := range []testkit.User{author, quiet, gone, replier} {
		a.AddMember(u.ID, g.ID, model.GroupMember)
	}
	wantStatus(t, "quiet: replies never", b.Login(quiet).JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"reply": "never"}}), http.StatusOK)
	tAuthor, posts := a.NewThread(g.ID, author.ID, 2)
	tQuiet, _ := a.NewThread(g.ID, quiet.ID, 1)
	tGone, _ := a.NewThread(g.ID, gone.ID, 1)
	if _, err := a.DB.Exec(`DELETE FROM memberships WHERE user_id = $1`, gone.ID); err != nil {
		t.Fatal(err)
	}

	ra, rb := a.Login(replier), b.Login(replier)
	r := ra.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tAuthor), map[string]any{"body": "Odpowiedź z instancji A", "reply_to": posts[1]})
	wantStatus(t, "reply on A", r, http.StatusCreated)
	var p struct{ ID int64 }
	r.Decode(&p)
	reply(t, rb, tQuiet, "Odpowiedź, o której nikt nie dostanie poczty")
	reply(t, rb, tGone, "Odpowiedź w wątku byłego członka")

	srv.WaitFor(t, 1, 15*time.Second)
	time.Sleep(700 * time.Millisecond) // a duplicate, or a mail to the others, would have arrived by now
	got := srv.Received()
	if len(got) != 1 {
		for _, m := range got {
			t.Logf("mail to %v: %s", m.To, m.Subject)
		}
		t.Fatalf("%d mails, want exactly 1 (to the thread's author)", len(got))
	}
	m := got[0]
	if len(m.To) != 1 || !strings.EqualFold(m.To[0], author.Email) {
		t.Fatalf("mailed to %v, want %s", m.To, author.Email)
	}
	link := fmt.Sprintf("%s/p/%d", a.URL, p.ID)
	if !strings.Contains(m.Subject, replier.Name) || !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
		t.Errorf("subject %q / text %q do not name the replier and link the post %s", m.Subject, m.Text, link)
	}
	unsub := m.Header.Get("List-Unsubscribe")
	if !strings.Contains(unsub, "/unsubscribe/") {
		t.Fatalf("List-Unsubscribe = %q", unsub)
	}
	// One click, no login: replies are off for the author, nothing else is.
	u := strings.Trim(unsub, "<>")
	resp := a.Anonymous().Do("POST", strings.TrimPrefix(u, a.URL), strings.NewReader("List-Unsubscribe=One-Click"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantStatus(t, "one-click unsubscribe", resp, http.StatusOK)
	prefs, err := a.App.Mail.PrefsOf(context.Background(), author.ID)
	if err != nil {
		t.Fatal(err)
	}
	if prefs["reply"] != mail.Never || prefs["mention"] != mail.Immediately {
		t.Errorf("after unsubscribing: %v", prefs)
	}
	reply(t, ra, tAuthor, "Jeszcze jedna odpowiedź")
	time.Sleep(700 * time.Millisecond)
	if n := len(srv.Received()); n != 1 {
		t.Errorf("%d mails after unsubscribing, want still 1", n)
	}
}

// The daily digest of a day lists the unread notifications of digest kinds
// and the threads opened in the person's groups in the period, and nothing
// of a group they cannot read; two instances running it at once queue one
// mail; a day with nothing new queues none. The day is a DST change in
// Warsaw (25 March 2001), long before the other tests' rows.
func TestDailyDigest(t *testing.T) {
	t.Parallel()
	a := testkit.Start(t, dbURL)
	b := testkit.Start(t, dbURL)
	ctx := context.Background()
	g, other := a.NewGroup(model.KindUrban), a.NewGroup(model.KindCounty)
	reader, actor, idle := a.NewUser(model.RoleMember), a.NewUser(model.RoleMember), a.NewUser(model.RoleMember)
	for _, u := range []testkit.User{reader, actor, idle} {
		a.AddMember(u.ID, g.ID, model.GroupMember)
	}
	a.AddMember(actor.ID, other.ID, model.GroupMember)
	wantStatus(t, "idle: no new threads", a.Login(idle).JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"new_thread": "never"}}), http.StatusOK)
	wantStatus(t, "reader: replies in the digest", a.Login(reader).JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"reply": "digest"}}), http.StatusOK)
	tReader, _ := a.NewThread(g.ID, reader.ID, 1)
	ca := a.Login(actor)
	reply(t, ca, tReader, "Odpowiedź do podsumowania")
	newTitle := "Nowy wątek dnia " + testkit.Unique()
	fresh := createThread(t, ca, g.ID, newTitle, "Treść nowego wątku")
	secret := "Wątek innej grupy " + testkit.Unique()
	createThread(t, ca, other.ID, secret, "Tego czytelnik nie widzi")
	hidden := "Ukryty wątek " + testkit.Unique()
	th := createThread(t, ca, g.ID, hidden, "Ukryty")
	if _, err := a.DB.Exec(`UPDATE threads SET hidden = true WHERE id = $1`, th.ID); err != nil {
		t.Fatal(err)
	}
	// Into the period of the digest of 25 March 2001 (07:00 CEST = 05:00
	// UTC; the period starts at 07:00 CET the day before = 06:00 UTC).
	for _, q := range []string{
		`UPDATE notifications SET created_at = '2001-03-24 06:00:01+00' WHERE user_id = $1`,
		`UPDATE threads SET created_at = '2001-03-25 04:59:59+00' WHERE author_id = $1`,
	} {
		id := reader.ID
		if strings.Contains(q, "threads") {
			id = actor.ID
		}
		if _, err := a.DB.Exec(q, id); err != nil {
			t.Fatal(err)
		}
	}
	day := time.Date(2001, 3, 25, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for _, e := range []*testkit.Env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.App.Mail.RunDigest(ctx, day, 7); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	digests := func(u testkit.User) []struct{ Subject, Text, HTML, Unsub string } {
		var out []struct{ Subject, Text, HTML, Unsub string }
		err := a.DB.Select(&out, `SELECT subject, body_text AS text, body_html AS html, unsubscribe_url AS unsub
			FROM mails WHERE user_id = $1 AND kind = 'digest' ORDER BY id`, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := digests(reader)
	if len(got) != 1 {
		t.Fatalf("reader got %d digests, want 1", len(got))
	}
	d := got[0]
	for _, s := range []string{newTitle, actor.Name, fmt.Sprintf("/t/%d", fresh.ID)} {
		if !strings.Contains(d.Text, s) {
			t.Errorf("digest text lacks %q:\n%s", s, d.Text)
		}
	}
	if !strings.Contains(d.Text, "Wątek testowy") { // the reply's notification names its thread
		t.Errorf("digest lacks the reply:\n%s", d.Text)
	}
	for _, s := range []string{secret, hidden} {
		if strings.Contains(d.Text, s) || strings.Contains(d.HTML, s) {
			t.Errorf("digest shows %q", s)
		}
	}
	if !strings.Contains(d.Subject, "25 marca 2001") || !strings.Contains(d.Unsub, "/unsubscribe/") {
		t.Errorf("subject %q, unsubscribe %q", d.Subject, d.Unsub)
	}
	if n := len(digests(idle)); n != 0 {
		t.Errorf("a member who wants no new threads got %d digests for a day with nothing else", n)
	}
	// The next day: nothing new since the end of the last period.
	if _, err := a.App.Mail.RunDigest(ctx, day.AddDate(0, 0, 1), 7); err != nil {
		t.Fatal(err)
	}
	if n := len(digests(reader)); n != 1 {
		t.Errorf("after a day with nothing new the reader has %d digests, want 1", n)
	}
}

// The digest's unsubscribe link turns off every kind that went to the
// digest and nothing mailed at once; a forged kind is not found.
func TestDigestUnsubscribeTurnsOffDigestKinds(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	wantStatus(t, "mentions in the digest", env.Login(u).JSON("PUT", "/api/v1/me/mail-prefs",
		map[string]any{"prefs": map[string]string{"mention": "digest"}}), http.StatusOK)
	tok := env.App.Mail.UnsubscribeToken(u.ID, mail.KindDigest)
	wantStatus(t, "unsubscribe from the digest", env.Anonymous().Do("POST", "/unsubscribe/"+tok, nil, nil), http.StatusOK)
	p, err := env.App.Mail.PrefsOf(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"mention": "never", "meeting_scheduled": "never", "new_thread": "never",
		"reply": "immediately", "newsletter": "immediately"} {
		if p[k] != want {
			t.Errorf("%s = %q after leaving the digest, want %q", k, p[k], want)
		}
	}
	bad := strings.Replace(tok, ".digest.", ".password_reset.", 1)
	wantStatus(t, "a kind one cannot leave", env.Anonymous().Get("/unsubscribe/"+bad), http.StatusNotFound)
}
