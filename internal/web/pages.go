package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

func (s *server) pageRoutes(app *fiber.App) {
	app.Get("/", s.pageIndex)
	app.Get("/about", s.pageAbout)
	app.Get("/login", s.pageLogin)
	app.Post("/login", s.pageLoginPost)
	app.Post("/logout", s.pageLogout)
	app.Post("/lang", s.pageLang)
	app.Get("/invite/:token", s.pageInvite)
	app.Post("/invite/:token", s.pageInvitePost)
	app.Get("/g/:id/members", s.pageGroupMembers)
	s.forumPageRoutes(app)
	s.moderationPageRoutes(app)
	s.meetingPageRoutes(app)
	s.notificationPageRoutes(app)
	s.notePageRoutes(app)
	s.twoFactorPageRoutes(app)
	s.mailPageRoutes(app)
	s.mailPrefsPageRoutes(app)
	s.newsletterPageRoutes(app)
	s.adminRoutes(app.Group("/admin"))
}

// localPath accepts only same-site paths as redirect targets (no open redirects).
// Browsers drop tabs and newlines from URLs and read a backslash as "/", so
// "/<TAB>/evil.example" would become "//evil.example": any control character or
// backslash is refused.
func localPath(p, fallback string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return fallback
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fallback
		}
	}
	return p
}

func (s *server) pageAbout(c *fiber.Ctx) error {
	tr := s.Catalog.Printer(lang(c))
	return s.render(c, "about", pageOpts{Title: tr.T("about.title"), Nav: "about"}, nil)
}

func (s *server) pageIndex(c *fiber.Ctx) error {
	a := actor(c)
	if a.Anonymous() {
		return s.pageAbout(c)
	}
	sections, err := s.Forum.Index(c.UserContext(), a)
	if err != nil {
		return err
	}
	tr := s.Catalog.Printer(lang(c))
	return s.render(c, "index", pageOpts{Title: tr.T("index.title"), Nav: "index"}, sections)
}

type loginForm struct {
	Next       string
	RetryAfter int
}

func (s *server) pageLogin(c *fiber.Ctx) error {
	next := localPath(c.Query("next"), "/")
	if principal(c) != nil {
		return c.Redirect(next)
	}
	tr := s.Catalog.Printer(lang(c))
	return s.render(c, "login", pageOpts{Title: tr.T("login.title"), Nav: "login"}, loginForm{Next: next})
}

func (s *server) pageLoginPost(c *fiber.Ctx) error {
	email, password := strings.TrimSpace(c.FormValue("email")), c.FormValue("password")
	next := localPath(c.FormValue("next"), "/")
	tr := s.Catalog.Printer(lang(c))
	form := map[string]string{"email": email}
	if email == "" || password == "" {
		errs := map[string]string{}
		if email == "" {
			errs["email"] = tr.T("err.required")
		}
		if password == "" {
			errs["password"] = tr.T("err.required")
		}
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "login", pageOpts{Title: tr.T("login.title"), Errors: errs, Form: form}, loginForm{Next: next})
	}
	step, err := s.Accounts.BeginLogin(c.UserContext(), accounts.LoginInput{Email: email, Password: password, IP: c.IP(),
		UserAgent: c.Get(fiber.HeaderUserAgent), OldToken: c.Cookies(s.cookieName())})
	if err != nil {
		status, code := classify(err)
		if status >= 500 {
			return err
		}
		lf := loginForm{Next: next}
		var rl *apperr.RateLimited
		if errors.As(err, &rl) {
			lf.RetryAfter = int(rl.RetryAfter.Minutes() + 0.999)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		}
		c.Status(status)
		return s.render(c, "login", pageOpts{Title: tr.T("login.title"),
			Errors: map[string]string{"form": tr.T("error." + code)}, Form: form}, lf)
	}
	if step.Challenge != "" {
		// The password was right; no session until the second factor is.
		s.setChallengeCookie(c, step.Challenge)
		return c.Redirect("/login/2fa?next="+urlQueryEscape(next), fiber.StatusSeeOther)
	}
	s.setSessionCookie(c, step.Token)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *server) pageLogout(c *fiber.Ctx) error {
	if err := s.Accounts.Logout(c.UserContext(), c.Cookies(s.cookieName())); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	s.flash(c, "flash.logged_out")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (s *server) pageLang(c *fiber.Ctx) error {
	l := c.FormValue("lang")
	if l != "pl" && l != "en" {
		return &badRequest{"unknown language"}
	}
	c.Cookie(&fiber.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode, HTTPOnly: true})
	return c.Redirect(localPath(c.FormValue("next"), "/"), fiber.StatusSeeOther)
}

type invitePage struct {
	Invitation model.Invitation
	Token      string
}

func (s *server) pageInvite(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	inv, err := s.Accounts.Invitation(c.UserContext(), token)
	if err != nil {
		return err
	}
	tr := s.Catalog.Printer(lang(c))
	return s.render(c, "invite", pageOpts{Title: tr.T("invite.title")}, invitePage{inv, token})
}

func (s *server) pageInvitePost(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	inv, err := s.Accounts.Invitation(c.UserContext(), token)
	if err != nil {
		return err
	}
	in := accounts.AcceptInput{Name: c.FormValue("name"), Password: c.FormValue("password")}
	tr := s.Catalog.Printer(lang(c))
	var verr *apperr.Validation
	if in.Password != c.FormValue("password_confirm") {
		verr = &apperr.Validation{}
		verr.Add("password_confirm", "err.password_mismatch")
	} else if _, err = s.Accounts.AcceptInvitation(c.UserContext(), token, in); errors.As(err, &verr) {
		// shown below
	} else if err != nil {
		return err
	}
	if verr != nil {
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "invite", pageOpts{Title: tr.T("invite.title"), Errors: s.translateErrors(c, verr.Fields),
			Form: map[string]string{"name": in.Name}}, invitePage{inv, token})
	}
	// The account exists: log the new member straight in.
	sessionToken, _, err := s.Accounts.Login(c.UserContext(), inv.Email, in.Password, c.IP(), c.Get(fiber.HeaderUserAgent), "")
	if err != nil {
		return err
	}
	s.setSessionCookie(c, sessionToken)
	s.flash(c, "flash.welcome")
	return c.Redirect("/", fiber.StatusSeeOther)
}

type groupPage struct {
	Group   model.Group
	Members []model.Member
}

func (s *server) pageGroupMembers(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, members, err := s.Accounts.GroupMembers(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "members", pageOpts{Title: g.Name, Nav: "index"}, groupPage{Group: g, Members: members})
}
