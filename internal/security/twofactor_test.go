package security_test

// Two-factor login (issue 10, item 12; OWASP ASVS 5.0 V6). The attacks: a
// stolen password alone logs into an administrator's or moderator's account;
// a second factor that can be guessed without limit, replayed within its
// window, or spent twice; a role that "requires" two-factor login but still
// lets its holders work without it; a factor that can be switched off with a
// stolen session alone; changes to factors that leave no trace.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgadmin"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// enrolled is a user with two-factor login on, and what they saved.
type enrolled struct {
	testkit.User
	Secret   string
	Recovery []string
}

// enroll turns on two-factor login for u through the API, as the account page
// does, and logs the set-up session out.
func enroll(t *testing.T, env *testkit.Env, u testkit.User) enrolled {
	t.Helper()
	c := env.Login(u)
	r := c.JSON("POST", "/api/v1/me/two-factor/setup", nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("start set-up: %d %s", r.Status, r.Body)
	}
	var su struct {
		Secret string `json:"secret"`
		QRURL  string `json:"qr_url"`
	}
	r.Decode(&su)
	if len(su.Secret) != 32 {
		t.Fatalf("secret %q: want 32 base32 characters", su.Secret)
	}
	r = c.JSON("POST", "/api/v1/me/two-factor/enable", map[string]string{"password": u.Password, "code": code(t, su.Secret, 0)})
	if r.Status != http.StatusOK {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	var out struct {
		Codes []string `json:"recovery_codes"`
	}
	r.Decode(&out)
	if len(out.Codes) != 10 {
		t.Fatalf("recovery codes: got %d, want 10", len(out.Codes))
	}
	c.JSON("POST", "/api/v1/auth/logout", nil)
	return enrolled{User: u, Secret: su.Secret, Recovery: out.Codes}
}

// code is the TOTP code of the time step `steps` steps from now (the server
// accepts one step either way, so +1 is a code nobody has used yet).
func code(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is six digits that are the code of none of the steps the server could accept.
func wrongCode(t *testing.T, secret string) string {
	t.Helper()
	taken := map[string]bool{}
	for s := -2; s <= 2; s++ {
		taken[code(t, secret, s)] = true
	}
	for n := 123456; ; n++ {
		if c := fmt.Sprintf("%06d", n%1000000); !taken[c] {
			return c
		}
	}
}

func login(c *testkit.Client, u testkit.User, extra map[string]string) *testkit.Response {
	body := map[string]string{"email": u.Email, "password": u.Password}
	for k, v := range extra {
		body[k] = v
	}
	return c.JSON("POST", "/api/v1/auth/login", body)
}

// loggedIn reports whether the client's cookie jar holds a working session.
func loggedIn(c *testkit.Client) bool {
	return c.Get("/api/v1/me").Status == http.StatusOK
}

func auditCount(t *testing.T, env *testkit.Env, action string, userID int64) int {
	t.Helper()
	var n int
	if err := env.DB.GetContext(context.Background(), &n,
		`SELECT count(*) FROM audit_log WHERE action = $1 AND target_id = $2`, action, userID); err != nil {
		t.Fatal(err)
	}
	return n
}

// A stolen password is not enough: an enrolled account answers 401
// two_factor_required, sets no session, and a wrong code is refused.
func TestTwoFactorPasswordAloneIsNotEnough(t *testing.T) {
	env := testkit.Start(t, dbURL)
	for _, role := range []string{model.RoleAdmin, model.RoleStaff, model.RoleMember} {
		u := enroll(t, env, env.NewUser(role))

		c := env.Anonymous()
		r := login(c, u.User, nil)
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "two_factor_required" {
			t.Fatalf("%s: password only = %d %s, want 401 two_factor_required", role, r.Status, r.Body)
		}
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "forumjst_session" && ck.Value != "" {
				t.Errorf("%s: password-only login set a session cookie", role)
			}
		}
		if loggedIn(c) {
			t.Fatalf("%s: password-only login gave a session", role)
		}
		r = login(c, u.User, map[string]string{"otp": wrongCode(t, u.Secret)})
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "two_factor_invalid" || loggedIn(c) {
			t.Fatalf("%s: wrong code = %d %s, want 401 two_factor_invalid and no session", role, r.Status, r.Body)
		}
		// A wrong password with a right code is still the password error.
		r = c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": "nie-to-haslo-123", "otp": code(t, u.Secret, 1)})
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "invalid_credentials" || loggedIn(c) {
			t.Fatalf("%s: wrong password + code = %d %s, want 401 invalid_credentials", role, r.Status, r.Body)
		}
		r = login(c, u.User, map[string]string{"otp": code(t, u.Secret, 1)})
		if r.Status != http.StatusOK || !loggedIn(c) {
			t.Fatalf("%s: password + code = %d %s, want 200 and a session", role, r.Status, r.Body)
		}
	}
	// Members without two-factor login are not asked for a code.
	plain := env.NewUser(model.RoleMember)
	if r := login(env.Anonymous(), plain, nil); r.Status != http.StatusOK {
		t.Fatalf("member without 2FA: %d %s", r.Status, r.Body)
	}
}

// The HTML login: password → a second-step page; no session until the code;
// the step is bound to its own cookie and counts its attempts.
func TestTwoFactorLoginFormHasNoSessionBeforeTheCode(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleStaff))
	c := env.Anonymous()
	r := c.Form("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {"/about"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login/2fa") {
		t.Fatalf("POST /login = %d → %q, want 303 to /login/2fa", r.Status, r.Header.Get("Location"))
	}
	if loggedIn(c) {
		t.Fatal("the password step alone gave a session")
	}
	if r := c.Get("/login/2fa"); r.Status != http.StatusOK || !strings.Contains(r.String(), `autocomplete="one-time-code"`) {
		t.Fatalf("GET /login/2fa = %d", r.Status)
	}
	// Someone without the step's cookie gets nothing from a right code.
	other := env.Anonymous()
	if r := other.Form("/login/2fa", url.Values{"code": {code(t, u.Secret, 1)}}); r.Status != http.StatusSeeOther ||
		!strings.HasPrefix(r.Header.Get("Location"), "/login") || loggedIn(other) {
		t.Fatalf("second step without its cookie = %d → %q", r.Status, r.Header.Get("Location"))
	}
	if r := c.Form("/login/2fa", url.Values{"code": {wrongCode(t, u.Secret)}}); r.Status != http.StatusUnauthorized || loggedIn(c) {
		t.Fatalf("wrong code = %d, want 401 and no session", r.Status)
	}
	r = c.Form("/login/2fa", url.Values{"code": {code(t, u.Secret, 1)}, "next": {"/about"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/about" || !loggedIn(c) {
		t.Fatalf("right code = %d → %q, want 303 to /about and a session", r.Status, r.Header.Get("Location"))
	}
	// The step is spent: its cookie cannot make a second session.
	if n := countRows(t, env, `SELECT count(*) FROM login_challenges WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("%d login challenges left after the login", n)
	}

	// Five attempts per step, then the password is asked again.
	c2 := env.Anonymous()
	c2.Form("/login", url.Values{"email": {u.Email}, "password": {u.Password}})
	for i := 0; i < 5; i++ {
		c2.Form("/login/2fa", url.Values{"code": {wrongCode(t, u.Secret)}})
	}
	r = c2.Form("/login/2fa", url.Values{"code": {code(t, u.Secret, 1)}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login?") || loggedIn(c2) {
		t.Fatalf("sixth attempt on one step = %d → %q, want 303 back to /login", r.Status, r.Header.Get("Location"))
	}
}

func countRows(t *testing.T, env *testkit.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := env.DB.GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// Wrong codes are throttled like wrong passwords: per account, with a growing
// delay; while throttled even the right code is refused.
func TestTwoFactorWrongCodesAreThrottled(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleAdmin))
	c := env.Anonymous()
	for i := 0; i < env.Config.LoginAccountFailures; i++ {
		r := login(c, u.User, map[string]string{"otp": wrongCode(t, u.Secret)})
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "two_factor_invalid" {
			t.Fatalf("wrong code %d = %d %s, want 401 two_factor_invalid", i+1, r.Status, r.Body)
		}
	}
	for _, extra := range []map[string]string{{"otp": code(t, u.Secret, 1)}, {"recovery_code": u.Recovery[0]}, nil} {
		r := login(c, u.User, extra)
		if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("after %d wrong codes, login with %v = %d %s, want 429 with Retry-After", env.Config.LoginAccountFailures, extra, r.Status, r.Body)
		}
	}
	if loggedIn(c) {
		t.Fatal("a throttled login gave a session")
	}
	// The HTML second step is throttled by the same count.
	c2 := env.Anonymous()
	if r := c2.Form("/login", url.Values{"email": {u.Email}, "password": {u.Password}}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("form login while throttled = %d, want 429", r.Status)
	}
}

// A code works once: replaying it within its 30-second window, or using an
// older one after a newer, is refused.
func TestTwoFactorCodeCannotBeReplayed(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleStaff))
	next := code(t, u.Secret, 1)
	c := env.Anonymous()
	if r := login(c, u.User, map[string]string{"otp": next}); r.Status != http.StatusOK {
		t.Fatalf("first use of the code = %d %s", r.Status, r.Body)
	}
	for _, old := range []string{next, code(t, u.Secret, 0)} {
		c2 := env.Anonymous()
		r := login(c2, u.User, map[string]string{"otp": old})
		if r.Status != http.StatusUnauthorized || r.ErrorCode() != "two_factor_invalid" || loggedIn(c2) {
			t.Fatalf("replayed code = %d %s, want 401 two_factor_invalid", r.Status, r.Body)
		}
	}
	// Two parallel logins with one fresh code: at most one wins.
	u2 := enroll(t, env, env.NewUser(model.RoleStaff))
	fresh := code(t, u2.Secret, 1)
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- login(env.Anonymous(), u2.User, map[string]string{"otp": fresh}).Status }()
	}
	ok := 0
	for i := 0; i < 2; i++ {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("two parallel logins with one code: %d succeeded, want exactly 1", ok)
	}
}

// A recovery code logs in once; it is stored hashed; its use is audited.
func TestTwoFactorRecoveryCodeWorksOnce(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleAdmin))
	var stored []string
	if err := env.DB.SelectContext(context.Background(), &stored,
		`SELECT encode(code_hash, 'hex') FROM two_factor_recovery_codes WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 10 {
		t.Fatalf("%d stored recovery codes, want 10", len(stored))
	}
	for _, h := range stored {
		for _, rc := range u.Recovery {
			if strings.Contains(strings.ToUpper(h), strings.ReplaceAll(rc, "-", "")) {
				t.Fatal("a recovery code is stored in clear")
			}
		}
	}
	// Typed in lower case with spaces instead of dashes, as people do.
	typed := strings.ToLower(strings.ReplaceAll(u.Recovery[3], "-", " "))
	c := env.Anonymous()
	if r := login(c, u.User, map[string]string{"recovery_code": typed}); r.Status != http.StatusOK || !loggedIn(c) {
		t.Fatalf("recovery code = %d %s, want 200", r.Status, r.Body)
	}
	c2 := env.Anonymous()
	if r := login(c2, u.User, map[string]string{"recovery_code": u.Recovery[3]}); r.Status != http.StatusUnauthorized ||
		r.ErrorCode() != "two_factor_invalid" || loggedIn(c2) {
		t.Fatalf("same recovery code again = %d %s, want 401 two_factor_invalid", r.Status, r.Body)
	}
	if r := login(c2, u.User, map[string]string{"recovery_code": u.Recovery[4]}); r.Status != http.StatusOK {
		t.Fatalf("another recovery code = %d %s, want 200", r.Status, r.Body)
	}
	if n := auditCount(t, env, "two_factor.recovery_code_used", u.ID); n != 2 {
		t.Errorf("%d two_factor.recovery_code_used audit entries, want 2", n)
	}
	var st struct {
		Left int `json:"recovery_codes_left"`
	}
	c2.Get("/api/v1/me/two-factor").Decode(&st)
	if st.Left != 8 {
		t.Errorf("recovery codes left = %d, want 8", st.Left)
	}
}

// Turning the factor off needs the password and a current code (or a recovery
// code): a stolen session alone cannot do it. Both the change and the refusal
// to change leave the right traces.
func TestTwoFactorDisableNeedsPasswordAndCode(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleStaff))
	// A session, as a thief of the cookie would have it (opened with a
	// recovery code, which is spent by it).
	c := env.Anonymous()
	r := login(c, u.User, map[string]string{"recovery_code": u.Recovery[0]})
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	r.Decode(&out)
	c.CSRF = out.CSRF

	for _, tc := range []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"session alone", map[string]string{}, "password"},
		{"password alone", map[string]string{"password": u.Password}, "code"},
		{"code alone", map[string]string{"code": code(t, u.Secret, 1)}, "password"},
		{"wrong password", map[string]string{"password": "zupelnie-inne-haslo", "code": code(t, u.Secret, 1)}, "password"},
		{"wrong code", map[string]string{"password": u.Password, "code": wrongCode(t, u.Secret)}, "code"},
		{"spent recovery code", map[string]string{"password": u.Password, "recovery_code": u.Recovery[0]}, "code"},
	} {
		r := c.JSON("POST", "/api/v1/me/two-factor/disable", tc.body)
		var e struct {
			Error struct {
				Code    string            `json:"code"`
				Details map[string]string `json:"details"`
			} `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &e)
		if r.Status != http.StatusBadRequest || e.Error.Details[tc.field] == "" {
			t.Errorf("disable with %s = %d %s, want 400 naming %q", tc.name, r.Status, r.Body, tc.field)
		}
	}
	if n := countRows(t, env, `SELECT count(*) FROM two_factor WHERE user_id = $1`, u.ID); n != 1 {
		t.Fatal("a refused disable removed the factor")
	}
	r = c.JSON("POST", "/api/v1/me/two-factor/disable", map[string]string{"password": u.Password, "recovery_code": u.Recovery[1]})
	if r.Status != http.StatusNoContent {
		t.Fatalf("disable with password + recovery code = %d %s, want 204", r.Status, r.Body)
	}
	if r := login(env.Anonymous(), u.User, nil); r.Status != http.StatusOK {
		t.Fatalf("after disabling, password login = %d %s", r.Status, r.Body)
	}
	if n := countRows(t, env, `SELECT count(*) FROM two_factor_recovery_codes WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("%d recovery codes kept after disabling", n)
	}
}

// Every change is in the audit log: enable, recovery codes used and
// regenerated, disable, the admins' dates and resets.
func TestTwoFactorChangesAreAudited(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.NewUser(model.RoleAdmin)
	u := enroll(t, env, env.NewUser(model.RoleStaff))
	if n := auditCount(t, env, "two_factor.enable", u.ID); n != 1 {
		t.Errorf("two_factor.enable entries = %d, want 1", n)
	}
	c := env.Anonymous()
	r := login(c, u.User, map[string]string{"recovery_code": u.Recovery[0]})
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	r.Decode(&out)
	c.CSRF = out.CSRF
	r = c.JSON("POST", "/api/v1/me/two-factor/recovery-codes", map[string]string{"password": u.Password, "code": code(t, u.Secret, 1)})
	if r.Status != http.StatusOK {
		t.Fatalf("regenerate: %d %s", r.Status, r.Body)
	}
	var regen struct {
		Codes []string `json:"recovery_codes"`
	}
	r.Decode(&regen)
	if len(regen.Codes) != 10 || regen.Codes[0] == u.Recovery[0] {
		t.Fatalf("regenerated codes: %v", regen.Codes)
	}
	// The old codes are gone.
	if r := login(env.Anonymous(), u.User, map[string]string{"recovery_code": u.Recovery[5]}); r.Status != http.StatusUnauthorized {
		t.Errorf("an old recovery code after regenerating = %d, want 401", r.Status)
	}
	ac := env.Login(admin)
	if r := ac.JSON("PUT", "/api/v1/admin/two-factor/staff", map[string]any{"enable_by": time.Now().AddDate(0, 1, 0).Format(time.DateOnly)}); r.Status != http.StatusOK {
		t.Fatalf("set staff date: %d %s", r.Status, r.Body)
	}
	if r := ac.JSON("PUT", "/api/v1/admin/two-factor/staff", map[string]any{"enable_by": nil}); r.Status != http.StatusOK {
		t.Fatalf("clear staff date: %d %s", r.Status, r.Body)
	}
	if r := ac.JSON("DELETE", fmt.Sprintf("/api/v1/users/%d/two-factor", u.ID), nil); r.Status != http.StatusNoContent {
		t.Fatalf("admin reset: %d %s", r.Status, r.Body)
	}
	if loggedIn(c) {
		t.Error("the user's session survived an admin reset of their factor")
	}
	for action, want := range map[string]int{
		"two_factor.recovery_code_used": 1, "two_factor.recovery_codes_regenerate": 1, "two_factor.reset": 1,
	} {
		if n := auditCount(t, env, action, u.ID); n != want {
			t.Errorf("%s entries = %d, want %d", action, n, want)
		}
	}
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'two_factor.policy_set' AND actor_id = $1
		AND details->>'role' = 'staff'`, admin.ID); n != 2 {
		t.Errorf("two_factor.policy_set entries = %d, want 2", n)
	}
	// Only admins set dates; to everyone else the endpoints do not exist.
	staff := env.Login(env.NewUser(model.RoleStaff))
	if r := staff.JSON("PUT", "/api/v1/admin/two-factor/staff", map[string]any{"enable_by": "2020-01-01"}); r.Status != http.StatusNotFound {
		t.Errorf("staff setting a date = %d, want 404", r.Status)
	}
	if r := ac.JSON("PUT", "/api/v1/admin/two-factor/members", map[string]any{"enable_by": "2020-01-01"}); r.Status != http.StatusNotFound {
		t.Errorf("a date for an unknown role = %d, want 404", r.Status)
	}
	if r := ac.JSON("PUT", "/api/v1/admin/two-factor/staff", map[string]any{"enable_by": "31.12.2026"}); r.Status != http.StatusBadRequest {
		t.Errorf("a malformed date = %d, want 400", r.Status)
	}
}

// A role's "must enable by" date: before it, a reminder; after it, a holder
// without two-factor login is held at the set-up page (pages redirect, the API
// and the websocket answer 403) until they set it up. The test has a database
// of its own, because the dates apply to everyone in it.
func TestTwoFactorEnforcedByDate(t *testing.T) {
	ctx := context.Background()
	// Any database URL names the server: CreateDatabase makes a new one there.
	own, drop, err := pgadmin.CreateDatabase(ctx, dbURL, pgadmin.TestDBPrefix)
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after the server has stopped.
	t.Cleanup(func() { _ = drop() })
	env := testkit.Start(t, own)

	admin := env.Login(env.NewUser(model.RoleAdmin))
	group := env.NewGroup(model.KindRural)
	mod := env.NewUser(model.RoleMember)
	env.AddMember(mod.ID, group.ID, model.GroupModerator)
	member := env.NewUser(model.RoleMember)
	env.AddMember(member.ID, group.ID, model.GroupMember)

	setDate := func(role string, days int) {
		t.Helper()
		r := admin.JSON("PUT", "/api/v1/admin/two-factor/"+role, map[string]any{"enable_by": time.Now().AddDate(0, 0, days).Format(time.DateOnly)})
		if r.Status != http.StatusOK {
			t.Fatalf("set %s date: %d %s", role, r.Status, r.Body)
		}
	}

	// The admin page sets a date too (the admins' own, in the future).
	if r := admin.Form("/admin/2fa/admin", url.Values{"enable_by": {time.Now().AddDate(0, 0, 30).Format(time.DateOnly)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("admin page: set the admins' date = %d", r.Status)
	}
	if r := admin.Get("/admin/2fa"); r.Status != http.StatusOK || !strings.Contains(r.String(), "Wymagane do") {
		t.Fatalf("admin page after setting a date = %d", r.Status)
	}
	if r := admin.Form("/admin/2fa/admin", url.Values{"enable_by": {"jutro"}}); r.Status != http.StatusBadRequest {
		t.Errorf("admin page: a malformed date = %d, want 400", r.Status)
	}

	// Before the date: everything works, pages remind.
	setDate("moderator", 10)
	mc := env.Login(mod)
	if r := mc.JSON("GET", "/api/v1/forum", nil); r.Status != http.StatusOK {
		t.Fatalf("moderator before the date: /api/v1/forum = %d", r.Status)
	}
	if r := mc.Get("/"); r.Status != http.StatusOK || !strings.Contains(r.String(), `href="/konto/2fa"`) ||
		!strings.Contains(r.String(), "logowanie dwuetapowe") {
		t.Fatalf("moderator before the date: / = %d without the reminder", r.Status)
	}

	// After the date.
	setDate("moderator", -2)
	mc = env.Login(mod) // a fresh login, as the brief's "after login"
	if r := mc.JSON("GET", "/api/v1/forum", nil); r.Status != http.StatusForbidden || r.ErrorCode() != "two_factor_setup_required" {
		t.Fatalf("moderator after the date: /api/v1/forum = %d %s, want 403 two_factor_setup_required", r.Status, r.Body)
	}
	for _, path := range []string{"/", fmt.Sprintf("/g/%d", group.ID), "/notifications"} {
		if r := mc.Get(path); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/konto/2fa" {
			t.Errorf("moderator after the date: GET %s = %d → %q, want 303 to /konto/2fa", path, r.Status, r.Header.Get("Location"))
		}
	}
	if r := mc.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", group.ID), map[string]string{"title": "Wątek", "body": "Treść"}); r.Status != http.StatusForbidden {
		t.Errorf("moderator after the date: new thread = %d, want 403", r.Status)
	}
	if _, resp, err := mc.TryDialWS(env.URL); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		st := 0
		if resp != nil {
			st = resp.StatusCode
		}
		t.Errorf("moderator after the date: websocket = %d (%v), want 403", st, err)
	}
	if r := mc.Get("/konto/2fa"); r.Status != http.StatusOK || !strings.Contains(r.String(), "Twoja rola wymaga") {
		t.Fatalf("the set-up page itself = %d", r.Status)
	}
	// Members are not concerned; admins and staff have no date.
	if r := env.Login(member).JSON("GET", "/api/v1/forum", nil); r.Status != http.StatusOK {
		t.Errorf("member: /api/v1/forum = %d", r.Status)
	}
	if r := admin.JSON("GET", "/api/v1/forum", nil); r.Status != http.StatusOK {
		t.Errorf("admin: /api/v1/forum = %d", r.Status)
	}
	var pol struct {
		Items []struct {
			Role    string `json:"role"`
			Missing *int   `json:"users_without_two_factor"`
		} `json:"items"`
	}
	admin.JSON("GET", "/api/v1/admin/two-factor", nil).Decode(&pol)
	for _, it := range pol.Items {
		if it.Role == "moderator" && (it.Missing == nil || *it.Missing != 1) {
			t.Errorf("policy list: moderators without 2FA = %v, want 1", it.Missing)
		}
	}

	// Setting it up (in the held session) opens everything again.
	r := mc.JSON("GET", "/api/v1/me", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/api/v1/me while held = %d", r.Status)
	}
	r = mc.JSON("POST", "/api/v1/me/two-factor/setup", nil)
	var su struct {
		Secret string `json:"secret"`
		QRURL  string `json:"qr_url"`
	}
	r.Decode(&su)
	if r.Status != http.StatusCreated {
		t.Fatalf("set-up while held = %d %s", r.Status, r.Body)
	}
	if q := mc.Get(su.QRURL); q.Status != http.StatusOK || q.Header.Get("Content-Type") != "image/png" ||
		!strings.HasPrefix(string(q.Body), "\x89PNG") || q.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("QR image = %d %s", q.Status, q.Header.Get("Content-Type"))
	}
	// The QR image is its owner's alone.
	if q := env.Login(member).Get(su.QRURL); q.Status != http.StatusNotFound {
		t.Errorf("another user's QR image = %d, want 404", q.Status)
	}
	if r := mc.JSON("POST", "/api/v1/me/two-factor/enable", map[string]string{"password": mod.Password, "code": code(t, su.Secret, 0)}); r.Status != http.StatusOK {
		t.Fatalf("enable while held = %d %s", r.Status, r.Body)
	}
	if r := mc.JSON("GET", "/api/v1/forum", nil); r.Status != http.StatusOK {
		t.Fatalf("after setting it up: /api/v1/forum = %d %s", r.Status, r.Body)
	}
	if r := mc.Get("/"); r.Status != http.StatusOK || strings.Contains(r.String(), "włącz logowanie dwuetapowe") {
		t.Fatalf("after setting it up: / = %d", r.Status)
	}
}

// `forumjst create-admin` is how a locked-out administrator recovers: it sets
// a new password and removes the second factor they can no longer produce.
func TestTwoFactorCreateAdminRecovers(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := enroll(t, env, env.NewUser(model.RoleAdmin))
	const newPassword = "nowe-haslo-po-utracie-telefonu"
	if _, err := env.App.Accounts.EnsureAdmin(context.Background(), u.Email, u.Name, newPassword); err != nil {
		t.Fatal(err)
	}
	c := env.Anonymous()
	if r := c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": newPassword}); r.Status != http.StatusOK {
		t.Fatalf("login after create-admin = %d %s", r.Status, r.Body)
	}
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'user.create_admin' AND target_id = $1
		AND details->>'two_factor_reset' = 'true'`, u.ID); n != 1 {
		t.Errorf("create-admin audit entries recording the reset = %d, want 1", n)
	}
}

// A stolen session alone cannot put the thief's phone on the account (which
// would lock its owner out): enabling asks for the password again.
func TestTwoFactorEnableNeedsThePassword(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleStaff)
	c := env.Login(u)
	r := c.JSON("POST", "/api/v1/me/two-factor/setup", nil)
	var su struct {
		Secret string `json:"secret"`
	}
	r.Decode(&su)
	for _, body := range []map[string]string{
		{"code": code(t, su.Secret, 0)},
		{"password": "to-nie-jest-haslo", "code": code(t, su.Secret, 0)},
	} {
		r := c.JSON("POST", "/api/v1/me/two-factor/enable", body)
		if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), `"password"`) {
			t.Errorf("enable with %v = %d %s, want 400 naming the password", body, r.Status, r.Body)
		}
	}
	if n := countRows(t, env, `SELECT count(*) FROM two_factor WHERE user_id = $1`, u.ID); n != 0 {
		t.Fatal("two-factor login was enabled without the password")
	}
	if r := login(env.Anonymous(), u, nil); r.Status != http.StatusOK {
		t.Fatalf("the owner's password login = %d %s", r.Status, r.Body)
	}
}
