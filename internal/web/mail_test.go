package web_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The tests that send real mail are not parallel: their workers would take
// each other's queued mail. Servers without SMTP only keep mail, which no
// worker touches.

func startWithSMTP(t *testing.T, srv *testkit.SMTPServer) *testkit.Env {
	t.Helper()
	clearResetRequests(t)
	// The package's tests share one database: a mail an earlier test left
	// queued (it waited for fewer than it caused) would go out through this
	// test's worker to this test's SMTP server and be taken for its own.
	// Tests with an SMTP server run one at a time (none is parallel).
	if _, err := testkit.Open(t, dbURL).Exec(`UPDATE mails SET status = 'kept' WHERE status = 'queued'`); err != nil {
		t.Fatal(err)
	}
	return testkit.Start(t, dbURL, func(c *config.Config) {
		c.SMTP = config.SMTP{Host: srv.Host, Port: srv.Port, From: "Forum JST <forum@example.pl>", TLS: "none",
			Timeout: 5 * time.Second}
		c.Mail.Poll = 100 * time.Millisecond
		c.Mail.RetryBase = 50 * time.Millisecond
	})
}

// clearResetRequests forgets earlier reset requests: every test client
// comes from 127.0.0.1, and the per-address limit would carry over.
func clearResetRequests(t *testing.T) {
	t.Helper()
	db := testkit.Open(t, dbURL)
	if _, err := db.Exec(`DELETE FROM password_reset_requests`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.Exec(`DELETE FROM password_reset_requests`) })
}

func mailTo(t *testing.T, got []testkit.Received, addr string) []testkit.Received {
	t.Helper()
	var out []testkit.Received
	for _, r := range got {
		if len(r.To) == 1 && strings.EqualFold(r.To[0], addr) {
			out = append(out, r)
		}
	}
	return out
}

func TestForgottenPasswordByMailEndsOldSessions(t *testing.T) {
	srv := testkit.StartSMTP(t)
	env := startWithSMTP(t, srv)
	u := env.NewUser(model.RoleMember)
	old := env.Login(u)
	live := old.DialWS()

	login := env.Anonymous().Get("/login")
	if !strings.Contains(login.String(), `href="/haslo"`) || !strings.Contains(login.String(), "Nie pamiętam hasła") {
		t.Fatal(`the login page has no "Nie pamiętam hasła" link`)
	}
	anon := env.Anonymous()
	start := time.Now()
	r := anon.Form("/haslo", url.Values{"email": {strings.ToUpper(u.Email)}})
	wantStatus(t, "POST /haslo", r, http.StatusOK)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("asking for a link took %s: the request waited for the mail", took)
	}
	if !strings.Contains(r.String(), "Jeśli ten adres należy do konta") {
		t.Errorf("no confirmation on the page: %s", trim(r.String()))
	}
	msgs := mailTo(t, srv.WaitFor(t, 1, 10*time.Second), u.Email)
	if len(msgs) != 1 {
		t.Fatalf("%d mails to %s, want 1", len(msgs), u.Email)
	}
	link := msgs[0].Link("/haslo/")
	if !strings.HasPrefix(link, env.URL+"/haslo/") || len(strings.TrimPrefix(link, env.URL+"/haslo/")) != 43 {
		t.Fatalf("reset link %q is not {public_url}/haslo/{32 random bytes}", link)
	}
	if msgs[0].Header.Get("List-Unsubscribe") != "" {
		t.Error("a reset mail offers to unsubscribe")
	}
	path := strings.TrimPrefix(link, env.URL)
	// Only the token's SHA-256 is stored.
	token := strings.TrimPrefix(path, "/haslo/")
	sum := sha256.Sum256([]byte(token))
	var stored, raw int
	if err := env.DB.Get(&stored, `SELECT count(*) FROM password_resets WHERE token_hash = $1 AND user_id = $2`, sum[:], u.ID); err != nil || stored != 1 {
		t.Errorf("reset rows under the token's hash: %d (%v), want 1", stored, err)
	}
	if err := env.DB.Get(&raw, `SELECT count(*) FROM password_resets WHERE token_hash = $1`, []byte(token)); err != nil || raw != 0 {
		t.Errorf("the raw token is stored (%d, %v)", raw, err)
	}
	// Valid one hour from the request (created_at is the database's clock,
	// expires_at the server's: a few seconds apart at most).
	var validFor float64
	if err := env.DB.Get(&validFor, `SELECT extract(epoch FROM expires_at - created_at) FROM password_resets WHERE token_hash = $1`, sum[:]); err != nil ||
		validFor < 3600-10 || validFor > 3600+10 {
		t.Errorf("the link is valid for %.0f s (%v), want an hour", validFor, err)
	}

	page := anon.Get(path)
	wantStatus(t, "GET reset link", page, http.StatusOK)
	if rp := page.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy of the reset page = %q: the token may leak to other sites", rp)
	}
	// The same password rules as everywhere: refused, nothing changed.
	r = anon.Form(path, url.Values{"password": {"krótkie"}, "password_confirm": {"krótkie"}})
	wantStatus(t, "too short a password", r, http.StatusBadRequest)
	r = anon.Form(path, url.Values{"password": {"nowe-haslo-do-forum"}, "password_confirm": {"inne-haslo-do-forum"}})
	wantStatus(t, "mismatched confirmation", r, http.StatusBadRequest)
	wantStatus(t, "the old session before the reset", old.Get("/api/v1/me"), http.StatusOK)

	r = anon.Form(path, url.Values{"password": {"nowe-haslo-do-forum"}, "password_confirm": {"nowe-haslo-do-forum"}})
	wantStatus(t, "POST reset link", r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login" {
		t.Errorf("after the reset, redirected to %q, want /login", loc)
	}
	// Every earlier session ended, its live socket too.
	wantError(t, "the old session after the reset", old.JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	live.Closed(5 * time.Second)

	wantError(t, "the old password", env.Anonymous().JSON("POST", "/api/v1/auth/login",
		map[string]string{"email": u.Email, "password": u.Password}), http.StatusUnauthorized, "invalid_credentials")
	u.Password = "nowe-haslo-do-forum"
	env.Login(u)

	// The link works once.
	wantStatus(t, "the used link", anon.Get(path), http.StatusNotFound)
	r = anon.Form(path, url.Values{"password": {"jeszcze-inne-haslo"}, "password_confirm": {"jeszcze-inne-haslo"}})
	wantStatus(t, "the used link, posted", r, http.StatusNotFound)
	wantError(t, "the used link by API", anon.JSON("POST", "/api/v1/auth/password-reset/"+strings.TrimPrefix(path, "/haslo/"),
		map[string]string{"password": "jeszcze-inne-haslo"}), http.StatusNotFound, "not_found")
	env.Login(u) // the new password still works

	var audited int
	if err := env.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'user.password_reset' AND target_id = $1`, u.ID); err != nil || audited != 1 {
		t.Errorf("audit entries for the reset: %d (%v), want 1", audited, err)
	}
}

func TestPasswordResetAnswersAlikeWhetherOrNotTheAccountExists(t *testing.T) {
	srv := testkit.StartSMTP(t)
	env := startWithSMTP(t, srv)
	u := env.NewUser(model.RoleMember)
	off := env.NewUser(model.RoleMember)
	if _, err := env.DB.Exec(`UPDATE users SET disabled = true WHERE id = $1`, off.ID); err != nil {
		t.Fatal(err)
	}
	unknown := "nikt-" + testkit.Unique() + "@test.example"
	c := env.Anonymous()

	known := c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": u.Email})
	wantStatus(t, "reset for a known address", known, http.StatusAccepted)
	for _, addr := range []string{unknown, off.Email} {
		r := c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": addr})
		wantStatus(t, "reset for "+addr, r, http.StatusAccepted)
		if r.String() != known.String() {
			t.Errorf("answer for %s %q differs from a known address's %q", addr, r.String(), known.String())
		}
	}
	pageKnown := c.Form("/haslo", url.Values{"email": {u.Email}})
	pageUnknown := c.Form("/haslo", url.Values{"email": {unknown}})
	if pageKnown.Status != http.StatusOK || pageKnown.String() != pageUnknown.String() {
		t.Errorf("the page answers differently: %d vs %d", pageKnown.Status, pageUnknown.Status)
	}
	wantDetails(t, "a malformed address", c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": "nie-adres"}), "email")
	wantError(t, "an unknown field", c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": u.Email, "admin": "1"}),
		http.StatusBadRequest, "bad_request")

	// Two mails to the known address, none to the others.
	got := srv.WaitFor(t, 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // anything else would have arrived by now
	got = srv.Received()
	if n := len(mailTo(t, got, u.Email)); n != 2 || len(got) != 2 {
		t.Errorf("%d mails in all, %d to the account; want 2 and 2", len(got), n)
	}
	var rows int
	if err := env.DB.Get(&rows, `SELECT count(*) FROM mails WHERE to_addr IN ($1, $2)`, unknown, off.Email); err != nil || rows != 0 {
		t.Errorf("%d mails queued for an unknown or disabled address (%v)", rows, err)
	}
}

func TestPasswordResetIsThrottled(t *testing.T) {
	srv := testkit.StartSMTP(t)
	env := startWithSMTP(t, srv)
	u := env.NewUser(model.RoleMember)
	c := env.Anonymous()
	// Per account: more requests answer the same and mail nothing more.
	for i := 0; i < accounts.ResetPerEmail+2; i++ {
		wantStatus(t, "reset request", c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": u.Email}), http.StatusAccepted)
	}
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM mails WHERE to_addr = $1 AND kind = 'password_reset'`, u.Email); err != nil || n != accounts.ResetPerEmail {
		t.Errorf("%d reset mails after %d requests (%v), want %d", n, accounts.ResetPerEmail+2, err, accounts.ResetPerEmail)
	}
	srv.WaitFor(t, accounts.ResetPerEmail, 10*time.Second)

	// Per client address: still 202 (SPEC §4: always), for known and unknown
	// addresses alike, but nothing more is mailed — not even to a real account.
	for i := 0; i < accounts.ResetPerIP+1; i++ {
		r := c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": "ktos-" + testkit.Unique() + "@test.example"})
		wantStatus(t, "reset request of an unknown address", r, http.StatusAccepted)
	}
	other := env.NewUser(model.RoleMember)
	wantStatus(t, "a known address over the address limit",
		c.JSON("POST", "/api/v1/auth/password-reset", map[string]string{"email": other.Email}), http.StatusAccepted)
	page := c.Form("/haslo", url.Values{"email": {other.Email}})
	if page.Status >= 400 {
		t.Errorf("the form over the address limit answered %d, want the usual page", page.Status)
	}
	if err := env.DB.Get(&n, `SELECT count(*) FROM mails WHERE to_addr = $1`, other.Email); err != nil || n != 0 {
		t.Errorf("%d mails to %s over the address limit (%v), want 0", n, other.Email, err)
	}
}

func TestExpiredAndUnknownResetLinks(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	if err := store.CreatePasswordReset(context.Background(), env.DB, h[:], u.ID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	c := env.Anonymous()
	for _, tok := range []string{token, "nieznany-token"} {
		r := c.Get("/haslo/" + tok)
		wantStatus(t, "GET an expired or unknown link", r, http.StatusNotFound)
		if !strings.Contains(r.String(), `href="/haslo"`) {
			t.Error("the page of a dead link does not offer a new one")
		}
		wantStatus(t, "POST an expired or unknown link", c.Form("/haslo/"+tok,
			url.Values{"password": {"nowe-haslo-do-forum"}, "password_confirm": {"nowe-haslo-do-forum"}}), http.StatusNotFound)
		wantError(t, "API with an expired or unknown link", c.JSON("POST", "/api/v1/auth/password-reset/"+tok,
			map[string]string{"password": "nowe-haslo-do-forum"}), http.StatusNotFound, "not_found")
	}
	env.Login(u) // the password did not change
}

func TestInvitationIsMailedAndTheLinkShownOnce(t *testing.T) {
	srv := testkit.StartSMTP(t)
	env := startWithSMTP(t, srv)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	invitee := "zaproszona-" + testkit.Unique() + "@test.example"
	r := admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": invitee})
	wantStatus(t, "create invitation", r, http.StatusCreated)
	var inv struct {
		URL string `json:"url"`
	}
	r.Decode(&inv)
	msgs := mailTo(t, srv.WaitFor(t, 1, 10*time.Second), invitee)
	if len(msgs) != 1 {
		t.Fatalf("%d invitation mails, want 1", len(msgs))
	}
	if link := msgs[0].Link("/invite/"); link == "" || link != inv.URL {
		t.Errorf("mailed link %q, shown link %q: want the same", link, inv.URL)
	}
	if msgs[0].Subject != "Zaproszenie do Forum Współpracy JST" {
		t.Errorf("subject %q", msgs[0].Subject)
	}
	wantStatus(t, "open the mailed invitation", env.Anonymous().Get(strings.TrimPrefix(inv.URL, env.URL)), http.StatusOK)

	// The delivery is counted for Prometheus (recorded just after the server has the mail).
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if metrics = env.Anonymous().Get("/metrics").String(); strings.Contains(metrics, "\nforumjst_mail_sent_total 1\n") {
			break
		}
	}
	if !strings.Contains(metrics, "\nforumjst_mail_sent_total 1\n") || !strings.Contains(metrics, "\nforumjst_mail_failed_total 0\n") {
		t.Error("/metrics does not count the mail sent")
	}
}

func TestTwoInstancesMailEachResetOnce(t *testing.T) {
	srv := testkit.StartSMTP(t)
	a := startWithSMTP(t, srv)
	b := startWithSMTP(t, srv)
	var users []testkit.User
	for i := range 8 {
		u := a.NewUser(model.RoleMember)
		users = append(users, u)
		env := a
		if i%2 == 1 {
			env = b
		}
		wantStatus(t, "reset request", env.Anonymous().JSON("POST", "/api/v1/auth/password-reset",
			map[string]string{"email": u.Email}), http.StatusAccepted)
	}
	srv.WaitFor(t, len(users), 15*time.Second)
	time.Sleep(500 * time.Millisecond) // a duplicate would have arrived by now
	got := srv.Received()
	for _, u := range users {
		if n := len(mailTo(t, got, u.Email)); n != 1 {
			t.Errorf("%s got %d reset mails, want 1", u.Email, n)
		}
	}
}

func TestAdminMailQueueWithoutSMTP(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	adminUser := env.NewUser(model.RoleAdmin)
	admin := env.Login(adminUser)
	invitee := "kept-" + testkit.Unique() + "@test.example"
	r := admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": invitee})
	wantStatus(t, "create invitation", r, http.StatusCreated)
	var inv struct {
		URL string `json:"url"`
	}
	r.Decode(&inv)

	var list struct {
		Items []struct {
			ID        int64      `json:"id"`
			To        string     `json:"to"`
			Subject   string     `json:"subject"`
			Kind      string     `json:"kind"`
			Status    string     `json:"status"`
			Attempts  int        `json:"attempts"`
			CreatedAt time.Time  `json:"created_at"`
			SentAt    *time.Time `json:"sent_at"`
		} `json:"items"`
	}
	r = admin.JSON("GET", "/api/v1/admin/mail?limit=200", nil)
	wantStatus(t, "GET /api/v1/admin/mail", r, http.StatusOK)
	r.Decode(&list)
	var id int64
	for i, m := range list.Items {
		if i > 0 && m.ID > list.Items[i-1].ID {
			t.Error("mail list is not newest first")
		}
		if m.To == invitee {
			id = m.ID
			if m.Status != "kept" || m.Kind != "invitation" || m.Attempts != 0 || m.SentAt != nil || m.CreatedAt.IsZero() {
				t.Errorf("kept invitation listed as %+v", m)
			}
		}
	}
	if id == 0 {
		t.Fatalf("the invitation's mail is not listed: %s", trim(r.String()))
	}
	var detail struct {
		Text string `json:"text"`
		HTML string `json:"html"`
	}
	r = admin.JSON("GET", "/api/v1/admin/mail/"+itoa(id), nil)
	wantStatus(t, "GET /api/v1/admin/mail/{id}", r, http.StatusOK)
	r.Decode(&detail)
	if !strings.Contains(detail.Text, inv.URL) || !strings.Contains(detail.HTML, inv.URL) {
		t.Error("the kept mail's text or html lacks the invitation link")
	}

	member := env.Login(env.NewUser(model.RoleMember))
	for _, p := range []string{"/api/v1/admin/mail", "/api/v1/admin/mail/" + itoa(id)} {
		wantError(t, "member "+p, member.JSON("GET", p, nil), http.StatusNotFound, "not_found")
		wantError(t, "anonymous "+p, env.Anonymous().JSON("GET", p, nil), http.StatusUnauthorized, "unauthenticated")
	}
	wantError(t, "unknown mail", admin.JSON("GET", "/api/v1/admin/mail/999999999", nil), http.StatusNotFound, "not_found")

	page := admin.Get("/admin/mail")
	wantStatus(t, "GET /admin/mail", page, http.StatusOK)
	if !strings.Contains(page.String(), "Zaproszenie do Forum Współpracy JST") || !strings.Contains(page.String(), "FORUM_SMTP_HOST") {
		t.Error("the mail page lacks the kept invitation or the note that nothing is sent")
	}
	dp := admin.Get("/admin/mail/" + itoa(id))
	wantStatus(t, "GET /admin/mail/{id}", dp, http.StatusOK)
	body := dp.String()
	if !strings.Contains(body, `sandbox=""`) || !strings.Contains(body, `srcdoc="&lt;!DOCTYPE html&gt;`) || strings.Contains(body, `srcdoc="<`) {
		t.Errorf("the HTML is not shown escaped in a sandboxed frame: %s", trim(body[strings.Index(body, "<iframe"):]))
	}
	wantStatus(t, "member GET /admin/mail", member.Get("/admin/mail"), http.StatusNotFound)
}

func TestUnsubscribeLinkWorksWithoutLogin(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	token := env.App.Mail.UnsubscribeToken(u.ID, "reply")
	prefOf := func(id int64) string {
		p, err := env.App.Mail.PrefsOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return p["reply"]
	}
	opted := func() bool { return prefOf(u.ID) == mail.Never }
	c := env.Anonymous()
	// Opening the link (as a mail scanner would) changes nothing.
	r := c.Get("/unsubscribe/" + token)
	wantStatus(t, "GET unsubscribe", r, http.StatusOK)
	if opted() {
		t.Fatal("GET alone unsubscribed")
	}
	if !strings.Contains(r.String(), "Odpowiedzi na moje wpisy") {
		t.Error("the page does not say what it turns off")
	}
	// A mail client's one-click POST (RFC 8058): no cookie, no token, no Origin.
	r = c.Do("POST", "/unsubscribe/"+token, strings.NewReader("List-Unsubscribe=One-Click"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantStatus(t, "POST unsubscribe", r, http.StatusOK)
	if !opted() {
		t.Fatal("not unsubscribed after the POST")
	}
	// A logged-in browser needs no CSRF token either; doing it twice is fine.
	wantStatus(t, "POST unsubscribe again, logged in", env.Login(u).Do("POST", "/unsubscribe/"+token, nil, nil), http.StatusOK)

	other := env.NewUser(model.RoleMember)
	forged := strings.Replace(token, itoa(u.ID)+".", itoa(other.ID)+".", 1)
	wantStatus(t, "forged GET", c.Get("/unsubscribe/"+forged), http.StatusNotFound)
	wantStatus(t, "forged POST", c.Do("POST", "/unsubscribe/"+forged, nil, nil), http.StatusNotFound)
	if prefOf(other.ID) != mail.Immediately {
		t.Error("a forged link unsubscribed somebody")
	}
}
