package security_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 10, item 8: a moderator muting user id N in their group learnt the
// name of a user of another group, and told admins, staff and unknown ids
// apart. Whoever is not a member of the group gets one and the same 404, over
// the API and the HTML form alike.
func TestMuteDoesNotEnumerateUsers(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g, other := env.NewGroup(model.KindRural), env.NewGroup(model.KindRural)
	mod, member, stranger := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	admin, staff := env.NewUser(model.RoleAdmin), env.NewUser(model.RoleStaff)
	env.AddMember(mod.ID, g.ID, model.GroupModerator)
	env.AddMember(member.ID, g.ID, model.GroupMember)
	env.AddMember(stranger.ID, other.ID, model.GroupMember)
	c := env.Login(mod)

	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	const why = "Powtarzające się reklamy"
	targets := []struct {
		name string
		id   int64
		who  string // a name that must not appear
	}{
		{"an unknown id", 999999999, ""},
		{"an admin", admin.ID, admin.Name},
		{"a staff user", staff.ID, staff.Name},
		{"a member of another group", stranger.ID, stranger.Name},
	}

	// The API.
	var first *testkit.Response
	for _, tc := range targets {
		r := c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/mutes", g.ID), map[string]any{"user_id": tc.id, "until": until, "reason": why})
		if r.Status != http.StatusNotFound {
			t.Errorf("API mute of %s: %d %s, want 404", tc.name, r.Status, r.Body)
		}
		if tc.who != "" && strings.Contains(r.String(), tc.who) {
			t.Errorf("API mute of %s names them: %s", tc.name, r.Body)
		}
		if first == nil {
			first = r
		} else if r.Status != first.Status || r.String() != first.String() {
			t.Errorf("API mute of %s answers %d %s, but of %s %d %s", tc.name, r.Status, r.Body, targets[0].name, first.Status, first.Body)
		}
	}

	// The HTML form.
	first = nil
	for _, tc := range targets {
		r := c.Form(fmt.Sprintf("/g/%d/mutes", g.ID), url.Values{"user_id": {strconv.FormatInt(tc.id, 10)},
			"until_date": {until.Format("2006-01-02")}, "until_time": {"12:00"}, "reason": {why}})
		if r.Status != http.StatusNotFound {
			t.Errorf("form mute of %s: %d, want 404", tc.name, r.Status)
		}
		if tc.who != "" && strings.Contains(r.String(), tc.who) {
			t.Errorf("form mute of %s names them", tc.name)
		}
		if first == nil {
			first = r
		} else if r.Status != first.Status || r.String() != first.String() {
			t.Errorf("form mute of %s answers differently (%d, %d bytes) from %s (%d, %d bytes)", tc.name, r.Status, len(r.Body),
				targets[0].name, first.Status, len(first.Body))
		}
	}

	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM mutes WHERE group_id = $1`, g.ID); err != nil || n != 0 {
		t.Errorf("%d mutes stored (%v), want none", n, err)
	}
	// A member of the group is still muted, by name.
	r := c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/mutes", g.ID), map[string]any{"user_id": member.ID, "until": until, "reason": why})
	if r.Status != http.StatusCreated || !strings.Contains(r.String(), member.Name) {
		t.Errorf("mute of a member: %d %s", r.Status, r.Body)
	}
}
