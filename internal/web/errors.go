package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/logging"
	"github.com/gwd-jst/forumjst/internal/notes"
)

// apiError is the body of every JSON error (SPEC §4).
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
	Current any               `json:"current,omitempty"`
}

// classify maps any error to a status and a stable code, in one place.
func classify(err error) (status int, code string) {
	var fe *fiber.Error
	var ve *apperr.Validation
	var ce *apperr.Conflict
	var re *apperr.RateLimited
	var be *badRequest
	var de *apperr.Denied
	var ue *apperr.Unprocessable
	var tl *notes.TooLarge
	switch {
	case errors.As(err, &tl):
		return fiber.StatusRequestEntityTooLarge, "too_large"
	case errors.As(err, &ve):
		return fiber.StatusBadRequest, "validation"
	case errors.As(err, &be):
		return fiber.StatusBadRequest, "bad_request"
	case errors.As(err, &ce):
		return fiber.StatusConflict, ce.Code
	case errors.As(err, &re):
		return fiber.StatusTooManyRequests, "rate_limited"
	case errors.As(err, &ue):
		return fiber.StatusUnprocessableEntity, ue.Code
	case errors.Is(err, apperr.ErrNotFound):
		return fiber.StatusNotFound, "not_found"
	case errors.Is(err, apperr.ErrUnauthenticated):
		return fiber.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, apperr.ErrInvalidCredentials):
		return fiber.StatusUnauthorized, "invalid_credentials"
	case errors.Is(err, apperr.ErrTwoFactorRequired):
		return fiber.StatusUnauthorized, "two_factor_required"
	case errors.Is(err, apperr.ErrTwoFactorInvalid):
		return fiber.StatusUnauthorized, "two_factor_invalid"
	case errors.Is(err, apperr.ErrTwoFactorSetupRequired):
		return fiber.StatusForbidden, "two_factor_setup_required"
	case errors.Is(err, apperr.ErrAccountDisabled):
		return fiber.StatusForbidden, "account_disabled"
	case errors.As(err, &de):
		return fiber.StatusForbidden, de.Code
	case errors.Is(err, apperr.ErrForbidden):
		return fiber.StatusForbidden, "forbidden"
	case errors.Is(err, errCSRF):
		return fiber.StatusForbidden, "csrf"
	case errors.Is(err, errCrossOrigin):
		return fiber.StatusForbidden, "cross_origin"
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound:
			return fe.Code, "not_found"
		case fiber.StatusRequestEntityTooLarge:
			return fe.Code, "too_large"
		case fiber.StatusMethodNotAllowed:
			return fe.Code, "method_not_allowed"
		case fiber.StatusUnsupportedMediaType:
			return fe.Code, "unsupported_media_type"
		}
		if fe.Code < 500 {
			return fe.Code, "bad_request"
		}
	}
	return fiber.StatusInternalServerError, "internal"
}

// handleError is Fiber's ErrorHandler: JSON for the API, a page for people.
// Server errors are logged with the request id and never shown.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	// A merged thread's old address leads to the thread it was merged into.
	var merged *forum.Merged
	if errors.As(err, &merged) {
		if s.routeOf(c).isAPI() {
			return c.Redirect(fmt.Sprintf("/api/v1/threads/%d", merged.Into), fiber.StatusMovedPermanently)
		}
		return c.Redirect(fmt.Sprintf("/t/%d", merged.Into), fiber.StatusMovedPermanently)
	}
	// An upload over the limit says the limit in words, on the file field.
	var tl *notes.TooLarge
	if errors.As(err, &tl) && s.routeOf(c).isAPI() {
		msg := s.tooLargeMessage(c, tl.Limit)
		return c.Status(fiber.StatusRequestEntityTooLarge).JSON(fiber.Map{"error": apiError{Code: "too_large", Message: msg,
			Details: map[string]string{"file": msg}}})
	}
	status, code := classify(err)
	if c.Locals(localRequestID) == nil {
		// fasthttp refused the request before any middleware ran (a body over
		// the limit, a malformed request): it still gets the headers and the
		// request id that every response carries, and a log line.
		s.setSecurityHeaders(c)
		rid := uuid.NewString()
		c.Locals(localRequestID, rid)
		c.Set(fiber.HeaderXRequestID, rid)
		c.SetUserContext(logging.WithRequestID(context.Background(), rid))
		s.Log.WarnContext(c.UserContext(), "request refused", "method", c.Method(), "path", c.Path(), "status", status, "err", err.Error())
	}
	tr := s.tr(c)
	body := apiError{Code: code, Message: tr.T("error." + code)}
	if body.Message == "error."+code {
		body.Message = err.Error()
	}
	// Malformed input says what was wrong with it (which member, which byte).
	var br *badRequest
	if errors.As(err, &br) {
		body.Message = strings.TrimSuffix(body.Message, ".") + ": " + br.msg
	}
	var ve *apperr.Validation
	if errors.As(err, &ve) {
		body.Details = make(map[string]string, len(ve.Fields))
		for f, key := range ve.Fields {
			body.Details[f] = tr.T(key)
		}
	}
	var ce *apperr.Conflict
	if errors.As(err, &ce) {
		body.Message, body.Current = ce.Message, ce.Current
	}
	var re *apperr.RateLimited
	if errors.As(err, &re) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(re.RetryAfter.Seconds()+0.999)))
	}
	if status >= 500 {
		s.Log.ErrorContext(c.UserContext(), "request failed", "err", err, "path", c.Path())
	}

	if s.wantsJSON(c) {
		return c.Status(status).JSON(fiber.Map{"error": body})
	}
	if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
		return c.Redirect("/login?next=" + urlQueryEscape(c.OriginalURL()))
	}
	c.Status(status)
	return s.render(c, "error", pageOpts{Title: tr.T("error.title." + strconv.Itoa(status))}, errorPage{Status: status, Code: code, Message: body.Message})
}

type errorPage struct {
	Status  int
	Code    string
	Message string
}

// wantsJSON: the API's routes always speak JSON; pages do when the client
// asks for it.
func (s *server) wantsJSON(c *fiber.Ctx) bool {
	if s.routeOf(c).isAPI() {
		return true
	}
	accept := c.Get(fiber.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}
