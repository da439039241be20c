package web

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/logging"
)

// The account endpoints of SPEC §4 (issue 12 items 6 and 7): one's own
// account, password, sessions, data export and deletion; the profiles of
// others.
// meAPIRoutes: one's own account (SPEC §4 "account").
func (s *server) meAPIRoutes() []route {
	return []route{
		get("/me", s.apiMe).whileHeld(),
		patch("/me", s.apiUpdateMe),
		post("/me/password", s.apiChangePassword),
		get("/me/sessions", s.apiMySessions),
		del("/me/sessions/:id", s.apiEndMySession),
		get("/me/export", s.apiExport).downloads(), // a ZIP streamed as it is written
		post("/me/delete", s.apiDeleteMe),
	}
}

func (s *server) apiMe(c *fiber.Ctx) error {
	v, err := s.Accounts.Me(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *server) apiUpdateMe(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	var in accounts.MeUpdate
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.Accounts.UpdateMe(c.UserContext(), p, in)
	if err != nil {
		return err
	}
	after := *p
	after.User = u
	v, err := s.Accounts.Me(c.UserContext(), &after)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (s *server) apiChangePassword(c *fiber.Ctx) error {
	var in passwordChangeRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.ChangePassword(c.UserContext(), principal(c), in.CurrentPassword, in.NewPassword, c.IP()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiMySessions(c *fiber.Ctx) error {
	list, err := s.Accounts.Sessions(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

func (s *server) apiEndMySession(c *fiber.Ctx) error {
	current, err := s.Accounts.EndSession(c.UserContext(), principal(c), strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	if current {
		s.clearSessionCookie(c)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type deleteAccountRequest struct {
	Password string `json:"password"`
}

func (s *server) apiDeleteMe(c *fiber.Ctx) error {
	var in deleteAccountRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.DeleteAccount(c.UserContext(), principal(c), in.Password, c.IP()); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// apiExport streams the person's data as a ZIP (GET /api/v1/me/export; the
// account page's button is a plain link to it). The archive is written while
// it is sent: a failure half-way cannot change the status any more, so it
// is logged and the connection cut, leaving an archive that does not open
// rather than one that silently lacks data.
func (s *server) apiExport(c *fiber.Ctx) error {
	p := principal(c)
	release, err := s.Accounts.BeginExport(c.UserContext(), p)
	if err != nil {
		return err
	}
	userID := p.User.ID
	rid, _ := c.Locals(localRequestID).(string)
	name := fmt.Sprintf("forumjst-dane-%d-%s.zip", userID, time.Now().UTC().Format("20060102"))
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		// The request's own context ends when the handler returns, before
		// the body is streamed; the archive gets the downloads' time to leave
		// (requestLimits gives this path the same write timeout).
		ctx, cancel := context.WithTimeout(logging.WithRequestID(context.Background(), rid), s.Config.TransferTimeout)
		defer cancel()
		if err := s.Accounts.WriteExport(ctx, userID, w); err != nil {
			s.Log.ErrorContext(ctx, "export failed", "user_id", userID, "err", err)
			return
		}
		if err := w.Flush(); err != nil {
			s.Log.WarnContext(ctx, "export not delivered", "user_id", userID, "err", err)
		}
	})
	return nil
}

// apiUserProfile is GET /api/v1/users/{id} for everyone but admins: the
// profile as the viewer may see it (404 otherwise).
func (s *server) apiUserProfile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Accounts.Profile(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// adminUserProfile is GET /api/v1/users/{id} for admins: the account as they
// administer it, and the profile's own parts.
type adminUserProfile struct {
	userDetail
	Position     string                        `json:"position"`
	Staff        bool                          `json:"staff"`
	Former       bool                          `json:"former"`
	SharedGroups []accounts.SharedGroupView    `json:"shared_groups"`
	RecentPosts  []accounts.ProfilePostSummary `json:"recent_posts"`
}
