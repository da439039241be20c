package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Two-factor login: the second step of the login form, the set-up page under
// "my account" (/konto/2fa), the admins' per-role dates, and their JSON twins.

func (s *server) twoFactorPageRoutes() []route {
	return []route{
		get("/login/2fa", s.pageLogin2FA).whileHeld(),
		post("/login/2fa", s.pageLogin2FAPost).whileHeld(),
		get("/konto/2fa", s.pageTwoFactor).whileHeld(),
		post("/konto/2fa/setup", s.pageTwoFactorSetup).whileHeld(),
		get("/konto/2fa/qr/:id", s.twoFactorQR).whileHeld(),
		post("/konto/2fa/enable", s.pageTwoFactorEnable).whileHeld(),
		post("/konto/2fa/disable", s.pageTwoFactorDisable).whileHeld(),
		post("/konto/2fa/recovery-codes", s.pageTwoFactorRecoveryCodes).whileHeld(),
	}
}

func (s *server) twoFactorAPIRoutes() []route {
	return []route{
		get("/me/two-factor", s.apiTwoFactor).whileHeld(),
		post("/me/two-factor/setup", s.apiTwoFactorSetup).whileHeld(),
		post("/me/two-factor/enable", s.apiTwoFactorEnable).whileHeld(),
		post("/me/two-factor/disable", s.apiTwoFactorDisable).whileHeld(),
		post("/me/two-factor/recovery-codes", s.apiTwoFactorRecoveryCodes).whileHeld(),
		get("/admin/two-factor", s.apiTwoFactorPolicy),
		put("/admin/two-factor/:role", s.apiSetTwoFactorPolicy),
		del("/users/:id/two-factor", s.apiResetTwoFactor),
	}
}

// twoFactorAdminRoutes hang under /admin, behind its admin check.
func (s *server) twoFactorAdminRoutes() []route {
	return []route{
		get("/2fa", s.adminTwoFactor),
		post("/2fa/:role", s.adminSetTwoFactor),
		get("/users/:id/2fa/reset", s.adminConfirmResetTwoFactor),
		post("/users/:id/2fa/reset", s.adminResetTwoFactor),
	}
}

// twoFactorGate holds a user whose roles require two-factor login, past its
// date and without it, at the set-up page: pages redirect there, everything
// else (API, forms, the websocket upgrade) answers 403 two_factor_setup_required.
// It sits in front of every route, like the CSRF check, so no page, API call
// or socket can be forgotten; the accounts service decides who is held.
func (s *server) twoFactorGate(c *fiber.Ctx) error {
	p := principal(c)
	if p == nil || !p.TwoFactorSetupRequired {
		return c.Next()
	}
	r := s.routeOf(c)
	if r != nil && r.openWhileHeld {
		return c.Next()
	}
	if c.Method() == fiber.MethodGet && !s.wantsJSON(c) && !r.isSocket() {
		return c.Redirect("/konto/2fa", fiber.StatusSeeOther)
	}
	return apperr.ErrTwoFactorSetupRequired
}

// --- the second step of the login form ---------------------------------------

func (s *server) challengeCookieName() string {
	if s.Config.Secure() {
		return "__Host-forumjst_login2fa"
	}
	return "forumjst_login2fa"
}

// The challenge cookie is Strict: it only ever travels from our login form to
// our second-step page.
func (s *server) setChallengeCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{Name: s.challengeCookieName(), Value: token, Path: "/", HTTPOnly: true, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: int(accounts.ChallengeTTL.Seconds())})
}

func (s *server) clearChallengeCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: s.challengeCookieName(), Value: "", Path: "/", HTTPOnly: true, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: -1, Expires: time.Unix(1, 0)})
}

type login2FAForm struct {
	Next       string
	RetryAfter int
	// Recovery: the visitor used the recovery-code form (its field gets the error).
	Recovery bool
}

func (s *server) pageLogin2FA(c *fiber.Ctx) error {
	next := localPath(c.Query("next"), "/")
	open, err := s.Accounts.LoginChallengeOpen(c.UserContext(), c.Cookies(s.challengeCookieName()))
	if err != nil {
		return err
	}
	if !open {
		s.clearChallengeCookie(c)
		return c.Redirect("/login?next="+urlQueryEscape(next), fiber.StatusSeeOther)
	}
	tr := s.tr(c)
	return s.render(c, "login_2fa", pageOpts{Title: tr.T("login2fa.title"), Nav: "login"}, login2FAForm{Next: next})
}

func (s *server) pageLogin2FAPost(c *fiber.Ctx) error {
	next := localPath(c.FormValue("next"), "/")
	code, recovery := c.FormValue("code"), c.FormValue("recovery_code")
	tr := s.tr(c)
	form := login2FAForm{Next: next, Recovery: code == "" && recovery != ""}
	field := "code"
	if form.Recovery {
		field = "recovery_code"
	}
	if strings.TrimSpace(code) == "" && strings.TrimSpace(recovery) == "" {
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "login_2fa", pageOpts{Title: tr.T("login2fa.title"), Nav: "login",
			Errors: map[string]string{"code": tr.T("err.required")}}, form)
	}
	token, _, err := s.Accounts.CompleteLogin(c.UserContext(), c.Cookies(s.challengeCookieName()), code, recovery,
		c.IP(), c.Get(fiber.HeaderUserAgent), c.Cookies(s.cookieName()))
	var rl *apperr.RateLimited
	switch {
	case errors.Is(err, accounts.ErrChallengeGone):
		s.clearChallengeCookie(c)
		s.flash(c, "flash.two_factor_expired")
		return c.Redirect("/login?next="+urlQueryEscape(next), fiber.StatusSeeOther)
	case errors.Is(err, apperr.ErrTwoFactorInvalid):
		c.Status(fiber.StatusUnauthorized)
		msg := "err.two_factor_code"
		if form.Recovery {
			msg = "err.recovery_code"
		}
		return s.render(c, "login_2fa", pageOpts{Title: tr.T("login2fa.title"), Nav: "login",
			Errors: map[string]string{field: tr.T(msg)}}, form)
	case errors.As(err, &rl):
		form.RetryAfter = int(rl.RetryAfter.Minutes() + 0.999)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
		c.Status(fiber.StatusTooManyRequests)
		return s.render(c, "login_2fa", pageOpts{Title: tr.T("login2fa.title"), Nav: "login"}, form)
	case err != nil:
		return err
	}
	s.clearChallengeCookie(c)
	s.setSessionCookie(c, token)
	return c.Redirect(next, fiber.StatusSeeOther)
}

// --- /konto/2fa -------------------------------------------------------------------

type twoFactorPage struct {
	Status accounts.TwoFactorStatus
	// EnableBy is the last day of the user's roles' deadline, formatted.
	EnableBy string
	// SecretGroups is the secret in groups of four, for typing.
	SecretGroups string
	QRURL        string
	EnabledOn    string
	// Active is the form whose errors are shown: "regenerate" or "disable".
	Active string
}

func (s *server) renderTwoFactor(c *fiber.Ctx, o pageOpts) error {
	st, err := s.Accounts.TwoFactorStatus(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	tr := s.tr(c)
	pg := twoFactorPage{Status: st, Active: "disable"}
	if c.FormValue("form") == "regenerate" {
		pg.Active = "regenerate"
	}
	if st.Deadline != nil {
		// The deadline is the start of the day after the last allowed day.
		pg.EnableBy = tr.Date(st.Deadline.Add(-time.Minute))
	}
	if st.EnabledAt != nil {
		pg.EnabledOn = tr.Date(*st.EnabledAt)
	}
	if st.Setup != nil {
		pg.SecretGroups = groupsOf4(st.Setup.Secret)
		pg.QRURL = "/konto/2fa/qr/" + st.Setup.ID
	}
	o.Title = tr.T("twofactor.title")
	o.NoTwoFactorBanner = true // this page is where it is turned on
	return s.render(c, "account_2fa", o, pg)
}

func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *server) pageTwoFactor(c *fiber.Ctx) error { return s.renderTwoFactor(c, pageOpts{}) }

func (s *server) pageTwoFactorSetup(c *fiber.Ctx) error {
	if _, err := s.Accounts.StartTwoFactorSetup(c.UserContext(), principal(c)); err != nil {
		return err
	}
	return c.Redirect("/konto/2fa", fiber.StatusSeeOther)
}

// twoFactorQR serves the QR code of the caller's own pending set-up. The CSP
// allows images from 'self' only, hence a URL rather than a data: URI.
func (s *server) twoFactorQR(c *fiber.Ctx) error {
	img, err := s.Accounts.TwoFactorQR(c.UserContext(), principal(c), strings.Clone(c.Params("id")))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	// The image is the secret: never cached, by us or anyone between.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(img)
}

type recoveryCodesPage struct {
	Codes []string
}

func (s *server) renderRecoveryCodes(c *fiber.Ctx, codes []string) error {
	tr := s.tr(c)
	return s.render(c, "recovery_codes", pageOpts{Title: tr.T("twofactor.codes.title"), NoTwoFactorBanner: true}, recoveryCodesPage{Codes: codes})
}

func (s *server) pageTwoFactorEnable(c *fiber.Ctx) error {
	codes, err := s.Accounts.EnableTwoFactor(c.UserContext(), principal(c), c.FormValue("password"), c.FormValue("code"), c.IP())
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderTwoFactor(c, pageOpts{Errors: fe})
	}
	var ce *apperr.Conflict
	switch {
	case errors.As(err, &ce) && ce.Code == "two_factor_setup_expired":
		s.flash(c, "flash.two_factor_setup_expired")
		return c.Redirect("/konto/2fa", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	// Shown once: this response is the only place the codes ever appear.
	return s.renderRecoveryCodes(c, codes)
}

// reauthError renders a refused password/code check on the account page.
func (s *server) reauthError(c *fiber.Ctx, err error) error {
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderTwoFactor(c, pageOpts{Errors: fe})
	}
	return err
}

func (s *server) pageTwoFactorDisable(c *fiber.Ctx) error {
	err := s.Accounts.DisableTwoFactor(c.UserContext(), principal(c), c.FormValue("password"), c.FormValue("code"),
		c.FormValue("recovery_code"), c.IP())
	if err != nil {
		return s.reauthError(c, err)
	}
	s.flash(c, "flash.two_factor_disabled")
	return c.Redirect("/konto/2fa", fiber.StatusSeeOther)
}

func (s *server) pageTwoFactorRecoveryCodes(c *fiber.Ctx) error {
	codes, err := s.Accounts.RegenerateRecoveryCodes(c.UserContext(), principal(c), c.FormValue("password"), c.FormValue("code"), c.IP())
	if err != nil {
		return s.reauthError(c, err)
	}
	return s.renderRecoveryCodes(c, codes)
}

// --- JSON -------------------------------------------------------------------------

func (s *server) apiTwoFactor(c *fiber.Ctx) error {
	st, err := s.Accounts.TwoFactorStatus(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	if st.Setup != nil {
		return c.JSON(fiber.Map{"enabled": st.Enabled, "required_from": st.Deadline, "setup_required": st.SetupRequired,
			"setup": twoFactorSetupResponse(*st.Setup)})
	}
	return c.JSON(st)
}

func twoFactorSetupResponse(su accounts.TwoFactorSetup) fiber.Map {
	return fiber.Map{"secret": su.Secret, "otpauth_url": su.URL, "qr_url": "/konto/2fa/qr/" + su.ID, "expires_at": su.ExpiresAt}
}

func (s *server) apiTwoFactorSetup(c *fiber.Ctx) error {
	su, err := s.Accounts.StartTwoFactorSetup(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(twoFactorSetupResponse(su))
}

type twoFactorEnableRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (s *server) apiTwoFactorEnable(c *fiber.Ctx) error {
	var in twoFactorEnableRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	codes, err := s.Accounts.EnableTwoFactor(c.UserContext(), principal(c), in.Password, in.Code, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

type twoFactorReauthRequest struct {
	Password     string `json:"password"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

func (s *server) apiTwoFactorDisable(c *fiber.Ctx) error {
	var in twoFactorReauthRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Accounts.DisableTwoFactor(c.UserContext(), principal(c), in.Password, in.Code, in.RecoveryCode, c.IP()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type twoFactorRegenerateRequest struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (s *server) apiTwoFactorRecoveryCodes(c *fiber.Ctx) error {
	var in twoFactorRegenerateRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	codes, err := s.Accounts.RegenerateRecoveryCodes(c.UserContext(), principal(c), in.Password, in.Code, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

// twoFactorPolicyItem is one role's requirement as the API shows it; roles
// without a date have null.
type twoFactorPolicyItem struct {
	Role     string     `json:"role"`
	EnableBy *string    `json:"enable_by"`
	Deadline *time.Time `json:"required_from"`
	Missing  *int       `json:"users_without_two_factor"`
}

func policyItems(list []store.TwoFactorPolicy) []twoFactorPolicyItem {
	out := make([]twoFactorPolicyItem, 0, len(accounts.TwoFactorRoles))
	for _, role := range accounts.TwoFactorRoles {
		it := twoFactorPolicyItem{Role: role}
		for _, p := range list {
			if p.Role == role {
				day, deadline, missing := p.EnableBy.Format(time.DateOnly), p.Deadline, p.Missing
				it.EnableBy, it.Deadline, it.Missing = &day, &deadline, &missing
			}
		}
		out = append(out, it)
	}
	return out
}

func (s *server) apiTwoFactorPolicy(c *fiber.Ctx) error {
	list, err := s.Accounts.TwoFactorPolicy(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": policyItems(list)})
}

type twoFactorPolicyRequest struct {
	EnableBy *string `json:"enable_by"`
}

// parseEnableBy reads a calendar day (YYYY-MM-DD); "" or null clears.
func parseEnableBy(v *string) (*time.Time, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(*v))
	if err != nil || d.Year() < 2000 || d.Year() > 9999 {
		return nil, apperr.Invalid("enable_by", "err.date")
	}
	return &d, nil
}

func (s *server) apiSetTwoFactorPolicy(c *fiber.Ctx) error {
	var in twoFactorPolicyRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	day, err := parseEnableBy(in.EnableBy)
	if err != nil {
		return err
	}
	if err := s.Accounts.SetTwoFactorPolicy(c.UserContext(), actor(c), strings.Clone(c.Params("role")), day); err != nil {
		return err
	}
	return s.apiTwoFactorPolicy(c)
}

func (s *server) apiResetTwoFactor(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Accounts.ResetTwoFactor(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- admin pages ------------------------------------------------------------------

type adminTwoFactorRow struct {
	Role     string
	EnableBy string // YYYY-MM-DD, "" when the role has no date
	// Day is EnableBy as people read it.
	Day     string
	Missing int
}

type adminTwoFactorPage struct {
	Rows []adminTwoFactorRow
}

func (s *server) renderAdminTwoFactor(c *fiber.Ctx, o pageOpts) error {
	list, err := s.Accounts.TwoFactorPolicy(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	o.Title, o.Nav = s.tr(c).T("admin.twofactor.title"), "admin"
	var pg adminTwoFactorPage
	tr := s.tr(c)
	for _, it := range policyItems(list) {
		row := adminTwoFactorRow{Role: it.Role}
		if it.EnableBy != nil {
			row.EnableBy, row.Missing, row.Day = *it.EnableBy, *it.Missing, tr.Date(it.Deadline.Add(-time.Minute))
		}
		pg.Rows = append(pg.Rows, row)
	}
	return s.render(c, "admin_2fa", o, pg)
}

func (s *server) adminTwoFactor(c *fiber.Ctx) error { return s.renderAdminTwoFactor(c, pageOpts{}) }

func (s *server) adminSetTwoFactor(c *fiber.Ctx) error {
	role := strings.Clone(c.Params("role"))
	v := c.FormValue("enable_by")
	if c.FormValue("clear") != "" {
		v = ""
	}
	day, err := parseEnableBy(&v)
	if err == nil {
		err = s.Accounts.SetTwoFactorPolicy(c.UserContext(), actor(c), role, day)
	}
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		// One form per role on the page: its fields carry the role.
		errs := map[string]string{}
		for f, m := range fe {
			errs[f+"_"+role] = m
		}
		return s.renderAdminTwoFactor(c, pageOpts{Errors: errs, Form: map[string]string{"enable_by_" + role: c.FormValue("enable_by")}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect("/admin/2fa", fiber.StatusSeeOther)
}

func (s *server) adminConfirmResetTwoFactor(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, _, _, err := s.Accounts.GetUser(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	return s.render(c, "confirm", pageOpts{Title: tr.T("admin.twofactor.reset"), Nav: "admin"}, confirmPage{
		Question: tr.T("confirm.reset_two_factor", "Name", u.Name), Detail: tr.T("admin.twofactor.reset_detail"),
		Action: c.Path(), Button: tr.T("admin.twofactor.reset"), Cancel: fmt.Sprintf("/admin/users/%d", id)})
}

func (s *server) adminResetTwoFactor(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Accounts.ResetTwoFactor(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "flash.two_factor_reset")
	return c.Redirect(fmt.Sprintf("/admin/users/%d", id), fiber.StatusSeeOther)
}
