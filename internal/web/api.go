package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
)

// accountAPIRoutes: sessions, users, JST, groups and invitations.
func (s *server) accountAPIRoutes() []route {
	return []route{
		post("/auth/login", s.apiLogin).loginRoute().whileHeld(),
		post("/auth/logout", s.apiLogout).whileHeld(),

		get("/forum", s.apiForum),

		get("/users", s.apiListUsers),
		post("/users", s.apiCreateUser),
		get("/users/:id", s.apiGetUser),
		patch("/users/:id", s.apiUpdateUser),
		del("/users/:id/sessions", s.apiEndSessions),

		get("/jst", s.apiListJST),
		post("/jst", s.apiCreateJST),

		get("/groups", s.apiListGroups),
		post("/groups", s.apiCreateGroup),
		get("/groups/:id/members", s.apiListMembers),
		put("/groups/:id/members/:user_id", s.apiPutMember),
		del("/groups/:id/members/:user_id", s.apiRemoveMember),

		get("/invitations", s.apiListInvitations),
		post("/invitations", s.apiCreateInvitation),
		post("/invitations/:token/accept", s.apiAcceptInvitation),
	}
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// The second factor of an account with two-factor login: a current
	// 6-digit code or one of its recovery codes.
	OTP          string `json:"otp"`
	RecoveryCode string `json:"recovery_code"`
}

func (s *server) apiLogin(c *fiber.Ctx) error {
	var in loginRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v := &apperr.Validation{}
	if strings.TrimSpace(in.Email) == "" {
		v.Add("email", "err.required")
	}
	if in.Password == "" {
		v.Add("password", "err.required")
	}
	if err := v.Err(); err != nil {
		return err
	}
	token, p, err := s.Accounts.LoginWithSecondFactor(c.UserContext(), accounts.LoginInput{Email: in.Email, Password: in.Password,
		OTP: in.OTP, RecoveryCode: in.RecoveryCode, IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent), OldToken: c.Cookies(s.cookieName())})
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token)
	return c.JSON(fiber.Map{"user": accounts.ViewMe(p), "csrf_token": p.CSRFToken})
}

func (s *server) apiLogout(c *fiber.Ctx) error {
	if err := s.Accounts.Logout(c.UserContext(), c.Cookies(s.cookieName())); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiForum(c *fiber.Ctx) error {
	sections, err := s.Forum.Index(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sections": sections})
}

func (s *server) apiListUsers(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	users, err := s.Accounts.ListUsers(c.UserContext(), actor(c), c.Query("q"), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(accounts.ViewUsers(users), p, page))
}

func (s *server) apiCreateUser(c *fiber.Ctx) error {
	var in accounts.NewUserInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.Accounts.CreateUser(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(accounts.ViewUser(u))
}

type userDetail struct {
	accounts.UserView
	Memberships []accounts.MembershipView `json:"memberships"`
	Sessions    int                       `json:"active_sessions"`
}

func (s *server) apiGetUser(c *fiber.Ctx) error {
	if !actor(c).IsAdmin() {
		return s.apiUserProfile(c) // account_api.go
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, ms, n, err := s.Accounts.GetUser(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	pv, err := s.Accounts.Profile(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(adminUserProfile{userDetail: userDetail{accounts.ViewUser(u), accounts.ViewMemberships(ms), n},
		Position: pv.Position, Staff: pv.Staff, Former: pv.Former, SharedGroups: pv.SharedGroups, RecentPosts: pv.RecentPosts})
}

func (s *server) apiUpdateUser(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in accounts.UserUpdateInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.Accounts.UpdateUser(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(accounts.ViewUser(u))
}

func (s *server) apiEndSessions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Accounts.EndSessions(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiListJST(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.ListJST(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(accounts.ViewJSTs(list), p, page))
}

func (s *server) apiCreateJST(c *fiber.Ctx) error {
	var in accounts.NewJSTInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	j, err := s.Accounts.CreateJST(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(accounts.ViewJST(j))
}

func (s *server) apiListGroups(c *fiber.Ctx) error {
	groups, err := s.Accounts.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": accounts.ViewGroups(groups)})
}

func (s *server) apiCreateGroup(c *fiber.Ctx) error {
	var in accounts.NewGroupInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.Accounts.CreateGroup(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(accounts.ViewGroup(g))
}

func (s *server) apiListMembers(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, members, err := s.Accounts.GroupMembers(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": accounts.ViewMembers(members)})
}

type memberRequest struct {
	Role string `json:"role"`
}

func (s *server) apiPutMember(c *fiber.Ctx) error {
	gid, err := idParam(c, "id")
	if err != nil {
		return err
	}
	uid, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	var in memberRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	created, err := s.Accounts.PutMember(c.UserContext(), actor(c), gid, uid, in.Role)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(fiber.Map{"group_id": gid, "user_id": uid, "role": in.Role})
}

func (s *server) apiRemoveMember(c *fiber.Ctx) error {
	gid, err := idParam(c, "id")
	if err != nil {
		return err
	}
	uid, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	if err := s.Accounts.RemoveMember(c.UserContext(), actor(c), gid, uid); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiListInvitations(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Accounts.ListInvitations(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(accounts.ViewInvitations(list), p, page))
}

type invitationResponse struct {
	accounts.InvitationView
	URL string `json:"url"`
}

func (s *server) apiCreateInvitation(c *fiber.Ctx) error {
	var in accounts.InvitationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	inv, token, err := s.Accounts.CreateInvitation(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(invitationResponse{accounts.ViewInvitation(inv), s.invitationURL(token)})
}

func (s *server) invitationURL(token string) string {
	return s.Config.PublicURL.String() + "/invite/" + token
}

func (s *server) apiAcceptInvitation(c *fiber.Ctx) error {
	var in accounts.AcceptInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.Accounts.AcceptInvitation(c.UserContext(), strings.Clone(c.Params("token")), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(accounts.ViewUser(u))
}
