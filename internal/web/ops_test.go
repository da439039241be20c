package web_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func TestHealthAndReadiness(t *testing.T) {
	env := testkit.Start(t, dbURL)
	c := env.Anonymous()
	for path, status := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		r := c.Get(path)
		wantStatus(t, path, r, http.StatusOK)
		var out struct {
			Status string `json:"status"`
		}
		r.Decode(&out)
		if out.Status != status {
			t.Errorf("%s status %q, want %q", path, out.Status, status)
		}
	}
	// Readiness follows the database; liveness does not.
	if err := env.DB.Close(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "/readyz without a database", c.Get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, "/healthz without a database", c.Get("/healthz"), http.StatusOK)
}

func TestMetrics(t *testing.T) {
	env := testkit.Start(t, dbURL)
	c := env.Anonymous()
	wantStatus(t, "healthz", c.Get("/healthz"), http.StatusOK)
	c.Get("/api/v1/users/123")   // 401, a parameterised route
	c.Get("/no-such-page-12345") // 404, unmatched
	r := c.Get("/metrics")
	wantStatus(t, "/metrics", r, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("metrics Content-Type %q", r.Header.Get("Content-Type"))
	}
	text := r.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^forumjst_http_requests_total\{method="GET",route="/healthz",status="200"\} [1-9]`),
		// The route label is the pattern, not the path (bounded cardinality).
		regexp.MustCompile(`(?m)^forumjst_http_requests_total\{method="GET",route="/api/v1/users/:id",status="401"\} 1$`),
		regexp.MustCompile(`(?m)^forumjst_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$`),
		regexp.MustCompile(`(?m)^forumjst_http_request_duration_seconds_bucket\{method="GET",route="/healthz",le="`),
		// Pool metrics of collectors.NewDBStatsCollector(db, "forumjst"): go_sql_* labelled db_name.
		regexp.MustCompile(`(?m)^go_sql_open_connections\{db_name="forumjst"\} \d+`),
		regexp.MustCompile(`(?m)^go_sql_max_open_connections\{db_name="forumjst"\} [1-9]`),
		regexp.MustCompile(`(?m)^go_sql_wait_count_total\{db_name="forumjst"\} \d+`),
		regexp.MustCompile(`(?m)^go_goroutines \d+`),
	} {
		if !want.MatchString(text) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "/api/v1/users/123") || strings.Contains(text, "no-such-page") {
		t.Error("metrics are labelled with raw paths")
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.MaxBodyBytes = 8 << 10 })
	member := env.Login(env.NewUser(model.RoleMember))
	anon := env.Anonymous()
	css := staticCSS(t, anon)

	cases := []struct {
		name   string
		c      *testkit.Client
		method string
		path   string
		body   string
	}{
		{"about page", anon, "GET", "/", ""},
		{"login page", anon, "GET", "/login", ""},
		{"index", member, "GET", "/", ""},
		{"API 200", member, "GET", "/api/v1/me", ""},
		{"API 401", anon, "GET", "/api/v1/me", ""},
		{"API 404", member, "GET", "/api/v1/users", ""},
		{"login redirect", anon, "GET", "/admin/users", ""},
		{"404 page", anon, "GET", "/nothing-here", ""},
		{"static file", anon, "GET", css, ""},
		{"healthz", anon, "GET", "/healthz", ""},
		{"metrics", anon, "GET", "/metrics", ""},
		{"logout (204, last use of member)", member, "POST", "/api/v1/auth/logout", ""},
		{"CSRF refusal", anon, "POST", "/api/v1/auth/login", ""},
		{"body too large", anon, "POST", "/api/v1/auth/login", strings.Repeat("x", 16<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *testkit.Response
			if tc.name == "body too large" {
				r = oversized(t, env, tc.path, len(tc.body), nil)
				if r.Status != http.StatusRequestEntityTooLarge {
					t.Fatalf("oversized body = %d, want 413", r.Status)
				}
			} else if tc.method == "GET" {
				r = tc.c.Get(tc.path)
			} else {
				h := map[string]string{"Content-Type": "application/json"}
				if tc.name == "CSRF refusal" {
					h["Origin"] = "https://evil.example"
				}
				r = tc.c.Do(tc.method, tc.path, strings.NewReader(tc.body), h)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "img-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP lacks %s", d)
				}
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "strict-origin-when-cross-origin",
				"X-Frame-Options":        "DENY",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q (status %d)", h, got, want, r.Status)
				}
			}
			if r.Header.Get("X-Request-ID") == "" {
				t.Errorf("no X-Request-ID (status %d)", r.Status)
			}
			if r.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS sent under http")
			}
		})
	}
}

func TestRequestIDAndLogs(t *testing.T) {
	env := testkit.Start(t, dbURL)
	c := env.Anonymous()
	r := c.Do("GET", "/login", nil, map[string]string{"X-Request-ID": "proba-12345"})
	if got := r.Header.Get("X-Request-ID"); got != "proba-12345" {
		t.Errorf("X-Request-ID echoed as %q", got)
	}
	// An overlong id is replaced, not trusted.
	r = c.Do("GET", "/login", nil, map[string]string{"X-Request-ID": strings.Repeat("z", 200)})
	if got := r.Header.Get("X-Request-ID"); got == "" || len(got) > 64 {
		t.Errorf("overlong request id answered as %q", got)
	}
	generated := c.Get("/about").Header.Get("X-Request-ID")
	if len(generated) < 16 {
		t.Errorf("generated request id %q", generated)
	}

	found := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(env.Logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if line["msg"] != "request" {
			continue
		}
		id, _ := line["request_id"].(string)
		if id == "" {
			t.Errorf("request log line without request_id: %s", sc.Text())
		}
		found[id] = true
		if id == "proba-12345" {
			if line["path"] != "/login" || line["status"] != float64(200) || line["route"] != "/login" || line["method"] != "GET" || line["level"] != "INFO" {
				t.Errorf("request log line = %v", line)
			}
			if _, ok := line["duration_ms"].(float64); !ok {
				t.Errorf("request log line lacks duration_ms: %v", line)
			}
		}
	}
	if !found["proba-12345"] || !found[generated] {
		t.Errorf("log lacks the requests' ids (found %v)", found)
	}
}

var staticRE = regexp.MustCompile(`/static/([0-9a-f]{12})/css/app\.css`)

func staticCSS(t *testing.T, c *testkit.Client) string {
	t.Helper()
	m := staticRE.FindString(c.Get("/login").String())
	if m == "" {
		t.Fatal("login page links no hashed app.css")
	}
	return m
}

func TestStaticAssets(t *testing.T) {
	env := testkit.Start(t, dbURL)
	c := env.Anonymous()
	css := staticCSS(t, c)
	r := c.Get(css)
	wantStatus(t, css, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q, want a year, immutable", cc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if len(r.Body) == 0 {
		t.Error("empty stylesheet")
	}
	// An old hash still gets the file, but not for a year.
	old := c.Get("/static/000000000000/css/app.css")
	wantStatus(t, "old hash", old, http.StatusOK)
	if cc := old.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") || strings.Contains(cc, "31536000") {
		t.Errorf("old hash cached as %q", cc)
	}
	js := strings.Replace(css, "css/app.css", "js/a11y.js", 1)
	if r := c.Get(js); r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET %s = %d %s", js, r.Status, r.Header.Get("Content-Type"))
	}
	hash := strings.Split(css, "/")[2]
	for _, p := range []string{"/static/" + hash + "/css/nope.css", "/static/" + hash + "/../../go.mod", "/static/" + hash + "/%2e%2e/%2e%2e/go.mod", "/static/" + hash + "/"} {
		if r := c.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, r.Status)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	env := testkit.Start(t, dbURL)
	member := env.Login(env.NewUser(model.RoleMember))
	for _, c := range []struct {
		name string
		cl   *testkit.Client
	}{{"anonymous", env.Anonymous()}, {"member", member}} {
		t.Run(c.name, func(t *testing.T) {
			r := c.cl.Get("/no/such/page")
			wantStatus(t, "unknown page", r, http.StatusNotFound)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("unknown page Content-Type %q, want HTML", ct)
			}
			if !contains(r.String(), `<html lang="pl">`, "Nie znaleziono") {
				t.Errorf("404 page is not the Polish error page: %s", trim(r.String()))
			}
			for _, p := range []string{"/api/v1/no/such/thing", "/api/v2/users", "/api/v1/"} {
				r = c.cl.Get(p)
				wantError(t, p, r, http.StatusNotFound, "not_found")
			}
			// A page asked for JSON answers JSON.
			wantError(t, "unknown page as JSON", c.cl.JSON("GET", "/no/such/page", nil), http.StatusNotFound, "not_found")
			// Unsupported methods on known paths.
			r = c.cl.Do("DELETE", "/api/v1/me", nil, map[string]string{"Accept": "application/json"})
			if r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
				t.Errorf("DELETE /api/v1/me = %d, want 404 or 405", r.Status)
			}
			checkNoLeak(t, "DELETE /api/v1/me", r.Body)
		})
	}
}

// The client address (logged, and the key of per-address login throttling) comes
// from X-Forwarded-For only when the connection is from a configured proxy.
func TestClientAddress(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no proxy configured", nil, "127.0.0.1"},
		{"another proxy configured", []string{"10.1.2.3"}, "127.0.0.1"},
		{"the connection is from a trusted proxy", []string{"127.0.0.1"}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testkit.Start(t, dbURL, func(c *config.Config) { c.TrustedProxies = tc.proxies })
			email := "adres" + testkit.Unique() + "@test.example"
			env.Anonymous().Do("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"`+email+`","password":"zle-haslo-123"}`),
				map[string]string{"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9", "X-Request-ID": "adres-" + email})
			var ip string
			if err := env.DB.Get(&ip, `SELECT ip FROM login_failures WHERE account = $1`, email); err != nil {
				t.Fatal(err)
			}
			if ip != tc.want {
				t.Errorf("login failure recorded for %q, want %q", ip, tc.want)
			}
			logged := ""
			for _, line := range strings.Split(env.Logs.String(), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["request_id"] == "adres-"+email {
					logged, _ = m["ip"].(string)
				}
			}
			if logged != tc.want {
				t.Errorf("request logged with ip %q, want %q", logged, tc.want)
			}
		})
	}
}
