package live_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// room is a group with a live meeting and people in every role.
type room struct {
	env                                   *testkit.Env
	group                                 model.Group
	moderator, member, observer, outsider testkit.User
	meetingID                             int64
}

func newRoom(t *testing.T, env *testkit.Env) *room {
	t.Helper()
	r := &room{env: env, group: env.NewGroup(model.KindRural)}
	r.moderator, r.member, r.observer, r.outsider = env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(r.moderator.ID, r.group.ID, model.GroupModerator)
	env.AddMember(r.member.ID, r.group.ID, model.GroupMember)
	env.AddMember(r.observer.ID, r.group.ID, model.GroupObserver)
	r.meetingID = createMeeting(t, env.Login(r.moderator), r.group.ID, true)
	return r
}

func (r *room) topic() string { return fmt.Sprintf("meeting:%d", r.meetingID) }

func createMeeting(t *testing.T, mod *testkit.Client, groupID int64, start bool) int64 {
	t.Helper()
	begin := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute)
	resp := mod.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", groupID), map[string]any{
		"title": "Sesja 4: Planowanie budżetowe", "starts_at": begin, "ends_at": begin.Add(8 * time.Hour)})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", resp.Status, resp.Body)
	}
	var m struct{ ID int64 }
	resp.Decode(&m)
	if start {
		if resp := mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil); resp.Status != http.StatusOK {
			t.Fatalf("start meeting: %d %s", resp.Status, resp.Body)
		}
	}
	return m.ID
}
