package security_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The attack: an admin endpoint decoded {"ROLE":"staff"} as {"role":"staff"}
// (encoding/json matches names case-insensitively) and a repeated member won
// ({"role":"member","role":"staff"} applied "staff"). Bodies are now decoded
// strictly: exact names, no repeats, nothing unknown, nothing after the object.
func TestStrictJSONBodies(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	target := env.NewUser(model.RoleMember)
	path := fmt.Sprintf("/api/v1/users/%d", target.ID)

	refused := []struct{ name, body string }{
		{"name in upper case", `{"ROLE":"staff"}`},
		{"name in mixed case", `{"Role":"staff"}`},
		{"name differing by a Unicode fold", `{"ro\u212ae":"staff"}`}, // KELVIN SIGN folds to k in encoding/json; here it is just unknown
		{"repeated name", `{"role":"member","role":"staff"}`},
		{"repeated name, escaped", `{"role":"member","r\u006fle":"staff"}`},
		{"repeated name among others", `{"job_title":"Skarbnik","role":"member","disabled":false,"role":"staff"}`},
		{"trailing object", `{"role":"member"}{"role":"staff"}`},
		{"top-level array", `[{"role":"staff"}]`},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.Do("PATCH", path, strings.NewReader(tc.body), map[string]string{"Content-Type": "application/json", "Accept": "application/json"})
			if r.Status != http.StatusBadRequest || r.ErrorCode() != "bad_request" {
				t.Fatalf("PATCH %s = %d %s, want 400 bad_request", tc.body, r.Status, r.Body)
			}
			var role string
			if err := env.DB.Get(&role, `SELECT role FROM users WHERE id = $1`, target.ID); err != nil {
				t.Fatal(err)
			}
			if role != model.RoleMember {
				t.Fatalf("role after refused PATCH %s = %q, want member", tc.body, role)
			}
		})
	}

	t.Run("messages name the member", func(t *testing.T) {
		r := admin.Do("PATCH", path, strings.NewReader(`{"role":"member","role":"staff"}`), map[string]string{"Content-Type": "application/json"})
		if !strings.Contains(r.String(), `role`) || !strings.Contains(r.String(), "more than once") {
			t.Errorf("duplicate message = %s", r.Body)
		}
		r = admin.Do("PATCH", path, strings.NewReader(`{"ROLE":"staff"}`), map[string]string{"Content-Type": "application/json"})
		if !strings.Contains(r.String(), `unknown field`) || !strings.Contains(r.String(), `ROLE`) {
			t.Errorf("unknown-name message = %s", r.Body)
		}
		r = admin.Do("PATCH", path, strings.NewReader(`{"disabled":"yes"}`), map[string]string{"Content-Type": "application/json"})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), `disabled`) {
			t.Errorf("type message = %d %s", r.Status, r.Body)
		}
	})

	t.Run("exact names still work", func(t *testing.T) {
		r := admin.Do("PATCH", path, strings.NewReader(`{"job_title":"Skarbnik"}`), map[string]string{"Content-Type": "application/json"})
		if r.Status != http.StatusOK {
			t.Fatalf("PATCH job_title = %d %s", r.Status, r.Body)
		}
	})

	t.Run("login too", func(t *testing.T) {
		u := env.NewUser(model.RoleMember)
		for _, body := range []string{
			fmt.Sprintf(`{"EMAIL":%q,"password":%q}`, u.Email, u.Password),
			fmt.Sprintf(`{"email":"nobody@test.example","email":%q,"password":%q}`, u.Email, u.Password),
		} {
			r := env.Anonymous().Do("POST", "/api/v1/auth/login", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
			if r.Status != http.StatusBadRequest {
				t.Errorf("login with %s = %d %s, want 400", body, r.Status, r.Body)
			}
		}
	})
}
