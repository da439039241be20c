package access_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// Three groups: the actor's own (rural) group, another (urban) group the actor has
// no part in, and a common group nobody was put in explicitly.
var (
	own    = model.Group{ID: 10, Name: "GWD wiejska", Kind: model.KindRural}
	other  = model.Group{ID: 20, Name: "GWD miejska", Kind: model.KindUrban}
	common = model.Group{ID: 30, Name: "Forum ogólne", Kind: model.KindCommon}
)

func actorWith(id int64, role string, ms ...model.Membership) *access.Actor {
	return access.NewActor(model.User{ID: id, Name: fmt.Sprintf("user %d", id), Role: role}, ms)
}

func in(g model.Group, role string) model.Membership {
	return model.Membership{GroupID: g.ID, GroupName: g.Name, GroupKind: g.Kind, Role: role}
}

// perm is the expected outcome in one group: may read / write / moderate.
type perm struct{ r, w, m bool }

var (
	none = perm{}
	ro   = perm{r: true}
	rw   = perm{r: true, w: true}
	rwm  = perm{r: true, w: true, m: true}
)

type roleCase struct {
	name     string
	actor    *access.Actor
	own      perm
	other    perm
	common   perm
	admin    error // Admin()
	loggedIn error // LoggedIn()
}

// The whole matrix of SPEC §3, written out.
var matrix = []roleCase{
	{"anonymous (nil)", nil, none, none, none, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated},
	{"anonymous (zero actor)", &access.Actor{}, none, none, none, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated},
	{"observer of own", actorWith(1, model.RoleMember, in(own, model.GroupObserver)), ro, none, rw, apperr.ErrNotFound, nil},
	{"member of own", actorWith(2, model.RoleMember, in(own, model.GroupMember)), rw, none, rw, apperr.ErrNotFound, nil},
	{"moderator of own", actorWith(3, model.RoleMember, in(own, model.GroupModerator)), rwm, none, rw, apperr.ErrNotFound, nil},
	{"staff", actorWith(4, model.RoleStaff), rwm, rwm, rwm, apperr.ErrNotFound, nil},
	{"admin", actorWith(5, model.RoleAdmin), rwm, rwm, rwm, nil, nil},
	{"member with no membership", actorWith(6, model.RoleMember), none, none, rw, apperr.ErrNotFound, nil},
	// Edge cases of the same rules.
	{"observer of the common group", actorWith(7, model.RoleMember, in(own, model.GroupMember), in(common, model.GroupObserver)), rw, none, ro, apperr.ErrNotFound, nil},
	{"moderator of the common group", actorWith(8, model.RoleMember, in(common, model.GroupModerator)), none, none, rwm, apperr.ErrNotFound, nil},
	{"staff who is an observer of own", actorWith(9, model.RoleStaff, in(own, model.GroupObserver)), rwm, rwm, rwm, apperr.ErrNotFound, nil},
	{"unknown global role", actorWith(11, "owner", in(own, model.GroupMember)), rw, none, rw, apperr.ErrNotFound, nil},
}

// errFor is what Read/Write/Moderate must answer: 404 when the actor cannot read,
// 403 when they can read but not do it, nil when allowed.
func errFor(canRead, allowed bool) error {
	switch {
	case !canRead:
		return apperr.ErrNotFound
	case !allowed:
		return apperr.ErrForbidden
	}
	return nil
}

func TestPermissionMatrix(t *testing.T) {
	for _, rc := range matrix {
		t.Run(rc.name, func(t *testing.T) {
			for _, pl := range []struct {
				name string
				g    model.Group
				want perm
			}{{"own group", own, rc.own}, {"other group", other, rc.other}, {"common group", common, rc.common}} {
				t.Run(pl.name, func(t *testing.T) {
					a := rc.actor
					if got := a.CanRead(pl.g); got != pl.want.r {
						t.Errorf("CanRead = %v, want %v", got, pl.want.r)
					}
					if got := a.CanWrite(pl.g); got != pl.want.w {
						t.Errorf("CanWrite = %v, want %v", got, pl.want.w)
					}
					if got := a.CanModerate(pl.g); got != pl.want.m {
						t.Errorf("CanModerate = %v, want %v", got, pl.want.m)
					}
					checkErr(t, "Read", a.Read(pl.g), errFor(pl.want.r, true))
					checkErr(t, "Write", a.Write(pl.g), errFor(pl.want.r, pl.want.w))
					checkErr(t, "Moderate", a.Moderate(pl.g), errFor(pl.want.r, pl.want.m))
				})
			}
			checkErr(t, "Admin", rc.actor.Admin(), rc.admin)
			checkErr(t, "LoggedIn", rc.actor.LoggedIn(), rc.loggedIn)
			if got, want := rc.actor.Anonymous(), rc.loggedIn != nil; got != want {
				t.Errorf("Anonymous = %v, want %v", got, want)
			}
			if got, want := rc.actor.IsAdmin(), rc.admin == nil; got != want {
				t.Errorf("IsAdmin = %v, want %v", got, want)
			}
		})
	}
}

func checkErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %v, want nil", what, got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// Write and Moderate must never answer 403 for a group the actor cannot read:
// that would reveal that the group exists.
func TestUnreadableIsNeverForbidden(t *testing.T) {
	for _, rc := range matrix {
		for _, g := range []model.Group{own, other, common} {
			if rc.actor.CanRead(g) {
				continue
			}
			for name, err := range map[string]error{"Write": rc.actor.Write(g), "Moderate": rc.actor.Moderate(g)} {
				if errors.Is(err, apperr.ErrForbidden) {
					t.Errorf("%s: %s(%s) = ErrForbidden for an unreadable group", rc.name, name, g.Name)
				}
			}
		}
	}
}

func TestGroupRoleAndModeratesAny(t *testing.T) {
	cases := []struct {
		name         string
		actor        *access.Actor
		ownRole      string
		moderatesAny bool
		isStaff      bool
	}{
		{"anonymous", nil, "", false, false},
		{"observer", actorWith(1, model.RoleMember, in(own, model.GroupObserver)), model.GroupObserver, false, false},
		{"member", actorWith(2, model.RoleMember, in(own, model.GroupMember)), model.GroupMember, false, false},
		{"moderator", actorWith(3, model.RoleMember, in(own, model.GroupModerator)), model.GroupModerator, true, false},
		{"staff", actorWith(4, model.RoleStaff), "", true, true},
		{"admin", actorWith(5, model.RoleAdmin), "", true, true},
		{"no membership", actorWith(6, model.RoleMember), "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.actor.GroupRole(own.ID); got != c.ownRole {
				t.Errorf("GroupRole(own) = %q, want %q", got, c.ownRole)
			}
			if got := c.actor.GroupRole(other.ID); got != "" {
				t.Errorf("GroupRole(other) = %q, want empty", got)
			}
			if got := c.actor.ModeratesAny(); got != c.moderatesAny {
				t.Errorf("ModeratesAny = %v, want %v", got, c.moderatesAny)
			}
			if got := c.actor.IsStaff(); got != c.isStaff {
				t.Errorf("IsStaff = %v, want %v", got, c.isStaff)
			}
		})
	}
}
