package security_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The attack: the CSRF token was accepted in the query string
// (POST /t/1/posts?_csrf=…), where it leaks through logs, Referer and
// browser history. It is taken only from the X-CSRF-Token header or the
// form body's _csrf field.
func TestCSRFTokenNotTakenFromQueryString(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g := env.NewGroup(model.KindRural)
	u := env.NewUser(model.RoleMember)
	env.AddMember(u.ID, g.ID, model.GroupMember)
	threadID, _ := env.NewThread(g.ID, u.ID, 1)
	c := env.Login(u)
	token := c.CSRF
	count := func() int {
		var n int
		if err := env.DB.Get(&n, `SELECT count(*) FROM posts WHERE thread_id = $1`, threadID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()

	// Token in the query only: refused, for a form and for JSON.
	c.CSRF = ""
	form := url.Values{"body": {"Odpowiedź z tokenem w adresie"}}
	r := c.Do("POST", fmt.Sprintf("/t/%d/posts?_csrf=%s", threadID, url.QueryEscape(token)), strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.Status != http.StatusForbidden {
		t.Errorf("form post with the token in the query = %d, want 403", r.Status)
	}
	r = c.Do("POST", fmt.Sprintf("/api/v1/threads/%d/posts?_csrf=%s", threadID, url.QueryEscape(token)),
		strings.NewReader(`{"body":"Odpowiedź z tokenem w adresie"}`), map[string]string{"Content-Type": "application/json"})
	if r.Status != http.StatusForbidden || r.ErrorCode() != "csrf" {
		t.Errorf("JSON post with the token in the query = %d %s, want 403 csrf", r.Status, r.Body)
	}
	if n := count(); n != before {
		t.Fatalf("posts = %d after refused requests, want %d", n, before)
	}

	// The ways that remain: the form field and the header.
	r = c.Form(fmt.Sprintf("/t/%d/posts", threadID), url.Values{"body": {"Odpowiedź z polem formularza"}, "_csrf": {token}})
	if r.Status != http.StatusSeeOther {
		t.Errorf("form post with _csrf in the body = %d, want 303", r.Status)
	}
	c.CSRF = token
	r = c.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{"body": "Odpowiedź z nagłówkiem"})
	if r.Status != http.StatusCreated {
		t.Errorf("JSON post with the header = %d %s, want 201", r.Status, r.Body)
	}
	if n := count(); n != before+2 {
		t.Errorf("posts = %d, want %d", n, before+2)
	}
}
