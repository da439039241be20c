// Package access holds the permission rules of SPEC §3, once. Services ask it before
// they read or write; the web and live layers never decide permissions themselves.
//
// The rule of thumb: a thing the actor may not read is reported as apperr.ErrNotFound
// (its existence must not leak); a thing they may read but not change is ErrForbidden.
package access

import (
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// Actor is who is asking. The zero value (and nil) is an anonymous visitor.
type Actor struct {
	UserID int64
	Name   string
	// JST is the name of the user's JST (nil without one), as presence
	// lists show it: a websocket lists its user without another query.
	JST         *string
	Role        string
	memberships map[int64]string
}

// NewActor builds an actor from a user and their memberships.
func NewActor(u model.User, ms []model.Membership) *Actor {
	a := &Actor{UserID: u.ID, Name: u.Name, JST: u.JSTName, Role: u.Role, memberships: make(map[int64]string, len(ms))}
	for _, m := range ms {
		a.memberships[m.GroupID] = m.Role
	}
	return a
}

// Anonymous reports whether nobody is logged in.
func (a *Actor) Anonymous() bool { return a == nil || a.UserID == 0 }

// IsAdmin: only admins manage accounts, JSTs, groups and memberships.
func (a *Actor) IsAdmin() bool { return !a.Anonymous() && a.Role == model.RoleAdmin }

// IsStaff: staff and admins may do everything everywhere in the forum.
func (a *Actor) IsStaff() bool {
	return !a.Anonymous() && (a.Role == model.RoleStaff || a.Role == model.RoleAdmin)
}

// GroupRole is the actor's membership role in a group, or "".
func (a *Actor) GroupRole(groupID int64) string {
	if a.Anonymous() {
		return ""
	}
	return a.memberships[groupID]
}

// CanRead: members, moderators and observers read their groups; every logged-in
// user reads `common` groups; staff and admins read everything.
func (a *Actor) CanRead(g model.Group) bool {
	switch {
	case a.Anonymous():
		return false
	case a.IsStaff():
		return true
	case g.Kind == model.KindCommon:
		return true
	default:
		return a.memberships[g.ID] != ""
	}
}

// CanWrite: members and moderators write in their groups; every logged-in user
// writes in `common` groups unless made an observer there; observers never write.
func (a *Actor) CanWrite(g model.Group) bool {
	if !a.CanRead(g) {
		return false
	}
	if a.IsStaff() {
		return true
	}
	switch a.memberships[g.ID] {
	case model.GroupModerator, model.GroupMember:
		return true
	case model.GroupObserver:
		return false
	default:
		return g.Kind == model.KindCommon
	}
}

// CanModerate: moderators of the group, staff and admins.
func (a *Actor) CanModerate(g model.Group) bool {
	return a.IsStaff() || a.GroupRole(g.ID) == model.GroupModerator
}

// ModeratesAny reports whether the actor moderates at least one group (for navigation).
func (a *Actor) ModeratesAny() bool {
	if a.Anonymous() {
		return false
	}
	if a.IsStaff() {
		return true
	}
	for _, r := range a.memberships {
		if r == model.GroupModerator {
			return true
		}
	}
	return false
}

// Read returns ErrNotFound unless the actor may read g.
func (a *Actor) Read(g model.Group) error {
	if !a.CanRead(g) {
		return apperr.ErrNotFound
	}
	return nil
}

// Write returns ErrNotFound if the actor cannot even read g, ErrForbidden if they
// can read but not write (an observer).
func (a *Actor) Write(g model.Group) error {
	if err := a.Read(g); err != nil {
		return err
	}
	if !a.CanWrite(g) {
		return apperr.ErrForbidden
	}
	return nil
}

// Moderate returns ErrNotFound if the actor cannot read g, ErrForbidden if they can
// read but do not moderate it.
func (a *Actor) Moderate(g model.Group) error {
	if err := a.Read(g); err != nil {
		return err
	}
	if !a.CanModerate(g) {
		return apperr.ErrForbidden
	}
	return nil
}

// Admin returns ErrUnauthenticated for visitors and ErrNotFound for everyone who is
// not an admin: administration pages do not exist for them.
func (a *Actor) Admin() error {
	if a.Anonymous() {
		return apperr.ErrUnauthenticated
	}
	if !a.IsAdmin() {
		return apperr.ErrNotFound
	}
	return nil
}

// LoggedIn returns ErrUnauthenticated for visitors.
func (a *Actor) LoggedIn() error {
	if a.Anonymous() {
		return apperr.ErrUnauthenticated
	}
	return nil
}

// --- materials under review (issue 15 item 3) ---
//
// A material is open to the groups staff chose for it. The group rules above
// decide, so a common group works as everywhere: its readers read, its writers
// comment. Everyone else gets ErrNotFound, the document included.

// ReadReview: staff, and whoever reads one of the chosen groups.
func (a *Actor) ReadReview(groups []model.Group) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	if a.IsStaff() {
		return nil
	}
	for _, g := range groups {
		if a.CanRead(g) {
			return nil
		}
	}
	return apperr.ErrNotFound
}

// CommentReview: staff, and whoever writes in one of the chosen groups;
// a reader who writes in none of them (an observer) is ErrForbidden. It
// returns the groups the actor writes in, so the caller can check mutes
// (mute means no writing in the group: muted in all of them, no comment).
func (a *Actor) CommentReview(groups []model.Group) ([]model.Group, error) {
	if err := a.ReadReview(groups); err != nil {
		return nil, err
	}
	var writable []model.Group
	for _, g := range groups {
		if a.CanWrite(g) {
			writable = append(writable, g)
		}
	}
	if len(writable) == 0 && !a.IsStaff() {
		return nil, apperr.ErrForbidden
	}
	return writable, nil
}

// AdministerReview: staff create materials, add sections and answer comments;
// readers who are not staff are ErrForbidden, everyone else ErrNotFound.
func (a *Actor) AdministerReview(groups []model.Group) error {
	if err := a.ReadReview(groups); err != nil {
		return err
	}
	if !a.IsStaff() {
		return apperr.ErrForbidden
	}
	return nil
}

// CreateReview: only staff put a material up for review; for everyone else
// the action does not exist.
func (a *Actor) CreateReview() error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	if !a.IsStaff() {
		return apperr.ErrNotFound
	}
	return nil
}
