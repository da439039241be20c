package access_test

import (
	"errors"
	"testing"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// The tournament's permission table for a round in which the own (rural)
// group takes part: read / vote / enter one's group's practice / administer.
func TestTournamentPermissionTable(t *testing.T) {
	round := []int64{own.ID}
	cases := []struct {
		who                    string
		a                      *access.Actor
		read, vote, enter, adm error
	}{
		{"visitor", nil, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated},
		{"staff", actorWith(1, model.RoleStaff), nil, apperr.ErrForbidden, nil, nil},
		{"member", actorWith(2, model.RoleMember, in(own, model.GroupMember)), nil, nil, nil, apperr.ErrNotFound},
		{"moderator", actorWith(3, model.RoleMember, in(own, model.GroupModerator)), nil, nil, nil, apperr.ErrNotFound},
		{"observer", actorWith(4, model.RoleMember, in(own, model.GroupObserver)), nil, apperr.ErrForbidden, apperr.ErrForbidden, apperr.ErrNotFound},
		{"other group", actorWith(5, model.RoleMember, in(other, model.GroupMember)), apperr.ErrNotFound, apperr.ErrNotFound, apperr.ErrNotFound, apperr.ErrNotFound},
		{"common only", actorWith(6, model.RoleMember, in(common, model.GroupMember)), apperr.ErrNotFound, apperr.ErrNotFound, apperr.ErrNotFound, apperr.ErrNotFound},
	}
	for _, c := range cases {
		for _, got := range []struct {
			what string
			err  error
			want error
		}{
			{"read", c.a.ReadTournament(round), c.read},
			{"vote", c.a.VoteTournament(round), c.vote},
			{"enter", c.a.EnterTournament(round, own.ID), c.enter},
			{"administer", c.a.AdministerTournament(), c.adm},
		} {
			if (got.want == nil) != (got.err == nil) || (got.want != nil && !errors.Is(got.err, got.want)) {
				t.Errorf("%s %s: %v, want %v", c.who, got.what, got.err, got.want)
			}
		}
	}
	// A member enters only their own group's practices.
	m := actorWith(7, model.RoleMember, in(own, model.GroupMember), in(other, model.GroupObserver))
	if err := m.EnterTournament([]int64{own.ID, other.ID}, other.ID); !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("entering for a group one observes: %v", err)
	}
}
