package web_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// leaks are fragments that must never reach a client: Go, SQL and driver internals.
var leaks = []string{"pq:", "sql:", "json:", "SELECT", "INSERT", "goroutine", ".go:", "runtime.", "strconv.", "reflect", "fiber", "fasthttp", "users_email_key", "violates"}

func checkNoLeak(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, l := range leaks {
		if bytes.Contains(body, []byte(l)) {
			t.Errorf("%s: body leaks %q: %s", what, l, trim(string(body)))
		}
	}
}

func TestBadInput(t *testing.T) {
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.MaxBodyBytes = 64 << 10 })
	admin := env.Login(env.NewUser(model.RoleAdmin))
	g := env.NewGroup(model.KindRural)
	jsonCT := "application/json"
	validJST := `{"name":"Gmina ` + testkit.Unique() + `","kind":"powiat","voivodeship":"opolskie"}`

	cases := []struct {
		name         string
		method, path string
		contentType  string
		body         string
		status       int
		code         string
		details      []string
	}{
		{"malformed JSON", "POST", "/api/v1/jst", jsonCT, `{"name": "Gmina",`, 400, "bad_request", nil},
		{"not JSON at all", "POST", "/api/v1/jst", jsonCT, `name=Gmina`, 400, "bad_request", nil},
		{"unknown field", "POST", "/api/v1/jst", jsonCT, `{"name":"Gmina X","kind":"powiat","voivodeship":"opolskie","population":5}`, 400, "bad_request", nil},
		{"unknown field in login", "POST", "/api/v1/auth/login", jsonCT, `{"email":"a@b.example","password":"x","remember":true}`, 400, "bad_request", nil},
		{"trailing object", "POST", "/api/v1/jst", jsonCT, validJST + `{}`, 400, "bad_request", nil},
		{"trailing garbage", "POST", "/api/v1/jst", jsonCT, validJST + ` xyz`, 400, "bad_request", nil},
		{"wrong field type", "POST", "/api/v1/jst", jsonCT, `{"name":12,"kind":"powiat","voivodeship":"opolskie"}`, 400, "bad_request", nil},
		{"wrong id type", "POST", "/api/v1/users", jsonCT, `{"email":"a@b.example","name":"Ab","password":"dlugie-haslo-1","jst_id":"7"}`, 400, "bad_request", nil},
		{"array instead of object", "POST", "/api/v1/jst", jsonCT, `[1,2]`, 400, "bad_request", nil},
		{"text/plain", "POST", "/api/v1/jst", "text/plain", validJST, 400, "bad_request", nil},
		{"form encoding on a JSON endpoint", "POST", "/api/v1/jst", "application/x-www-form-urlencoded", "name=Gmina", 400, "bad_request", nil},
		{"empty body", "POST", "/api/v1/jst", jsonCT, ``, 400, "bad_request", nil},
		{"blank body", "POST", "/api/v1/jst", jsonCT, "  \n ", 400, "bad_request", nil},
		{"empty PATCH body", "PATCH", "/api/v1/users/1", jsonCT, ``, 400, "bad_request", nil},
		{"validation details", "POST", "/api/v1/jst", jsonCT, `{"name":"","kind":"x","voivodeship":"y","teryt":"1"}`, 400, "validation", []string{"name", "kind", "voivodeship", "teryt"}},
		{"limit=0", "GET", "/api/v1/users?limit=0", "", "", 400, "bad_request", nil},
		{"limit=201", "GET", "/api/v1/users?limit=201", "", "", 400, "bad_request", nil},
		{"limit=-5", "GET", "/api/v1/jst?limit=-5", "", "", 400, "bad_request", nil},
		{"limit=abc", "GET", "/api/v1/jst?limit=abc", "", "", 400, "bad_request", nil},
		{"page=0", "GET", "/api/v1/users?page=0", "", "", 400, "bad_request", nil},
		{"page=abc", "GET", "/api/v1/users?page=abc", "", "", 400, "bad_request", nil},
		{"page=1.5", "GET", "/api/v1/invitations?page=1.5", "", "", 400, "bad_request", nil},
		{"non-numeric user id", "GET", "/api/v1/users/abc", "", "", 404, "not_found", nil},
		{"zero user id", "GET", "/api/v1/users/0", "", "", 404, "not_found", nil},
		{"negative user id", "PATCH", "/api/v1/users/-3", jsonCT, `{"name":"Xx"}`, 404, "not_found", nil},
		{"overflowing user id", "GET", "/api/v1/users/99999999999999999999", "", "", 404, "not_found", nil},
		{"unknown user id", "GET", "/api/v1/users/999999999", "", "", 404, "not_found", nil},
		{"non-numeric group id", "GET", "/api/v1/groups/abc/members", "", "", 404, "not_found", nil},
		{"non-numeric member id", "PUT", fmt.Sprintf("/api/v1/groups/%d/members/x1", g.ID), jsonCT, `{"role":"member"}`, 404, "not_found", nil},
		{"unknown group id", "GET", "/api/v1/groups/999999999/members", "", "", 404, "not_found", nil},
		{"non-numeric id on a page", "GET", "/g/abc", "", "", 404, "not_found", nil},
		{"non-numeric id on an admin page", "GET", "/admin/users/abc", "", "", 404, "not_found", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{"Accept": "application/json"}
			if tc.contentType != "" {
				h["Content-Type"] = tc.contentType
			}
			var body io.Reader
			if tc.method != "GET" {
				body = strings.NewReader(tc.body)
			}
			r := admin.Do(tc.method, tc.path, body, h)
			e := wantError(t, tc.name, r, tc.status, tc.code)
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("error Content-Type %q, want JSON", r.Header.Get("Content-Type"))
			}
			for _, f := range tc.details {
				if e.Error.Details[f] == "" {
					t.Errorf("details lack %q: %v", f, e.Error.Details)
				}
			}
			if tc.details == nil && len(e.Error.Details) > 0 {
				t.Errorf("unexpected details %v", e.Error.Details)
			}
			checkNoLeak(t, tc.name, r.Body)
		})
	}
	// Nothing of the refused bodies was stored.
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM jst WHERE name IN ('Gmina', 'Gmina X')`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d JSTs were created from refused requests", n)
	}

	t.Run("body over the limit", func(t *testing.T) {
		for _, path := range []string{"/api/v1/jst", "/api/v1/auth/login"} {
			r := oversized(t, env, path, 100<<10, map[string]string{"Accept": jsonCT})
			wantError(t, "100 KiB body", r, http.StatusRequestEntityTooLarge, "too_large")
			checkNoLeak(t, "100 KiB body", r.Body)
		}
		// Just under the limit is read (and refused for its content, not its size).
		ok := `{"name":"` + strings.Repeat("a", 60<<10) + `","kind":"powiat","voivodeship":"opolskie"}`
		r := admin.Do("POST", "/api/v1/jst", strings.NewReader(ok), map[string]string{"Content-Type": jsonCT})
		wantDetails(t, "60 KiB body", r, "name")
	})

	t.Run("HTML pages answer errors as pages", func(t *testing.T) {
		r := admin.Get("/admin/users?limit=0")
		if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET /admin/users?limit=0 = %d %s, want a 400 page", r.Status, r.Header.Get("Content-Type"))
		}
		checkNoLeak(t, "400 page", r.Body)
	})
}
