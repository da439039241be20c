// Package apperr holds the errors that services return and the web layer maps to
// statuses in exactly one place. It knows nothing about HTTP.
package apperr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

var (
	// ErrNotFound is also what a user gets for anything they may not read: its
	// existence must not leak (SPEC §3).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the user can see the thing but may not do this to it.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: no valid session.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrInvalidCredentials is the single answer for unknown email and wrong password.
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrAccountDisabled is only returned once the password has been verified.
	ErrAccountDisabled = errors.New("account disabled")
)

// Validation lists per-field problems; keys are JSON field names, values are
// message keys of the i18n catalog (translated at the edge).
type Validation struct {
	Fields map[string]string
}

func (v *Validation) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+v.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a problem with field (the first one recorded wins).
func (v *Validation) Add(field, msg string) {
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	if _, ok := v.Fields[field]; !ok {
		v.Fields[field] = msg
	}
}

// Err returns nil when nothing was recorded, so callers can `return v.Err()`.
func (v *Validation) Err() error {
	if len(v.Fields) == 0 {
		return nil
	}
	return v
}

// Invalid is a shortcut for a single-field validation error.
func Invalid(field, msg string) error {
	v := &Validation{}
	v.Add(field, msg)
	return v
}

// Conflict reports a stale write or a duplicate; Current, when set, is what the
// client should see instead (the current text of an edited post, say).
type Conflict struct {
	Code    string
	Message string
	Current any
}

func (c *Conflict) Error() string { return c.Message }

// RateLimited says when to try again.
type RateLimited struct {
	RetryAfter time.Duration
}

func (r *RateLimited) Error() string {
	return fmt.Sprintf("too many attempts, retry after %s", r.RetryAfter.Round(time.Second))
}

// Denied is a refusal with a specific reason the user can act on (a locked
// thread, a muted member). It maps to 403 with Code.
type Denied struct {
	Code    string
	Message string
}

func (d *Denied) Error() string { return d.Message }

// Is lets errors.Is(err, ErrForbidden) match a Denied too.
func (d *Denied) Is(target error) bool { return target == ErrForbidden }

// Two-factor login (issue 10). Each is returned only after the password has
// been verified.
var (
	// ErrTwoFactorRequired: the account has a second factor and no code was given.
	ErrTwoFactorRequired = errors.New("two-factor code required")
	// ErrTwoFactorInvalid: the code or recovery code was wrong, expired or already used.
	ErrTwoFactorInvalid = errors.New("invalid two-factor code")
	// ErrTwoFactorSetupRequired: the user's role requires two-factor login, its
	// date has passed, and they have not set it up; only the set-up is open to them.
	ErrTwoFactorSetupRequired = errors.New("two-factor set-up required")
)

// Unprocessable is a well-formed request the thing's current state does not
// allow (a ballot outside the voting period, an entry after voting opened).
// It maps to 422 with Code; the catalog's "error.<code>" words it for people.
type Unprocessable struct {
	Code    string
	Message string
}

func (u *Unprocessable) Error() string { return u.Message }
