package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/logging"
)

const (
	localPrincipal = "principal"
	localRequestID = "request_id"
	localLang      = "lang"
)

// requestContext gives every request an id, a context with a deadline (Fiber v2
// never cancels its own when the client leaves, so queries need one), a log line
// and metrics.
func (s *server) requestContext(c *fiber.Ctx) error {
	start := time.Now()
	rid := c.Get(fiber.HeaderXRequestID)
	if rid == "" || len(rid) > 64 {
		rid = uuid.NewString()
	} else {
		rid = strings.Clone(rid)
	}
	c.Locals(localRequestID, rid)
	c.Set(fiber.HeaderXRequestID, rid)
	ctx, cancel := context.WithTimeout(logging.WithRequestID(context.Background(), rid), s.Config.QueryTimeout)
	defer cancel()
	c.SetUserContext(ctx)

	err := c.Next()
	if err != nil {
		// Run the error handler now so the status we log and count is the real one.
		if herr := s.handleError(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
		err = nil
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	if status == fiber.StatusNotFound && route == "/" && c.Path() != "/" {
		route = "unmatched" // keep label cardinality bounded
	}
	elapsed := time.Since(start)
	s.metrics.observe(c.Method(), route, status, elapsed)
	attrs := []any{"method", c.Method(), "path", c.Path(), "route", route, "status", status,
		"duration_ms", float64(elapsed.Microseconds()) / 1000, "ip", c.IP()}
	if p := principal(c); p != nil {
		attrs = append(attrs, "user_id", p.User.ID)
	}
	if status >= 500 {
		s.Log.ErrorContext(ctx, "request", attrs...)
	} else if c.Path() != "/healthz" && c.Path() != "/metrics" {
		s.Log.InfoContext(ctx, "request", attrs...)
	}
	return err
}

// securityHeaders: a CSP without 'unsafe-inline' (every script and style is a
// file under /static), images only from us, no framing.
func (s *server) securityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

func (s *server) setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	// Not no-referrer: the same-origin check on unsafe requests reads Referer.
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	if s.Config.Secure() {
		c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

func (s *server) cookieName() string {
	if s.Config.Secure() {
		return "__Host-forumjst_session"
	}
	return "forumjst_session"
}

// session resolves the session cookie to a principal (or leaves the request
// anonymous). Only a request that may render a page (with the header's badge)
// has its unread notifications counted: the API answers in JSON and the
// websocket upgrade never renders, and the count is the dearest part of the
// look-up for a reader with many unread.
func (s *server) session(c *fiber.Ctx) error {
	token := c.Cookies(s.cookieName())
	if token != "" {
		authenticate := s.Accounts.AuthenticatePage
		if r := s.routeOf(c); r.isAPI() || r.isSocket() {
			authenticate = s.Accounts.Authenticate
		}
		p, err := authenticate(c.UserContext(), token)
		switch {
		case errors.Is(err, apperr.ErrUnauthenticated):
			s.clearSessionCookie(c)
		case err != nil:
			return err
		default:
			if p.NewToken != "" {
				s.setSessionCookie(c, p.NewToken)
			}
			c.Locals(localPrincipal, p)
		}
	}
	c.Locals(localLang, s.language(c))
	return c.Next()
}

func (s *server) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name: s.cookieName(), Value: token, Path: "/", HTTPOnly: true, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: int(s.Config.SessionMax.Seconds()),
	})
}

func (s *server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: s.cookieName(), Value: "", Path: "/", HTTPOnly: true, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(1, 0),
	})
}

func principal(c *fiber.Ctx) *accounts.Principal {
	p, _ := c.Locals(localPrincipal).(*accounts.Principal)
	return p
}

// actor is the request's actor; anonymous visitors get a nil *Actor, which the
// access package treats as anonymous.
func actor(c *fiber.Ctx) *access.Actor {
	if p := principal(c); p != nil {
		return p.Actor
	}
	return nil
}

var errCSRF = errors.New("missing or invalid CSRF token")
var errCrossOrigin = errors.New("cross-origin request refused")

func isSafeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// csrf protects cookie-authenticated unsafe requests with the session's token
// (header X-CSRF-Token or the body's form field _csrf), and every unsafe request from a
// browser with a same-origin check.
func (s *server) csrf(c *fiber.Ctx) error {
	if isSafeMethod(c.Method()) {
		return c.Next()
	}
	if !s.sameOrigin(c) {
		return errCrossOrigin
	}
	p := principal(c)
	if p == nil {
		return c.Next()
	}
	// Logging in again while logged in needs no token: login replaces the session
	// anyway, and the same-origin check above stops login CSRF.
	if r := s.routeOf(c); r != nil && r.relogin {
		return c.Next()
	}
	// An unsubscribe link's signature is its permission, and mail clients
	// POST it (RFC 8058) with whatever cookies the browser holds and no token.
	if r := s.routeOf(c); r != nil && r.signed {
		return c.Next()
	}
	sent := c.Get("X-CSRF-Token")
	if sent == "" && s.routeOf(c).isUpload() {
		// An upload form's token is a field of its streamed body: the upload
		// handler checks it before it writes the file (files.go), as reading
		// it here would mean reading the whole body.
		return c.Next()
	}
	if sent == "" {
		sent = csrfFormField(c)
	}
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(p.CSRFToken)) != 1 {
		return errCSRF
	}
	return c.Next()
}

// csrfFormField is the _csrf field of a form body. Never the query string
// (c.FormValue would look there first): a token in a URL leaks through logs,
// Referer headers and browser history.
func csrfFormField(c *fiber.Ctx) string {
	ct := string(c.Request().Header.ContentType())
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		return string(c.Request().PostArgs().Peek("_csrf"))
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		if f, err := c.MultipartForm(); err == nil && len(f.Value["_csrf"]) > 0 {
			return f.Value["_csrf"][0]
		}
	}
	return ""
}

// sameOrigin checks Origin (or, failing that, Referer) against the public URL.
// Requests with neither come from non-browser clients, which cookies do not
// reach by accident.
func (s *server) sameOrigin(c *fiber.Ctx) bool {
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		return o == s.Config.Origin()
	}
	if r := c.Get(fiber.HeaderReferer); r != "" {
		u, err := url.Parse(r)
		return err == nil && u.Scheme+"://"+u.Host == s.Config.Origin()
	}
	return true
}

// language: the language the signed-in person chose (on /konto or with the
// switch, kept with the account so it follows them to every device), else the
// lang cookie set by the language switch, else the configured default
// (Polish). Accept-Language is deliberately ignored: the programme's UI is
// Polish even on browsers set to English, and the switch is on every page.
func (s *server) language(c *fiber.Ctx) string {
	if p := principal(c); p != nil && p.User.Lang != nil {
		return *p.User.Lang
	}
	if l := c.Cookies("lang"); l == "pl" || l == "en" {
		return l
	}
	return s.Config.DefaultLang
}
