package accounts

import (
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/view"
)

// API types (SPEC §4) for what this service owns. The rows in internal/model
// carry no JSON tags: a client sees only the fields listed here, so a column
// added to a table (a password hash, a token) cannot reach a response by
// accident. Field order is the order clients have always seen.

// UserView is a user account as the API shows it.
type UserView struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	JobTitle  string    `json:"job_title"`
	JSTID     *int64    `json:"jst_id"`
	JSTName   *string   `json:"jst_name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ViewUser is the API form of u.
func ViewUser(u model.User) UserView {
	return UserView{ID: u.ID, Email: u.Email, Name: u.Name, JobTitle: u.JobTitle, JSTID: u.JSTID, JSTName: u.JSTName,
		Role: u.Role, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func ViewUsers(us []model.User) []UserView { return view.All(us, ViewUser) }

// MembershipView is one of a user's groups, as seen from the user.
type MembershipView struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	GroupKind string `json:"group_kind"`
	Role      string `json:"role"`
}

func ViewMembership(m model.Membership) MembershipView {
	return MembershipView{GroupID: m.GroupID, GroupName: m.GroupName, GroupKind: m.GroupKind, Role: m.Role}
}

func ViewMemberships(ms []model.Membership) []MembershipView { return view.All(ms, ViewMembership) }

// MemberView is a group member, as seen from the group.
type MemberView struct {
	UserID   int64     `json:"user_id"`
	Name     string    `json:"name"`
	JobTitle string    `json:"job_title"`
	JSTName  *string   `json:"jst"`
	Role     string    `json:"role"`
	Since    time.Time `json:"since"`
}

func ViewMember(m model.Member) MemberView {
	return MemberView{UserID: m.UserID, Name: m.Name, JobTitle: m.JobTitle, JSTName: m.JSTName, Role: m.Role, Since: m.Since}
}

func ViewMembers(ms []model.Member) []MemberView { return view.All(ms, ViewMember) }

// JSTView is a local government unit.
type JSTView struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Voivodeship string    `json:"voivodeship"`
	TERYT       *string   `json:"teryt"`
	CreatedAt   time.Time `json:"created_at"`
}

func ViewJST(j model.JST) JSTView {
	return JSTView{ID: j.ID, Name: j.Name, Kind: j.Kind, Voivodeship: j.Voivodeship, TERYT: j.TERYT, CreatedAt: j.CreatedAt}
}

func ViewJSTs(js []model.JST) []JSTView { return view.All(js, ViewJST) }

// GroupView is a group with its settings.
type GroupView struct {
	ID                    int64     `json:"id"`
	Name                  string    `json:"name"`
	Slug                  string    `json:"slug"`
	Kind                  string    `json:"kind"`
	Description           string    `json:"description"`
	CreatedAt             time.Time `json:"created_at"`
	ModeratorsOnlyThreads bool      `json:"moderators_only_threads"`
}

func ViewGroup(g model.Group) GroupView {
	return GroupView{ID: g.ID, Name: g.Name, Slug: g.Slug, Kind: g.Kind, Description: g.Description, CreatedAt: g.CreatedAt,
		ModeratorsOnlyThreads: g.ModeratorsOnlyThreads}
}

func ViewGroups(gs []model.Group) []GroupView { return view.All(gs, ViewGroup) }

// InvitationView is an invitation without its token (the token is shown once,
// as a URL, when the invitation is made).
type InvitationView struct {
	ID        int64      `json:"id"`
	Email     string     `json:"email"`
	Role      string     `json:"role"`
	JSTID     *int64     `json:"jst_id"`
	JobTitle  string     `json:"job_title"`
	GroupID   *int64     `json:"group_id"`
	GroupRole *string    `json:"group_role"`
	CreatedBy int64      `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	Accepted  *time.Time `json:"accepted_at"`
}

func ViewInvitation(i model.Invitation) InvitationView {
	return InvitationView{ID: i.ID, Email: i.Email, Role: i.Role, JSTID: i.JSTID, JobTitle: i.JobTitle, GroupID: i.GroupID,
		GroupRole: i.GroupRole, CreatedBy: i.CreatedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, Accepted: i.Accepted}
}

func ViewInvitations(is []model.Invitation) []InvitationView { return view.All(is, ViewInvitation) }
