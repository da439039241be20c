package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func login(c *testkit.Client, email, password string) *testkit.Response {
	return c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
}

func TestLoginSetsSessionCookie(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Anonymous()
	// Email is matched case-insensitively and trimmed.
	r := login(c, "  "+strings.ToUpper(u.Email)+" ", u.Password)
	wantStatus(t, "login", r, http.StatusOK)

	ck := sessionCookie(r)
	if ck == nil {
		t.Fatalf("login sets no %s cookie; Set-Cookie: %q", cookieName, r.Header.Values("Set-Cookie"))
	}
	if !ck.HttpOnly {
		t.Error("session cookie is not HttpOnly")
	}
	if ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie SameSite = %v, want Lax", ck.SameSite)
	}
	if ck.Secure {
		t.Error("session cookie is Secure under http (browsers would drop it)")
	}
	if ck.Path != "/" {
		t.Errorf("session cookie path %q, want /", ck.Path)
	}
	if len(ck.Value) < 43 { // 32 random bytes, base64
		t.Errorf("session token %q is shorter than 32 random bytes", ck.Value)
	}

	var out struct {
		User struct {
			ID          int64                     `json:"id"`
			Email       string                    `json:"email"`
			Memberships []accounts.MembershipView `json:"memberships"`
		} `json:"user"`
		CSRF string `json:"csrf_token"`
	}
	r.Decode(&out)
	if out.User.ID != u.ID || out.User.Email != u.Email || out.User.Memberships == nil {
		t.Errorf("login answered user %+v, want id %d email %s with memberships", out.User, u.ID, u.Email)
	}
	if len(out.CSRF) < 43 {
		t.Errorf("csrf_token %q is too short", out.CSRF)
	}
	if strings.Contains(r.String(), "password") || strings.Contains(r.String(), "argon2") {
		t.Errorf("login response leaks the password hash: %s", r)
	}
	// The cookie is what authenticates from now on.
	me := c.JSON("GET", "/api/v1/me", nil)
	wantStatus(t, "GET /api/v1/me", me, http.StatusOK)
	var meOut struct {
		ID int64 `json:"id"`
	}
	me.Decode(&meOut)
	if meOut.ID != u.ID {
		t.Errorf("/me is user %d, want %d", meOut.ID, u.ID)
	}
	// The session is stored hashed, never as the cookie value.
	var stored int
	if err := env.DB.Get(&stored, `SELECT count(*) FROM sessions WHERE user_id = $1 AND token_hash = $2`, u.ID, []byte(ck.Value)); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Error("the session token is stored in clear")
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Anonymous()
	unknown := login(c, "nobody"+testkit.Unique()+"@test.example", "some-password-123")
	wrong := login(c, u.Email, "not-the-password-123")
	for name, r := range map[string]*testkit.Response{"unknown email": unknown, "wrong password": wrong} {
		wantError(t, name, r, http.StatusUnauthorized, "invalid_credentials")
		if sessionCookie(r) != nil && sessionCookie(r).Value != "" {
			t.Errorf("%s set a session cookie", name)
		}
	}
	if string(unknown.Body) != string(wrong.Body) {
		t.Errorf("bodies differ:\nunknown email:  %s\nwrong password: %s", unknown.Body, wrong.Body)
	}
	// Missing fields are a validation error, not a login attempt.
	r := c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": "", "password": ""})
	wantDetails(t, "empty login", r, "email", "password")
}

func TestLoginThrottling(t *testing.T) {
	env := testkit.Start(t, dbURL)
	existing := env.NewUser(model.RoleMember)
	bystander := env.NewUser(model.RoleMember)
	c := env.Anonymous()
	limit := env.Config.LoginAccountFailures
	if limit != 5 {
		t.Fatalf("default per-account limit is %d, want 5", limit)
	}

	for _, tc := range []struct {
		name, email, password string
	}{
		{"existing account", existing.Email, existing.Password},
		{"unknown email", "ghost" + testkit.Unique() + "@test.example", "whatever-it-is-123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Varying the case or padding of the email does not make it another account.
			variants := []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return " " + s + " " }}
			for i := 1; i <= limit; i++ {
				email := variants[i%len(variants)](tc.email)
				wantError(t, fmt.Sprintf("failure %d", i), login(c, email, "wrong-password-"+strconv.Itoa(i)), http.StatusUnauthorized, "invalid_credentials")
			}
			// Even the right password is refused now.
			r := login(c, tc.email, tc.password)
			wantError(t, "attempt after the limit", r, http.StatusTooManyRequests, "rate_limited")
			ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || ra <= 0 {
				t.Errorf("Retry-After = %q, want a positive number of seconds", r.Header.Get("Retry-After"))
			}
			if sessionCookie(r) != nil && sessionCookie(r).Value != "" {
				t.Error("a throttled login set a session cookie")
			}
			// The HTML form is throttled the same way and says when to retry.
			f := c.Form("/login", url.Values{"email": {tc.email}, "password": {tc.password}})
			if f.Status != http.StatusTooManyRequests || f.Header.Get("Retry-After") == "" {
				t.Errorf("form login after the limit = %d (Retry-After %q), want 429 with Retry-After", f.Status, f.Header.Get("Retry-After"))
			}
		})
	}
	// Another account from the same address is not affected.
	wantStatus(t, "another account from the same address", login(env.Anonymous(), bystander.Email, bystander.Password), http.StatusOK)
}

func TestDisabledUser(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	wantStatus(t, "me before", c.JSON("GET", "/api/v1/me", nil), http.StatusOK)

	wantStatus(t, "disable", admin.JSON("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"disabled": true}), http.StatusOK)
	r := c.JSON("GET", "/api/v1/me", nil)
	wantError(t, "me after disabling", r, http.StatusUnauthorized, "unauthenticated")
	if ck := sessionCookie(r); ck == nil || ck.Value != "" {
		t.Error("a rejected session's cookie is not cleared")
	}
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a disabled user keeps %d sessions", n)
	}
	r = login(env.Anonymous(), u.Email, u.Password)
	wantError(t, "login of a disabled user", r, http.StatusForbidden, "account_disabled")
	if ck := sessionCookie(r); ck != nil && ck.Value != "" {
		t.Error("a disabled user got a session cookie")
	}
	// Enabled again, they log in.
	wantStatus(t, "enable", admin.JSON("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"disabled": false}), http.StatusOK)
	wantStatus(t, "login after enabling", login(env.Anonymous(), u.Email, u.Password), http.StatusOK)
}

func TestLogoutEndsSession(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	token := jarToken(t, c)
	r := c.JSON("POST", "/api/v1/auth/logout", nil)
	wantStatus(t, "logout", r, http.StatusNoContent)
	if ck := sessionCookie(r); ck == nil || ck.Value != "" || (ck.MaxAge >= 0 && !ck.Expires.Before(time.Now())) {
		t.Errorf("logout does not clear the cookie: %+v", ck)
	}
	wantError(t, "me after logout", c.JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	// Ended on the server, not only in this browser.
	wantError(t, "replayed cookie after logout", withToken(t, env, token).JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")

	// The HTML logout does the same and redirects to the login page.
	c = env.Login(u)
	token = jarToken(t, c)
	f := c.Form("/logout", nil)
	if f.Status != http.StatusSeeOther || f.Header.Get("Location") != "/login" {
		t.Errorf("form logout = %d to %q, want 303 to /login", f.Status, f.Header.Get("Location"))
	}
	wantError(t, "replayed cookie after form logout", withToken(t, env, token).JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
}

func TestLoginAgainIssuesNewSession(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	first := jarToken(t, c)
	r := login(c, u.Email, u.Password) // same jar: the old cookie is sent along
	wantStatus(t, "second login", r, http.StatusOK)
	second := jarToken(t, c)
	if first == "" || second == "" || first == second {
		t.Fatalf("second login kept the session id (%q → %q)", first, second)
	}
	wantError(t, "previous cookie", withToken(t, env, first).JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	wantStatus(t, "new cookie", withToken(t, env, second).JSON("GET", "/api/v1/me", nil), http.StatusOK)
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("user has %d sessions after logging in twice from one browser, want 1", n)
	}
}

func TestCSRF(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	member := env.Login(env.NewUser(model.RoleMember))
	jst := func() map[string]any {
		return map[string]any{"name": "Gmina " + testkit.Unique(), "kind": "gmina_wiejska", "voivodeship": "lubelskie"}
	}
	body := func(v map[string]any) *strings.Reader {
		b := fmt.Sprintf(`{"name":%q,"kind":%q,"voivodeship":%q}`, v["name"], v["kind"], v["voivodeship"])
		return strings.NewReader(b)
	}
	jsonH := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}

	cases := []struct {
		name   string
		c      *testkit.Client
		token  string
		header map[string]string
		status int
		code   string
	}{
		{"admin without token", admin, "", nil, http.StatusForbidden, "csrf"},
		{"admin with a wrong token", admin, "x" + admin.CSRF[1:], nil, http.StatusForbidden, "csrf"},
		{"admin with another session's token", admin, member.CSRF, nil, http.StatusForbidden, "csrf"},
		{"admin with the right token", admin, admin.CSRF, nil, http.StatusCreated, ""},
		{"member without token", member, "", nil, http.StatusForbidden, "csrf"},
		{"foreign Origin with the right token", admin, admin.CSRF, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, "cross_origin"},
		{"foreign Referer with the right token", admin, admin.CSRF, map[string]string{"Referer": "https://evil.example/page"}, http.StatusForbidden, "cross_origin"},
		{"same Origin with the right token", admin, admin.CSRF, map[string]string{"Origin": env.URL}, http.StatusCreated, ""},
		{"same-origin Referer with the right token", admin, admin.CSRF, map[string]string{"Referer": env.URL + "/admin/jst"}, http.StatusCreated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			saved := tc.c.CSRF
			tc.c.CSRF = ""
			defer func() { tc.c.CSRF = saved }()
			h := map[string]string{}
			for k, v := range jsonH {
				h[k] = v
			}
			for k, v := range tc.header {
				h[k] = v
			}
			if tc.token != "" {
				h["X-CSRF-Token"] = tc.token
			}
			v := jst()
			r := tc.c.Do("POST", "/api/v1/jst", body(v), h)
			if tc.code != "" {
				wantError(t, tc.name, r, tc.status, tc.code)
				var n int
				if err := env.DB.Get(&n, `SELECT count(*) FROM jst WHERE name = $1`, v["name"]); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Error("a refused request was carried out")
				}
			} else {
				wantStatus(t, tc.name, r, tc.status)
			}
		})
	}

	t.Run("HTML form with _csrf field", func(t *testing.T) {
		name := "Gmina " + testkit.Unique()
		form := url.Values{"name": {name}, "kind": {"gmina_wiejska"}, "voivodeship": {"opolskie"}}
		saved := admin.CSRF
		admin.CSRF = ""
		r := admin.Form("/admin/jst", form) // no token at all
		admin.CSRF = saved
		if r.Status != http.StatusForbidden || !strings.Contains(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("form without _csrf = %d %s, want a 403 page", r.Status, r.Header.Get("Content-Type"))
		}
		r = admin.Form("/admin/jst", form) // Form adds _csrf
		if r.Status != http.StatusSeeOther {
			t.Fatalf("form with _csrf = %d, want 303: %s", r.Status, trim(r.String()))
		}
		var n int
		if err := env.DB.Get(&n, `SELECT count(*) FROM jst WHERE name = $1`, name); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("form with _csrf created %d JSTs, want 1", n)
		}
	})

	t.Run("login from a foreign origin", func(t *testing.T) {
		u := env.NewUser(model.RoleMember)
		b := fmt.Sprintf(`{"email":%q,"password":%q}`, u.Email, u.Password)
		r := env.Anonymous().Do("POST", "/api/v1/auth/login", strings.NewReader(b),
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"})
		wantError(t, "cross-origin login", r, http.StatusForbidden, "cross_origin")
		if sessionCookie(r) != nil {
			t.Error("a cross-origin login set a cookie")
		}
		f := env.Anonymous()
		resp := f.Do("POST", "/login", strings.NewReader(url.Values{"email": {u.Email}, "password": {u.Password}}.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
		if resp.Status != http.StatusForbidden || sessionCookie(resp) != nil {
			t.Errorf("cross-origin form login = %d (cookie %v), want 403 without a cookie", resp.Status, sessionCookie(resp))
		}
	})
}

func TestSessionSurvivesRestart(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	token := jarToken(t, c)
	if err := env.App.Fiber.Shutdown(); err != nil {
		t.Fatalf("stop the first server: %v", err)
	}
	env2 := testkit.Start(t, dbURL)
	r := withToken(t, env2, token).JSON("GET", "/api/v1/me", nil)
	wantStatus(t, "me on the restarted server", r, http.StatusOK)
	var me struct {
		ID int64 `json:"id"`
	}
	r.Decode(&me)
	if me.ID != u.ID {
		t.Errorf("restarted server sees user %d, want %d", me.ID, u.ID)
	}
	// The CSRF token is bound to the session, so it survives as well.
	c2 := withToken(t, env2, token)
	c2.CSRF = c.CSRF
	wantStatus(t, "logout on the restarted server", c2.JSON("POST", "/api/v1/auth/logout", nil), http.StatusNoContent)
}

func TestRoleChangeRotatesSession(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	g := env.NewGroup(model.KindRural)

	for _, tc := range []struct {
		name   string
		change func(u testkit.User) *testkit.Response
		status int
	}{
		{"global role", func(u testkit.User) *testkit.Response {
			return admin.JSON("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]string{"role": model.RoleStaff})
		}, http.StatusOK},
		{"group membership", func(u testkit.User) *testkit.Response {
			return admin.JSON("PUT", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, u.ID), map[string]string{"role": model.GroupModerator})
		}, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := env.NewUser(model.RoleMember)
			c := env.Login(u)
			old := jarToken(t, c)
			wantStatus(t, "change", tc.change(u), tc.status)

			r := c.JSON("GET", "/api/v1/me", nil)
			wantStatus(t, "first request after the change", r, http.StatusOK)
			ck := sessionCookie(r)
			if ck == nil || ck.Value == "" || ck.Value == old {
				t.Fatalf("no new session cookie after the change: %+v", ck)
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("rotated cookie lost its attributes: %+v", ck)
			}
			wantError(t, "old token", withToken(t, env, old).JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
			r = withToken(t, env, ck.Value).JSON("GET", "/api/v1/me", nil)
			wantStatus(t, "new token", r, http.StatusOK)
			if sessionCookie(r) != nil {
				t.Error("the session is rotated again on the next request")
			}
			// The new rights apply.
			var me struct {
				Role        string                    `json:"role"`
				Memberships []accounts.MembershipView `json:"memberships"`
			}
			r.Decode(&me)
			if tc.name == "global role" && me.Role != model.RoleStaff {
				t.Errorf("role after change = %q", me.Role)
			}
			if tc.name == "group membership" && (len(me.Memberships) != 1 || me.Memberships[0].Role != model.GroupModerator) {
				t.Errorf("memberships after change = %+v", me.Memberships)
			}
		})
	}
}

func TestAdminEndsAllSessions(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	u := env.NewUser(model.RoleMember)
	laptop, phone := env.Login(u), env.Login(u)
	other := env.NewUser(model.RoleMember)
	otherC := env.Login(other)

	r := admin.JSON("GET", "/api/v1/users/"+itoa(u.ID), nil)
	wantStatus(t, "user detail", r, http.StatusOK)
	var detail struct {
		Sessions int `json:"active_sessions"`
	}
	r.Decode(&detail)
	if detail.Sessions != 2 {
		t.Errorf("active_sessions = %d, want 2", detail.Sessions)
	}

	wantStatus(t, "end sessions", admin.JSON("DELETE", "/api/v1/users/"+itoa(u.ID)+"/sessions", nil), http.StatusNoContent)
	for name, c := range map[string]*testkit.Client{"laptop": laptop, "phone": phone} {
		wantError(t, name, c.JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	}
	wantStatus(t, "another user's session", otherC.JSON("GET", "/api/v1/me", nil), http.StatusOK)
	wantError(t, "unknown user", admin.JSON("DELETE", "/api/v1/users/999999999/sessions", nil), http.StatusNotFound, "not_found")
}

func TestLoginForm(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)

	t.Run("page", func(t *testing.T) {
		r := env.Anonymous().Get("/login?next=" + url.QueryEscape("/g/5"))
		wantStatus(t, "GET /login", r, http.StatusOK)
		if !contains(r.String(), `name="next" value="/g/5"`, `name="email"`, `name="password"`) {
			t.Errorf("login page lacks the form: %s", trim(r.String()))
		}
		r = env.Anonymous().Get("/login?next=" + url.QueryEscape("//evil.example"))
		if strings.Contains(r.String(), "evil.example") {
			t.Error("login page keeps an off-site next")
		}
	})

	t.Run("failure keeps the email", func(t *testing.T) {
		c := env.Anonymous()
		r := c.Form("/login", url.Values{"email": {u.Email}, "password": {"wrong-password-1"}, "next": {"/g/7"}})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("failed form login = %d, want 401", r.Status)
		}
		page := r.String()
		if !contains(page, `value="`+u.Email+`"`, `role="alert"`, `name="next" value="/g/7"`) {
			t.Errorf("failed login page lacks the email, the error or next: %s", trim(page))
		}
		if strings.Contains(page, "wrong-password-1") {
			t.Error("failed login page echoes the password")
		}
		if sessionCookie(r) != nil {
			t.Error("failed login sets a session cookie")
		}
		r = c.Form("/login", url.Values{"email": {u.Email}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), `aria-invalid="true"`) {
			t.Errorf("login without a password = %d, want 400 with the field marked invalid", r.Status)
		}
	})

	// Every case is a successful login: next decides only where it lands.
	for _, tc := range []struct{ next, want string }{
		{"/g/12?page=2", "/g/12?page=2"},
		{"", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"javascript:alert(1)", "/"},
	} {
		t.Run(fmt.Sprintf("next=%q", tc.next), func(t *testing.T) {
			c := env.Anonymous()
			r := c.Form("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {tc.next}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("form login = %d, want 303: %s", r.Status, trim(r.String()))
			}
			if loc := r.Header.Get("Location"); loc != tc.want {
				t.Errorf("redirect to %q, want %q", loc, tc.want)
			}
			if ck := sessionCookie(r); ck == nil || ck.Value == "" || !ck.HttpOnly {
				t.Errorf("form login sets no HttpOnly session cookie: %+v", ck)
			}
		})
	}

	t.Run("logged-in visitor is sent on", func(t *testing.T) {
		c := env.Login(u)
		r := c.Get("/login?next=" + url.QueryEscape("//evil.example"))
		if loc := r.Header.Get("Location"); r.Status/100 != 3 || loc != "/" {
			t.Errorf("GET /login when logged in = %d to %q, want a redirect to /", r.Status, loc)
		}
	})
}

// Requests that race a pending rotation (a page and its assets right after a role
// change) are never answered with an error other than 401: losing the race to
// rotate is not a failure of the request.
func TestConcurrentRequestsDuringRotation(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	for round := 0; round < 5; round++ {
		u := env.NewUser(model.RoleMember)
		token := jarToken(t, env.Login(u))
		wantStatus(t, "promote", admin.JSON("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]string{"role": model.RoleStaff}), http.StatusOK)

		const n = 8
		statuses := make(chan int, n)
		newCookies := make(chan string, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			c := withToken(t, env, token)
			go func() {
				<-start
				req, _ := http.NewRequest("GET", env.URL+"/api/v1/me", nil)
				req.Header.Set("Accept", "application/json")
				resp, err := c.HTTP.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				resp.Body.Close()
				for _, ck := range resp.Cookies() {
					if ck.Name == cookieName && ck.Value != "" {
						newCookies <- ck.Value
					}
				}
				statuses <- resp.StatusCode
			}()
		}
		close(start)
		ok := 0
		for i := 0; i < n; i++ {
			switch s := <-statuses; s {
			case http.StatusOK:
				ok++
			case http.StatusUnauthorized: // arrived after the rotation: the old token is gone
			default:
				t.Errorf("round %d: a request racing the rotation answered %d", round, s)
			}
		}
		close(newCookies)
		var issued []string
		for v := range newCookies {
			issued = append(issued, v)
		}
		if ok == 0 || len(issued) != 1 {
			t.Errorf("round %d: %d requests served, %d new tokens issued; want at least 1 served and exactly 1 token", round, ok, len(issued))
			continue
		}
		wantStatus(t, "the issued token", withToken(t, env, issued[0]).JSON("GET", "/api/v1/me", nil), http.StatusOK)
	}
}

// Sessions end after the idle lifetime without activity and after the absolute
// lifetime whatever the activity; activity is recorded.
func TestSessionLifetimes(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	idle := int(env.Config.SessionIdle.Seconds())
	for _, tc := range []struct {
		name   string
		update string
		status int
	}{
		{"active a while ago", `UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE user_id = $1`, http.StatusOK},
		{"idle too long", fmt.Sprintf(`UPDATE sessions SET last_seen_at = now() - interval '%d seconds' WHERE user_id = $1`, idle+60), http.StatusUnauthorized},
		{"past the absolute lifetime", `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := env.DB.Exec(`DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
			c := env.Login(u)
			if _, err := env.DB.Exec(tc.update, u.ID); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, "me", c.JSON("GET", "/api/v1/me", nil), tc.status)
			if tc.status == http.StatusOK {
				var recent bool
				if err := env.DB.Get(&recent, `SELECT last_seen_at > now() - interval '1 minute' FROM sessions WHERE user_id = $1`, u.ID); err != nil {
					t.Fatal(err)
				}
				if !recent {
					t.Error("activity was not recorded")
				}
			}
		})
	}
}
