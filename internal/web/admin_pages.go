package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// adminRoutes hang under /admin (routeTable), behind the administrator check.
func (s *server) adminRoutes() []route {
	return []route{
		// Every path under /admin registered after this is for administrators.
		use("/", func(c *fiber.Ctx) error {
			if err := actor(c).Admin(); err != nil {
				return err
			}
			return c.Next()
		}),
		get("/", func(c *fiber.Ctx) error { return c.Redirect("/admin/users") }),
		get("/users", s.adminUsers),
		post("/users", s.adminCreateUser),
		get("/users/:id", s.adminUser),
		post("/users/:id", s.adminUpdateUser),
		get("/users/:id/sessions/end", s.adminConfirmEndSessions),
		post("/users/:id/sessions/end", s.adminEndSessions),
		post("/users/:id/memberships", s.adminPutMembership),
		get("/users/:id/memberships/:gid/remove", s.adminConfirmRemoveMembership),
		post("/users/:id/memberships/:gid/remove", s.adminRemoveMembership),
		get("/jst", s.adminJST),
		post("/jst", s.adminCreateJST),
		get("/groups", s.adminGroups),
		post("/groups", s.adminCreateGroup),
		get("/invitations", s.adminInvitations),
		post("/invitations", s.adminCreateInvitation),
		get("/mail", s.adminMail),
		get("/mail/:id", s.adminMailDetail),
	}
}

// formInt64 reads an optional positive id from a form; "" is nil.
func formInt64(c *fiber.Ctx, name string) *int64 {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		bad := int64(-1) // reported by the service as an unknown reference
		return &bad
	}
	return &n
}

// formValues copies the named fields for re-display after a validation error.
func formValues(c *fiber.Ctx, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = c.FormValue(n)
	}
	return out
}

type adminUsersPage struct {
	Users   []model.User
	JST     []model.JST
	Query   string
	Page    int
	HasMore bool
}

func (s *server) adminUsers(c *fiber.Ctx) error {
	return s.renderAdminUsers(c, pageOpts{})
}

func (s *server) renderAdminUsers(c *fiber.Ctx, o pageOpts) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	q := c.Query("q")
	users, err := s.Accounts.ListUsers(c.UserContext(), actor(c), q, p)
	if err != nil {
		return err
	}
	jst, err := s.Accounts.ListJST(c.UserContext(), actor(c), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	list := paginate(users, p, page)
	o.Title, o.Nav = s.tr(c).T("admin.users.title"), "admin"
	return s.render(c, "admin_users", o, adminUsersPage{Users: list.Items, JST: jst, Query: q, Page: page, HasMore: list.HasMore})
}

func (s *server) adminCreateUser(c *fiber.Ctx) error {
	in := accounts.NewUserInput{Email: c.FormValue("email"), Name: c.FormValue("name"), JobTitle: c.FormValue("job_title"),
		JSTID: formInt64(c, "jst_id"), Role: c.FormValue("role"), Password: c.FormValue("password")}
	u, err := s.Accounts.CreateUser(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminUsers(c, pageOpts{Errors: fe,
			Form: formValues(c, "email", "name", "job_title", "jst_id", "role")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.user_created")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", u.ID), fiber.StatusSeeOther)
}

type adminUserPage struct {
	User        model.User
	Memberships []model.Membership
	Sessions    int
	JST         []model.JST
	Groups      []model.Group
	TwoFactor   bool
}

func (s *server) adminUser(c *fiber.Ctx) error { return s.renderAdminUser(c, pageOpts{}) }

func (s *server) renderAdminUser(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, ms, n, err := s.Accounts.GetUser(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	jst, err := s.Accounts.ListJST(c.UserContext(), actor(c), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	groups, err := s.Accounts.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	tf, err := s.Accounts.UserHasTwoFactor(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	o.Title, o.Nav = u.Name, "admin"
	return s.render(c, "admin_user", o, adminUserPage{User: u, Memberships: ms, Sessions: n, JST: jst, Groups: groups, TwoFactor: tf})
}

func (s *server) adminUpdateUser(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	str := func(name string) *string { v := c.FormValue(name); return &v }
	jst := formInt64(c, "jst_id")
	if jst == nil {
		zero := int64(0)
		jst = &zero
	}
	role := c.FormValue("role")
	disabled := c.FormValue("disabled") == "on"
	in := accounts.UserUpdateInput{Email: str("email"), Name: str("name"), JobTitle: str("job_title"), JSTID: jst,
		Role: &role, Disabled: &disabled}
	if pw := c.FormValue("password"); pw != "" {
		in.Password = &pw
	}
	_, err = s.Accounts.UpdateUser(c.UserContext(), actor(c), id, in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminUser(c, pageOpts{Errors: fe,
			Form: formValues(c, "email", "name", "job_title", "jst_id", "role", "disabled")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}

// confirmPage asks before a destructive action; it works without JavaScript.
type confirmPage struct {
	Question string
	Detail   string
	Action   string
	Button   string
	Cancel   string
}

func (s *server) adminConfirmEndSessions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, _, n, err := s.Accounts.GetUser(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	return s.render(c, "confirm", pageOpts{Title: tr.T("admin.sessions.end"), Nav: "admin"}, confirmPage{
		Question: tr.T("confirm.end_sessions", "Name", u.Name), Detail: tr.N("admin.sessions.count", n),
		Action: c.Path(), Button: tr.T("admin.sessions.end"), Cancel: fmt.Sprintf("/admin/users/%d", id)})
}

func (s *server) adminEndSessions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Accounts.EndSessions(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "flash.sessions_ended")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}

func (s *server) adminPutMembership(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	gid := formInt64(c, "group_id")
	if gid == nil || *gid <= 0 {
		c.Status(fiber.StatusBadRequest)
		tr := s.tr(c)
		return s.renderAdminUser(c, pageOpts{Errors: map[string]string{"group_id": tr.T("err.required")}})
	}
	_, err = s.Accounts.PutMember(c.UserContext(), actor(c), *gid, id, c.FormValue("role"))
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminUser(c, pageOpts{Errors: fe})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}

func (s *server) adminConfirmRemoveMembership(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	gid, err := idParam(c, "gid")
	if err != nil {
		return err
	}
	u, ms, _, err := s.Accounts.GetUser(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	var group string
	for _, m := range ms {
		if m.GroupID == gid {
			group = m.GroupName
		}
	}
	if group == "" {
		return apperr.ErrNotFound
	}
	tr := s.tr(c)
	return s.render(c, "confirm", pageOpts{Title: tr.T("admin.membership.remove"), Nav: "admin"}, confirmPage{
		Question: tr.T("confirm.remove_membership", "Name", u.Name, "Group", group),
		Action:   c.Path(), Button: tr.T("admin.membership.remove"), Cancel: fmt.Sprintf("/admin/users/%d", id)})
}

func (s *server) adminRemoveMembership(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	gid, err := idParam(c, "gid")
	if err != nil {
		return err
	}
	if err := s.Accounts.RemoveMember(c.UserContext(), actor(c), gid, id); err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}

type adminJSTPage struct {
	JST          []model.JST
	Kinds        []string
	Voivodeships []string
	Page         int
	HasMore      bool
}

func (s *server) adminJST(c *fiber.Ctx) error { return s.renderAdminJST(c, pageOpts{}) }

func (s *server) renderAdminJST(c *fiber.Ctx, o pageOpts) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.ListJST(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	o.Title, o.Nav = s.tr(c).T("admin.jst.title"), "admin"
	return s.render(c, "admin_jst", o, adminJSTPage{JST: pg.Items, Kinds: model.JSTKinds, Voivodeships: model.Voivodeships, Page: page, HasMore: pg.HasMore})
}

func (s *server) adminCreateJST(c *fiber.Ctx) error {
	teryt := c.FormValue("teryt")
	in := accounts.NewJSTInput{Name: c.FormValue("name"), Kind: c.FormValue("kind"), Voivodeship: c.FormValue("voivodeship"), TERYT: &teryt}
	_, err := s.Accounts.CreateJST(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminJST(c, pageOpts{Errors: fe, Form: formValues(c, "name", "kind", "voivodeship", "teryt")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect("/admin/jst", fiber.StatusSeeOther)
}

type adminGroupsPage struct {
	Groups []model.Group
	Kinds  []string
}

func (s *server) adminGroups(c *fiber.Ctx) error { return s.renderAdminGroups(c, pageOpts{}) }

func (s *server) renderAdminGroups(c *fiber.Ctx, o pageOpts) error {
	groups, err := s.Accounts.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	o.Title, o.Nav = s.tr(c).T("admin.groups.title"), "admin"
	return s.render(c, "admin_groups", o, adminGroupsPage{Groups: groups, Kinds: model.GroupKinds})
}

func (s *server) adminCreateGroup(c *fiber.Ctx) error {
	in := accounts.NewGroupInput{Name: c.FormValue("name"), Slug: c.FormValue("slug"), Kind: c.FormValue("kind"), Description: c.FormValue("description")}
	_, err := s.Accounts.CreateGroup(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminGroups(c, pageOpts{Errors: fe, Form: formValues(c, "name", "slug", "kind", "description")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect("/admin/groups", fiber.StatusSeeOther)
}

type adminInvitationsPage struct {
	Invitations []model.Invitation
	JST         []model.JST
	Groups      []model.Group
	NewURL      string
	Page        int
	HasMore     bool
}

func (s *server) adminInvitations(c *fiber.Ctx) error {
	return s.renderAdminInvitations(c, pageOpts{}, "")
}

func (s *server) renderAdminInvitations(c *fiber.Ctx, o pageOpts, newURL string) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.ListInvitations(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	jst, err := s.Accounts.ListJST(c.UserContext(), actor(c), store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	groups, err := s.Accounts.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	o.Title, o.Nav = s.tr(c).T("admin.invitations.title"), "admin"
	return s.render(c, "admin_invitations", o, adminInvitationsPage{Invitations: pg.Items, JST: jst, Groups: groups,
		NewURL: newURL, Page: page, HasMore: pg.HasMore})
}

func (s *server) adminCreateInvitation(c *fiber.Ctx) error {
	groupRole := c.FormValue("group_role")
	in := accounts.InvitationInput{Email: c.FormValue("email"), Role: c.FormValue("role"), JSTID: formInt64(c, "jst_id"),
		JobTitle: c.FormValue("job_title"), GroupID: formInt64(c, "group_id"), GroupRole: &groupRole}
	_, token, err := s.Accounts.CreateInvitation(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderAdminInvitations(c, pageOpts{Errors: fe,
			Form: formValues(c, "email", "role", "jst_id", "job_title", "group_id", "group_role")}, "")
	}
	if err != nil {
		return err
	}
	// The link is shown once, on this response: only its hash is stored.
	c.Status(fiber.StatusCreated)
	return s.renderAdminInvitations(c, pageOpts{}, s.invitationURL(token))
}
