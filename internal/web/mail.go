package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
)

// Password reset, unsubscribe links and the administrators' mail queue
// (issue 12): pages and /api/v1.

// mailPageRoutes: the forgotten-password pages and the unsubscribe links.
func (s *server) mailPageRoutes() []route {
	return []route{
		get("/haslo", s.pageForgotPassword),
		post("/haslo", s.pageForgotPasswordPost),
		get("/haslo/:token", s.pageResetPassword),
		post("/haslo/:token", s.pageResetPasswordPost),
		get("/unsubscribe/:token", s.pageUnsubscribe),
		// Mail clients' one-click unsubscribe posts with no token.
		post("/unsubscribe/:token", s.pageUnsubscribePost).signedLink(),
	}
}

// mailAPIRoutes: password reset and the administrators' view of the queue.
func (s *server) mailAPIRoutes() []route {
	return []route{
		post("/auth/password-reset", s.apiRequestPasswordReset),
		post("/auth/password-reset/:token", s.apiResetPassword),
		get("/admin/mail", s.apiListMail),
		get("/admin/mail/:id", s.apiGetMail),
	}
}

type forgotPage struct {
	Sent       bool
	RetryAfter int
}

func (s *server) pageForgotPassword(c *fiber.Ctx) error {
	tr := s.tr(c)
	return s.render(c, "password_forgot", pageOpts{Title: tr.T("reset.title"), Nav: "login"}, forgotPage{})
}

// pageForgotPasswordPost answers the same page whether or not the address
// has an account; only the per-address limit (independent of the address
// typed) answers differently.
func (s *server) pageForgotPasswordPost(c *fiber.Ctx) error {
	tr := s.tr(c)
	email := strings.TrimSpace(c.FormValue("email"))
	o := pageOpts{Title: tr.T("reset.title"), Nav: "login", Form: map[string]string{"email": email}}
	err := s.Accounts.RequestPasswordReset(c.UserContext(), email, c.IP(), lang(c))
	var verr *apperr.Validation
	var rl *apperr.RateLimited
	switch {
	case errors.As(err, &verr):
		o.Errors = s.translateErrors(c, verr.Fields)
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "password_forgot", o, forgotPage{})
	case errors.As(err, &rl):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		c.Status(fiber.StatusTooManyRequests)
		return s.render(c, "password_forgot", o, forgotPage{RetryAfter: int(rl.RetryAfter.Minutes() + 0.999)})
	case err != nil:
		return err
	}
	return s.render(c, "password_forgot", pageOpts{Title: tr.T("reset.title"), Nav: "login"}, forgotPage{Sent: true})
}

type resetPage struct {
	Token   string
	Invalid bool
}

func (s *server) pageResetPassword(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	tr := s.tr(c)
	noForeignReferrer(c)
	if err := s.Accounts.CheckPasswordReset(c.UserContext(), token); errors.Is(err, apperr.ErrNotFound) {
		c.Status(fiber.StatusNotFound)
		return s.render(c, "password_reset", pageOpts{Title: tr.T("reset.new_title")}, resetPage{Invalid: true})
	} else if err != nil {
		return err
	}
	return s.render(c, "password_reset", pageOpts{Title: tr.T("reset.new_title")}, resetPage{Token: token})
}

func (s *server) pageResetPasswordPost(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	tr := s.tr(c)
	o := pageOpts{Title: tr.T("reset.new_title")}
	password := c.FormValue("password")
	var err error
	if password != c.FormValue("password_confirm") {
		err = apperr.Invalid("password_confirm", "err.password_mismatch")
	} else {
		err = s.Accounts.ResetPassword(c.UserContext(), token, password)
	}
	var verr *apperr.Validation
	switch {
	case errors.As(err, &verr):
		o.Errors = s.translateErrors(c, verr.Fields)
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "password_reset", o, resetPage{Token: token})
	case errors.Is(err, apperr.ErrNotFound):
		c.Status(fiber.StatusNotFound)
		return s.render(c, "password_reset", o, resetPage{Invalid: true})
	case err != nil:
		return err
	}
	// Every session of the account ended, this browser's too if it had one.
	s.clearSessionCookie(c)
	s.flash(c, "flash.password_reset")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// noForeignReferrer keeps a page's URL (which holds a reset or unsubscribe
// token, or shows one) out of the Referer sent to other sites. Not
// no-referrer: with it browsers send "Origin: null" on the page's own form
// and the same-origin check refuses the POST.
func noForeignReferrer(c *fiber.Ctx) {
	c.Set("Referrer-Policy", "same-origin")
}

type passwordResetRequest struct {
	Email string `json:"email"`
}

// apiRequestPasswordReset always answers 202 for a well-formed request,
// whether or not the address has an account.
func (s *server) apiRequestPasswordReset(c *fiber.Ctx) error {
	var in passwordResetRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.RequestPasswordReset(c.UserContext(), in.Email, c.IP(), lang(c)); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"status": "accepted"})
}

type newPasswordRequest struct {
	Password string `json:"password"`
}

func (s *server) apiResetPassword(c *fiber.Ctx) error {
	var in newPasswordRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.ResetPassword(c.UserContext(), strings.Clone(c.Params("token")), in.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type unsubscribePage struct {
	Token string
	Kind  string // the kind's name in the reader's language
	Done  bool
}

// pageUnsubscribe shows what the link turns off and a button. It changes
// nothing itself: mail scanners and link previews fetch every link of a mail
// with GET, and would unsubscribe people who never clicked. Mail clients
// that offer "unsubscribe" POST to the same URL (List-Unsubscribe-Post), a
// single click.
func (s *server) pageUnsubscribe(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	u, err := s.Mail.ParseUnsubscribe(token)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	noForeignReferrer(c)
	return s.render(c, "unsubscribe", pageOpts{Title: tr.T("unsubscribe.title")}, unsubscribePage{Token: token, Kind: mail.KindLabel(tr, u.Kind)})
}

// pageUnsubscribePost needs no login and no CSRF token (see csrf): the
// signature is the permission, and all it can do is turn one kind of mail off.
func (s *server) pageUnsubscribePost(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	u, err := s.Mail.Unsubscribe(c.UserContext(), token)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	noForeignReferrer(c)
	return s.render(c, "unsubscribe", pageOpts{Title: tr.T("unsubscribe.title")}, unsubscribePage{Kind: mail.KindLabel(tr, u.Kind), Done: true})
}

func (s *server) apiListMail(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Mail.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, p, page))
}

func (s *server) apiGetMail(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Mail.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type adminMailPage struct {
	Mails    []mail.MailView
	Page     int
	HasMore  bool
	Delivers bool
}

func (s *server) adminMail(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Mail.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	tr := s.tr(c)
	return s.render(c, "admin_mail", pageOpts{Title: tr.T("admin.mail.title"), Nav: "admin"},
		adminMailPage{Mails: pg.Items, Page: page, HasMore: pg.HasMore, Delivers: s.Mail.Delivers()})
}

func (s *server) adminMailDetail(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Mail.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	noForeignReferrer(c)
	return s.render(c, "admin_mail_detail", pageOpts{Title: m.Subject + " – " + tr.T("admin.mail.title"), Nav: "admin"}, m)
}
