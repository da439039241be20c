package access_test

import (
	"errors"
	"testing"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// Materials under review (issue 15): open to the chosen groups — staff
// administer, their members comment, their observers read, everyone else
// gets 404; a common group among them works as everywhere.
func TestReviewRules(t *testing.T) {
	actor := func(role, groupRole string, g model.Group) *access.Actor {
		var ms []model.Membership
		if groupRole != "" {
			ms = []model.Membership{{GroupID: g.ID, Role: groupRole}}
		}
		return access.NewActor(model.User{ID: 1, Role: role}, ms)
	}
	chosen := []model.Group{own}
	for _, tc := range []struct {
		who                     string
		a                       *access.Actor
		groups                  []model.Group
		read, comment, adminErr error
	}{
		{"staff", actor(model.RoleStaff, "", own), chosen, nil, nil, nil},
		{"member", actor(model.RoleMember, model.GroupMember, own), chosen, nil, nil, apperr.ErrForbidden},
		{"moderator", actor(model.RoleMember, model.GroupModerator, own), chosen, nil, nil, apperr.ErrForbidden},
		{"observer", actor(model.RoleMember, model.GroupObserver, own), chosen, nil, apperr.ErrForbidden, apperr.ErrForbidden},
		{"other group's member", actor(model.RoleMember, model.GroupMember, other), chosen, apperr.ErrNotFound, apperr.ErrNotFound, apperr.ErrNotFound},
		{"anyone, common group chosen", actor(model.RoleMember, model.GroupMember, other), []model.Group{own, common}, nil, nil, apperr.ErrForbidden},
		{"visitor", nil, chosen, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated, apperr.ErrUnauthenticated},
	} {
		if err := tc.a.ReadReview(tc.groups); !errors.Is(err, tc.read) && err != tc.read {
			t.Errorf("%s reads: %v, want %v", tc.who, err, tc.read)
		}
		if _, err := tc.a.CommentReview(tc.groups); !errors.Is(err, tc.comment) && err != tc.comment {
			t.Errorf("%s comments: %v, want %v", tc.who, err, tc.comment)
		}
		if err := tc.a.AdministerReview(tc.groups); !errors.Is(err, tc.adminErr) && err != tc.adminErr {
			t.Errorf("%s administers: %v, want %v", tc.who, err, tc.adminErr)
		}
	}
	if err := actor(model.RoleMember, model.GroupModerator, own).CreateReview(); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("a moderator creates a material: %v, want not found", err)
	}
}
