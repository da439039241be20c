package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Password reset limits: a reset link lives an hour; an e-mail address gets
// at most ResetPerEmail mails an hour (more requests are answered the same
// and mail nothing), and one client address gets mails for ResetPerIP
// requests an hour (then the same answer and no mail, whether or not the
// e-mail has an account: SPEC §4 answers this request 202 always; a whole
// municipal office may sit behind one address, so this is generous).
const (
	ResetTTL      = time.Hour
	resetWindow   = time.Hour
	ResetPerEmail = 3
	ResetPerIP    = 30
)

// Mailer is the mail queue as accounts uses it (mail.Service).
type Mailer interface {
	Enqueue(ctx context.Context, tx *store.Tx, m mail.Message) (int64, error)
	URL(path string) string
}

// RequestPasswordReset mails a single-use link to set a new password to the
// account with this e-mail, if there is one and it is not disabled. The
// answer is the same whether or not there is (nil), apart from the per
// address limit, which does not depend on the e-mail. lang is the language
// of the page the request came from: the person asking reads it.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip, lang string) error {
	email = strings.TrimSpace(email)
	v := &apperr.Validation{}
	checkEmail(v, email)
	if err := v.Err(); err != nil {
		return err
	}
	if s.mailer == nil {
		return errors.New("password reset: no mailer configured")
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// A request is followed by nobody live; the mail, when there is one,
		// wakes the worker (Enqueue records it on the unit of work).
		tx.Quiet()
		byEmail, byIP, err := store.RecordPasswordResetRequest(ctx, tx, email, ip, resetWindow)
		if err != nil {
			return err
		}
		if byIP > ResetPerIP {
			// SPEC §4: the request is always answered 202, so a flood from one
			// address is throttled silently too — it mails nothing more.
			s.log.WarnContext(ctx, "password reset throttled", "reason", "address")
			return nil
		}
		if byEmail > ResetPerEmail {
			// Same answer as a mailed link: the limit must not tell anyone
			// that the address has an account.
			s.log.WarnContext(ctx, "password reset throttled", "reason", "account")
			return nil
		}
		u, err := store.GetUserByEmail(ctx, tx, email)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return nil
		}
		token := randomToken()
		if err := store.CreatePasswordReset(ctx, tx, hashToken(token), u.ID, s.now().Add(ResetTTL)); err != nil {
			return err
		}
		if _, err := s.mailer.Enqueue(ctx, tx, mail.PasswordReset(u.Email, u.ID, lang, u.Name,
			s.mailer.URL("/haslo/"+token), ResetTTL)); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "password reset mailed", "user_id", u.ID)
		return nil
	})
}

// CheckPasswordReset says whether a reset link can still be used (for the
// page that asks for the new password): apperr.ErrNotFound if it is unknown,
// used or expired.
func (s *Service) CheckPasswordReset(ctx context.Context, token string) error {
	if token == "" || len(token) > 200 {
		return apperr.ErrNotFound
	}
	_, err := store.PasswordResetUser(ctx, s.db, hashToken(token), false)
	return err
}

// ResetPassword sets a new password through a reset link. The link and every
// other open link of the account are used up, and every session of the
// account ends (its live connections too): whoever knew the old password is
// out. A throttled login is unlocked, as the owner has just proven they read
// the account's mail.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if err := s.policy.check("password", password); err != nil {
		return err
	}
	if token == "" || len(token) > 200 {
		return apperr.ErrNotFound
	}
	hash, err := HashPassword(password, s.set.Argon2)
	if err != nil {
		return err
	}
	var userID int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if userID, err = store.PasswordResetUser(ctx, tx, hashToken(token), true); err != nil {
			return err
		}
		u, err := store.GetUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := store.UpdateUser(ctx, tx, userID, store.UserUpdate{PasswordHash: &hash}); err != nil {
			return err
		}
		if err := store.UsePasswordResets(ctx, tx, userID); err != nil {
			return err
		}
		n, err := store.DeleteUserSessions(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := store.ClearLoginFailures(ctx, tx, strings.ToLower(strings.TrimSpace(u.Email))); err != nil {
			return err
		}
		tx.Revoke(userID, true) // whoever knew the old password is out, live too
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: userID, Action: "user.password_reset",
			TargetType: "user", TargetID: userID, Details: map[string]any{"sessions_ended": n}})
	})
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	s.log.InfoContext(ctx, "password reset", "user_id", userID)
	return nil
}
