package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
)

// NewUserInput is what an admin submits to create an account.
type NewUserInput struct {
	Email    string `json:"email" form:"email"`
	Name     string `json:"name" form:"name"`
	JobTitle string `json:"job_title" form:"job_title"`
	JSTID    *int64 `json:"jst_id" form:"jst_id"`
	Role     string `json:"role" form:"role"`
	Password string `json:"password" form:"password"`
}

func (s *Service) CreateUser(ctx context.Context, a *access.Actor, in NewUserInput) (model.User, error) {
	if err := a.Admin(); err != nil {
		return model.User{}, err
	}
	in.Email, in.Name, in.JobTitle = strings.TrimSpace(in.Email), clean(in.Name), clean(in.JobTitle)
	if in.Role == "" {
		in.Role = model.RoleMember
	}
	v := &apperr.Validation{}
	checkEmail(v, in.Email)
	checkName(v, "name", in.Name)
	checkJobTitle(v, in.JobTitle)
	checkOneOf(v, "role", in.Role, model.GlobalRoles)
	if err := s.policy.check("password", in.Password); err != nil {
		v.Add("password", err.(*apperr.Validation).Fields["password"])
	}
	if err := v.Err(); err != nil {
		return model.User{}, err
	}
	hash, err := HashPassword(in.Password, s.set.Argon2)
	if err != nil {
		return model.User{}, err
	}
	var u model.User
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a new account: nobody follows it live yet
		id, err := store.CreateUser(ctx, tx, store.NewUser{Email: in.Email, Name: in.Name, JobTitle: in.JobTitle,
			JSTID: nonZero(in.JSTID), Role: in.Role, PasswordHash: hash})
		if err != nil {
			return userWriteError(err)
		}
		if u, err = store.GetUser(ctx, tx, id); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "user.create",
			TargetType: "user", TargetID: id, Details: map[string]any{"email": u.Email, "role": u.Role}})
	})
	return u, err
}

// userWriteError turns constraint violations into field errors.
func userWriteError(err error) error {
	switch {
	case store.IsUniqueViolation(err, "users_email_key"):
		return apperr.Invalid("email", "err.email_taken")
	case store.IsForeignKeyViolation(err):
		return apperr.Invalid("jst_id", "err.jst_unknown")
	}
	return err
}

// UserUpdateInput: nil fields stay as they are; jst_id 0 clears the JST.
type UserUpdateInput struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	JobTitle *string `json:"job_title"`
	JSTID    *int64  `json:"jst_id"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

func (s *Service) UpdateUser(ctx context.Context, a *access.Actor, id int64, in UserUpdateInput) (model.User, error) {
	if err := a.Admin(); err != nil {
		return model.User{}, err
	}
	v := &apperr.Validation{}
	up := store.UserUpdate{Role: in.Role, Disabled: in.Disabled}
	if in.Email != nil {
		e := strings.TrimSpace(*in.Email)
		checkEmail(v, e)
		up.Email = &e
	}
	if in.Name != nil {
		n := clean(*in.Name)
		checkName(v, "name", n)
		up.Name = &n
	}
	if in.JobTitle != nil {
		j := clean(*in.JobTitle)
		checkJobTitle(v, j)
		up.JobTitle = &j
	}
	if in.JSTID != nil {
		j := nonZero(in.JSTID)
		up.JSTID = &j
	}
	if in.Role != nil {
		checkOneOf(v, "role", *in.Role, model.GlobalRoles)
	}
	if in.Password != nil {
		if err := s.policy.check("password", *in.Password); err != nil {
			v.Add("password", err.(*apperr.Validation).Fields["password"])
		} else {
			h, err := HashPassword(*in.Password, s.set.Argon2)
			if err != nil {
				return model.User{}, err
			}
			up.PasswordHash = &h
		}
	}
	if in.Disabled != nil && *in.Disabled && id == a.UserID {
		v.Add("disabled", "err.cannot_disable_self")
	}
	if in.Role != nil && *in.Role != model.RoleAdmin && id == a.UserID {
		v.Add("role", "err.cannot_demote_self")
	}
	if err := v.Err(); err != nil {
		return model.User{}, err
	}
	var after model.User
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		before, err := store.GetUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := store.UpdateUser(ctx, tx, id, up); err != nil {
			return userWriteError(err)
		}
		if after, err = store.GetUser(ctx, tx, id); err != nil {
			return err
		}
		switch {
		case after.Disabled && !before.Disabled, up.PasswordHash != nil:
			// A disabled user's sessions end at once, not at their next
			// expiry; so do they when an admin sets the password (issue 10
			// item 11): whoever knew the old one is logged out everywhere.
			// The admin's own sessions too when the account is theirs.
			if _, err := store.DeleteUserSessions(ctx, tx, id); err != nil {
				return err
			}
			tx.Revoke(id, true)
		case after.Role != before.Role:
			if err := store.MarkUserSessionsForRotation(ctx, tx, id); err != nil {
				return err
			}
			tx.Revoke(id, false)
		default:
			tx.Quiet() // a name, email or job title: open pages show them on their next load
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "user.update",
			TargetType: "user", TargetID: id, Details: userDiff(before, after, in.Password != nil)})
	})
	return after, err
}

func userDiff(before, after model.User, passwordChanged bool) map[string]any {
	d := map[string]any{}
	pair := func(k string, b, a any) {
		if fmt.Sprint(b) != fmt.Sprint(a) {
			d[k] = map[string]any{"before": b, "after": a}
		}
	}
	pair("email", before.Email, after.Email)
	pair("name", before.Name, after.Name)
	pair("job_title", before.JobTitle, after.JobTitle)
	pair("jst_id", deref(before.JSTID), deref(after.JSTID))
	pair("role", before.Role, after.Role)
	pair("disabled", before.Disabled, after.Disabled)
	if passwordChanged {
		d["password"] = "changed"
	}
	return d
}

// EndSessions logs a user out everywhere.
func (s *Service) EndSessions(ctx context.Context, a *access.Actor, userID int64) (int64, error) {
	if err := a.Admin(); err != nil {
		return 0, err
	}
	var n int64
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if _, err := store.GetUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if n, err = store.DeleteUserSessions(ctx, tx, userID); err != nil {
			return err
		}
		tx.Revoke(userID, true)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "user.sessions_end",
			TargetType: "user", TargetID: userID, Details: map[string]any{"sessions": n}})
	})
	return n, err
}

func (s *Service) GetUser(ctx context.Context, a *access.Actor, id int64) (model.User, []model.Membership, int, error) {
	if err := a.Admin(); err != nil {
		return model.User{}, nil, 0, err
	}
	u, err := store.GetUser(ctx, s.db, id)
	if err != nil {
		return u, nil, 0, err
	}
	ms, err := store.ListUserMemberships(ctx, s.db, id)
	if err != nil {
		return u, nil, 0, err
	}
	n, err := store.CountUserSessions(ctx, s.db, id)
	return u, ms, n, err
}

func (s *Service) ListUsers(ctx context.Context, a *access.Actor, search string, p store.Page) ([]model.User, error) {
	if err := a.Admin(); err != nil {
		return nil, err
	}
	return store.ListUsers(ctx, s.db, strings.TrimSpace(search), p)
}

// NewJSTInput describes a local-government unit.
type NewJSTInput struct {
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	Voivodeship string  `json:"voivodeship"`
	TERYT       *string `json:"teryt"`
}

var terytPattern = regexp.MustCompile(`^[0-9]{7}$`)

func (s *Service) CreateJST(ctx context.Context, a *access.Actor, in NewJSTInput) (model.JST, error) {
	if err := a.Admin(); err != nil {
		return model.JST{}, err
	}
	in.Name = clean(in.Name)
	v := &apperr.Validation{}
	checkLength(v, "name", in.Name, 2, 200)
	checkOneOf(v, "kind", in.Kind, model.JSTKinds)
	checkOneOf(v, "voivodeship", in.Voivodeship, model.Voivodeships)
	if in.TERYT != nil {
		t := strings.TrimSpace(*in.TERYT)
		if t == "" {
			in.TERYT = nil
		} else if !terytPattern.MatchString(t) {
			v.Add("teryt", "err.teryt")
		} else {
			in.TERYT = &t
		}
	}
	if err := v.Err(); err != nil {
		return model.JST{}, err
	}
	var j model.JST
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // JSTs are admin data no page follows live
		var err error
		j, err = store.CreateJST(ctx, tx, store.NewJST{Name: in.Name, Kind: in.Kind, Voivodeship: in.Voivodeship, TERYT: in.TERYT})
		if store.IsUniqueViolation(err, "") {
			return apperr.Invalid("name", "err.jst_taken")
		}
		if err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "jst.create",
			TargetType: "jst", TargetID: j.ID, Details: map[string]any{"name": j.Name, "kind": j.Kind}})
	})
	return j, err
}

// ListJST is open to every logged-in user: JST names appear next to every author.
func (s *Service) ListJST(ctx context.Context, a *access.Actor, p store.Page) ([]model.JST, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	return store.ListJST(ctx, s.db, p)
}

// NewGroupInput describes a GWD (or the common forum).
type NewGroupInput struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Kind        string `json:"kind"`
	Description string `json:"description"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (s *Service) CreateGroup(ctx context.Context, a *access.Actor, in NewGroupInput) (model.Group, error) {
	if err := a.Admin(); err != nil {
		return model.Group{}, err
	}
	in.Name, in.Description = clean(in.Name), strings.TrimSpace(in.Description)
	if strings.TrimSpace(in.Slug) == "" {
		in.Slug = Slugify(in.Name)
	}
	v := &apperr.Validation{}
	checkLength(v, "name", in.Name, 3, 120)
	if !slugPattern.MatchString(in.Slug) || len(in.Slug) > 60 {
		v.Add("slug", "err.slug")
	}
	checkOneOf(v, "kind", in.Kind, model.GroupKinds)
	checkLength(v, "description", in.Description, 0, 2000)
	if err := v.Err(); err != nil {
		return model.Group{}, err
	}
	var g model.Group
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a new group has no members, so no open pages
		var err error
		g, err = store.CreateGroup(ctx, tx, store.NewGroup{Name: in.Name, Slug: in.Slug, Kind: in.Kind, Description: in.Description})
		if store.IsUniqueViolation(err, "") {
			return apperr.Invalid("slug", "err.slug_taken")
		}
		if err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "group.create",
			TargetType: "group", TargetID: g.ID, GroupID: &g.ID, Details: map[string]any{"name": g.Name, "kind": g.Kind}})
	})
	return g, err
}

// PutMember adds a user to a group or changes their role; created tells which.
func (s *Service) PutMember(ctx context.Context, a *access.Actor, groupID, userID int64, role string) (created bool, err error) {
	if err := a.Admin(); err != nil {
		return false, err
	}
	v := &apperr.Validation{}
	checkOneOf(v, "role", role, model.GroupRoles)
	if err := v.Err(); err != nil {
		return false, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if _, err := store.GetGroup(ctx, tx, groupID); err != nil {
			return err
		}
		if _, err := store.GetUser(ctx, tx, userID); err != nil {
			return err
		}
		before, err := store.GetMembershipRole(ctx, tx, userID, groupID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if created, err = store.PutMembership(ctx, tx, userID, groupID, role); err != nil {
			return err
		}
		// What the user may do changed: give their sessions new ids, and
		// their open sockets act on the new role from now on (an observer
		// stops writing at once), not from their next periodic re-check.
		if err := store.MarkUserSessionsForRotation(ctx, tx, userID); err != nil {
			return err
		}
		tx.Revoke(userID, false)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "membership.put",
			TargetType: "user", TargetID: userID, GroupID: &groupID,
			Details: map[string]any{"before": before, "after": role}})
	})
	return created, err
}

func (s *Service) RemoveMember(ctx context.Context, a *access.Actor, groupID, userID int64) error {
	if err := a.Admin(); err != nil {
		return err
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		before, err := store.GetMembershipRole(ctx, tx, userID, groupID)
		if err != nil {
			return err
		}
		if err := store.DeleteMembership(ctx, tx, userID, groupID); err != nil {
			return err
		}
		if err := store.MarkUserSessionsForRotation(ctx, tx, userID); err != nil {
			return err
		}
		tx.Revoke(userID, false) // the group's topics are dropped from the user's open sockets now
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "membership.delete",
			TargetType: "user", TargetID: userID, GroupID: &groupID, Details: map[string]any{"before": before}})
	})
	return err
}

// GroupMembers lists a group's members for anyone who may read the group.
func (s *Service) GroupMembers(ctx context.Context, a *access.Actor, groupID int64) (model.Group, []model.Member, error) {
	if err := a.LoggedIn(); err != nil {
		return model.Group{}, nil, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return g, nil, err
	}
	if err := a.Read(g); err != nil {
		return g, nil, err
	}
	ms, err := store.ListMembers(ctx, s.db, groupID)
	return g, ms, err
}

// Groups lists the groups the actor may read (all of them for staff and admins).
func (s *Service) Groups(ctx context.Context, a *access.Actor) ([]model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	all, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	visible := all[:0]
	for _, g := range all {
		if a.CanRead(g) {
			visible = append(visible, g)
		}
	}
	return visible, nil
}

// --- validation helpers -------------------------------------------------------

// clean normalises one-line fields (names, titles).
func clean(s string) string { return textnorm.OneLine(s) }

func checkEmail(v *apperr.Validation, email string) {
	if email == "" {
		v.Add("email", "err.required")
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		v.Add("email", "err.email")
	}
}

func checkName(v *apperr.Validation, field, name string) { checkLength(v, field, name, 2, 100) }

func checkJobTitle(v *apperr.Validation, t string) { checkLength(v, "job_title", t, 0, 150) }

func checkLength(v *apperr.Validation, field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && min > 0:
		v.Add(field, "err.required")
	case n < min:
		v.Add(field, "err.too_short")
	case n > max:
		v.Add(field, "err.too_long")
	}
}

func checkOneOf(v *apperr.Validation, field, val string, allowed []string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	if val == "" {
		v.Add(field, "err.required")
		return
	}
	v.Add(field, "err.choice")
}

func nonZero(p *int64) *int64 {
	if p == nil || *p == 0 {
		return nil
	}
	return p
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

var polishFold = strings.NewReplacer("ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z")

// Slugify makes a URL slug from a Polish name: "Gminy miejskie – kohorta 2" → "gminy-miejskie-kohorta-2".
func Slugify(name string) string {
	s := polishFold.Replace(strings.ToLower(textnorm.OneLine(name)))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// EnsureAdmin creates an administrator, or makes an existing account with that
// email an administrator with the given password (for `forumjst create-admin`,
// which is also how a locked-out admin recovers: it also removes a second factor
// they can no longer produce). It is recorded in the audit log with no actor.
func (s *Service) EnsureAdmin(ctx context.Context, email, name, password string) (created bool, err error) {
	email, name = strings.TrimSpace(email), clean(name)
	v := &apperr.Validation{}
	checkEmail(v, email)
	checkName(v, "name", name)
	if err := s.policy.check("password", password); err != nil {
		v.Add("password", err.(*apperr.Validation).Fields["password"])
	}
	if err := v.Err(); err != nil {
		return false, err
	}
	hash, err := HashPassword(password, s.set.Argon2)
	if err != nil {
		return false, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		u, err := store.GetUserByEmail(ctx, tx, email)
		var id int64
		twoFactorReset := false
		switch {
		case errors.Is(err, store.ErrNotFound):
			tx.Quiet() // a new account has no sessions to revoke
			created = true
			id, err = store.CreateUser(ctx, tx, store.NewUser{Email: email, Name: name, Role: model.RoleAdmin, PasswordHash: hash})
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			id = u.ID
			role, disabled := model.RoleAdmin, false
			if err := store.UpdateUser(ctx, tx, id, store.UserUpdate{Role: &role, Disabled: &disabled, PasswordHash: &hash}); err != nil {
				return err
			}
			if _, err := store.DeleteUserSessions(ctx, tx, id); err != nil {
				return err
			}
			tx.Revoke(id, true)
			if twoFactorReset, err = store.DeleteTwoFactor(ctx, tx, id); err != nil {
				return err
			}
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{Action: "user.create_admin", TargetType: "user", TargetID: id,
			Details: map[string]any{"email": email, "created": created, "two_factor_reset": twoFactorReset}})
	})
	return created, err
}
