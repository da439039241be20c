package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
)

// "My account" (/konto) and profiles (/u/{id}): the HTML side of
// account_api.go. Every form posts to its own address and comes back to
// /konto with a flash, or re-renders the page with the errors in place.
// mePageRoutes: my account (/konto) and people's profiles (/u/{id}).
func (s *server) mePageRoutes() []route {
	return []route{
		get("/konto", s.pageAccount),
		post("/konto/profile", s.pageAccountProfile),
		post("/konto/notifications", s.pageAccountNotifications),
		post("/konto/password", s.pageAccountPassword),
		get("/konto/sessions/:id/end", s.pageConfirmEndSession),
		post("/konto/sessions/:id/end", s.pageEndSession),
		get("/konto/delete", s.pageAccountDelete),
		post("/konto/delete", s.pageAccountDeletePost),
		get("/u/:id", s.pageProfile),
	}
}

type accountPage struct {
	Me        accounts.MeView
	Sessions  []accounts.SessionView
	Kinds     []string
	TwoFactor bool
	// Form is which form the errors belong to ("profile", "password").
	Form string
}

func (s *server) renderAccount(c *fiber.Ctx, o pageOpts, form string) error {
	p := principal(c)
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	sessions, err := s.Accounts.Sessions(c.UserContext(), p)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	o.Title, o.Nav = tr.T("account.title"), "account"
	return s.render(c, "account", o, accountPage{Me: accounts.ViewMe(p), Sessions: sessions, Kinds: accounts.NotifyKinds,
		TwoFactor: p.TwoFactorEnabled, Form: form})
}

func (s *server) pageAccount(c *fiber.Ctx) error {
	return s.renderAccount(c, pageOpts{}, "")
}

// formError re-renders /konto with a validation error's fields translated,
// or passes any other error on.
func (s *server) accountFormError(c *fiber.Ctx, err error, form string, values map[string]string) error {
	var ve *apperr.Validation
	if !errors.As(err, &ve) {
		var rl *apperr.RateLimited
		if !errors.As(err, &rl) {
			return err
		}
		c.Status(fiber.StatusTooManyRequests)
		return s.renderAccount(c, pageOpts{Errors: map[string]string{"form": s.tr(c).T("error.rate_limited")},
			Form: values}, form)
	}
	c.Status(fiber.StatusBadRequest)
	return s.renderAccount(c, pageOpts{Errors: s.translateErrors(c, ve.Fields), Form: values}, form)
}

func (s *server) pageAccountProfile(c *fiber.Ctx) error {
	name, position, l := c.FormValue("name"), c.FormValue("position"), c.FormValue("lang")
	in := accounts.MeUpdate{Name: &name, Position: &position}
	if l != "" {
		in.Lang = &l
	}
	if _, err := s.Accounts.UpdateMe(c.UserContext(), principal(c), in); err != nil {
		return s.accountFormError(c, err, "profile", map[string]string{"name": name, "position": position})
	}
	s.flash(c, "flash.account_saved")
	return c.Redirect("/konto", fiber.StatusSeeOther)
}

// pageAccountNotifications: every kind is on the form as a checkbox, so a kind
// not sent is a kind turned off.
func (s *server) pageAccountNotifications(c *fiber.Ctx) error {
	notify := make(map[string]bool, len(accounts.NotifyKinds))
	for _, k := range accounts.NotifyKinds {
		notify[k] = c.FormValue("notify_"+k) == "on"
	}
	if _, err := s.Accounts.UpdateMe(c.UserContext(), principal(c), accounts.MeUpdate{Prefs: &accounts.PrefsInput{Notify: notify}}); err != nil {
		return s.accountFormError(c, err, "notifications", nil)
	}
	s.flash(c, "flash.account_notifications_saved")
	return c.Redirect("/konto#notifications-h", fiber.StatusSeeOther)
}

func (s *server) pageAccountPassword(c *fiber.Ctx) error {
	current, next := c.FormValue("current_password"), c.FormValue("new_password")
	if next != "" && next != c.FormValue("new_password_confirm") {
		return s.accountFormError(c, apperr.Invalid("new_password_confirm", "err.password_mismatch"), "password", nil)
	}
	if err := s.Accounts.ChangePassword(c.UserContext(), principal(c), current, next, c.IP()); err != nil {
		return s.accountFormError(c, err, "password", nil)
	}
	s.flash(c, "flash.password_changed")
	return c.Redirect("/konto", fiber.StatusSeeOther)
}

// sessionOf finds one of the principal's sessions by its public id.
func (s *server) sessionOf(c *fiber.Ctx) (accounts.SessionView, error) {
	list, err := s.Accounts.Sessions(c.UserContext(), principal(c))
	if err != nil {
		return accounts.SessionView{}, err
	}
	id := c.Params("id")
	for _, sv := range list {
		if sv.ID == id {
			return sv, nil
		}
	}
	return accounts.SessionView{}, apperr.ErrNotFound
}

func (s *server) pageConfirmEndSession(c *fiber.Ctx) error {
	sv, err := s.sessionOf(c)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	q := tr.T("account.sessions.confirm", "Device", sv.Device, "Date", tr.DateTime(sv.LastSeenAt))
	detail := ""
	if sv.Current {
		detail = tr.T("account.sessions.confirm_current")
	}
	return s.render(c, "confirm", pageOpts{Title: tr.T("account.sessions.end"), Nav: "account"}, confirmPage{
		Question: q, Detail: detail, Action: c.Path(), Button: tr.T("account.sessions.end"), Cancel: "/konto#sessions-h"})
}

func (s *server) pageEndSession(c *fiber.Ctx) error {
	current, err := s.Accounts.EndSession(c.UserContext(), principal(c), strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	if current {
		s.clearSessionCookie(c)
		s.flash(c, "flash.logged_out")
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	s.flash(c, "flash.session_ended")
	return c.Redirect("/konto#sessions-h", fiber.StatusSeeOther)
}

type accountDeletePage struct {
	Email string
}

func (s *server) pageAccountDelete(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	tr := s.tr(c)
	return s.render(c, "account_delete", pageOpts{Title: tr.T("account.delete.title"), Nav: "account"}, accountDeletePage{Email: p.User.Email})
}

func (s *server) pageAccountDeletePost(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	tr := s.tr(c)
	o := pageOpts{Title: tr.T("account.delete.title"), Nav: "account"}
	if c.FormValue("confirm") != "on" {
		c.Status(fiber.StatusBadRequest)
		o.Errors = map[string]string{"confirm": tr.T("account.delete.confirm_required")}
		return s.render(c, "account_delete", o, accountDeletePage{Email: p.User.Email})
	}
	err := s.Accounts.DeleteAccount(c.UserContext(), p, c.FormValue("password"), c.IP())
	var ve *apperr.Validation
	var ce *apperr.Conflict
	var rl *apperr.RateLimited
	switch {
	case errors.As(err, &ve):
		c.Status(fiber.StatusBadRequest)
		o.Errors = s.translateErrors(c, ve.Fields)
	case errors.As(err, &ce) && ce.Code == "last_admin":
		c.Status(fiber.StatusConflict)
		o.Errors = map[string]string{"form": tr.T("account.delete.last_admin")}
	case errors.As(err, &rl):
		c.Status(fiber.StatusTooManyRequests)
		o.Errors = map[string]string{"form": tr.T("error.rate_limited")}
	case err != nil:
		return err
	default:
		s.clearSessionCookie(c)
		s.flash(c, "flash.account_deleted")
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return s.render(c, "account_delete", o, accountDeletePage{Email: p.User.Email})
}

type profilePage struct {
	Profile accounts.ProfileView
	Own     bool
}

func (s *server) pageProfile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a := actor(c)
	pv, err := s.Accounts.Profile(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	if pv.Former {
		pv.Name = accounts.FormerName[lang(c)]
	}
	return s.render(c, "profile", pageOpts{Title: pv.Name + " – " + tr.T("profile.title"), Nav: "index"},
		profilePage{Profile: pv, Own: a != nil && a.UserID == id})
}
