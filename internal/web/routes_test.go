package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The forms for a new thread and a new meeting read their group through the
// services' group reads: someone outside the group gets 404 (the group is
// not there for them), a member who may not open a meeting 403, and the
// moderator the form, which leads back to that group.
func TestNewFormsReadTheirGroup(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g, other := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	member, moderator, outsider := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(member.ID, g.ID, model.GroupMember)
	env.AddMember(moderator.ID, g.ID, model.GroupModerator)
	env.AddMember(outsider.ID, other.ID, model.GroupMember)
	m, mod, out := env.Login(member), env.Login(moderator), env.Login(outsider)
	thread, meeting := fmt.Sprintf("/g/%d/new", g.ID), fmt.Sprintf("/g/%d/meetings/new", g.ID)
	for _, c := range []struct {
		who  *testkit.Client
		path string
		want int
	}{
		{out, thread, http.StatusNotFound}, {out, meeting, http.StatusNotFound},
		{m, thread, http.StatusOK}, {m, meeting, http.StatusForbidden},
		{mod, thread, http.StatusOK}, {mod, meeting, http.StatusOK},
	} {
		r := c.who.Get(c.path)
		if r.Status != c.want {
			t.Errorf("GET %s = %d, want %d", c.path, r.Status, c.want)
		}
		if back := fmt.Sprintf(`href="/g/%d`, g.ID); r.Status == http.StatusOK && !strings.Contains(r.String(), back) {
			t.Errorf("GET %s has no link back to its group (%s)", c.path, back)
		}
	}
}

// Errors answer in JSON on the API's routes and anything else under /api,
// and as a page elsewhere: decided by the route table, whatever the case of
// the path (the router ignores it).
func TestErrorFormatFollowsRouteTable(t *testing.T) {
	env := testkit.Start(t, dbURL)
	anon := env.Anonymous()
	for _, c := range []struct {
		path     string
		status   int
		wantJSON bool
	}{
		{"/api/v1/no-such-thing", http.StatusNotFound, true},
		{"/api/other", http.StatusNotFound, true},
		{"/api/v1/me", http.StatusUnauthorized, true},
		{"/API/V1/ME", http.StatusUnauthorized, true},
		{"/no-such-page", http.StatusNotFound, false},
	} {
		r := anon.Get(c.path)
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if r.Status != c.status || isJSON != c.wantJSON {
			t.Errorf("GET %s = %d (JSON %v), want %d (JSON %v)", c.path, r.Status, isJSON, c.status, c.wantJSON)
		}
	}
}
