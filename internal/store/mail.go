package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
)

const mailColumns = `id, to_addr, user_id, kind, lang, subject, body_text, body_html, unsubscribe_url, message_id,
	status, attempts, next_attempt_at, last_error, created_at, sent_at, content`

// NewMail is a composed mail ready for the queue.
type NewMail struct {
	To             string
	UserID         *int64
	Kind           string
	Lang           string
	Subject        string
	Text           string
	HTML           string
	UnsubscribeURL string
	// DedupeKey, when set, makes a second mail with the same key a no-op.
	DedupeKey string
	MessageID string
	// Status is model.MailQueued, or model.MailKept without an SMTP server.
	Status string
	// OptOutKind, when set, skips the mail if the user chose 'never' for
	// this kind (mail_prefs; unsubscribing is that choice).
	OptOutKind string
	// Content, when set, is what the mail says (JSON) and Text and HTML are
	// empty: the bodies are rendered from it when the mail is sent or shown.
	Content string
}

// EnqueueMail stores a mail in the queue; it takes a Q so that the mail is
// written in the transaction of the change that causes it (rolled back with
// it, committed with it). It returns 0 when nothing was stored: the
// recipient unsubscribed from this kind, or the dedupe key was used before.
// The opt-out is checked in the same statement, so an unsubscribe that
// committed first always wins.
func EnqueueMail(ctx context.Context, q Q, m NewMail) (int64, error) {
	var dedupe *string
	if m.DedupeKey != "" {
		dedupe = &m.DedupeKey
	}
	var content *string
	if m.Content != "" {
		content = &m.Content
	}
	var ids []int64
	err := selectAll(ctx, q, &ids, "enqueue mail", `
		INSERT INTO mails (to_addr, user_id, kind, lang, subject, body_text, body_html, unsubscribe_url,
		                   dedupe_key, message_id, status, content)
		SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13
		WHERE $12 = '' OR $2::bigint IS NULL
		   OR NOT EXISTS (SELECT 1 FROM mail_prefs o WHERE o.user_id = $2 AND o.kind = $12 AND o.mode = 'never')
		ON CONFLICT (dedupe_key) DO NOTHING
		RETURNING id`,
		m.To, m.UserID, m.Kind, m.Lang, m.Subject, m.Text, m.HTML, m.UnsubscribeURL, dedupe, m.MessageID, m.Status,
		m.OptOutKind, content)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// ClaimMail takes the oldest due queued mail for one attempt: it counts the
// attempt and moves next_attempt_at a lease ahead in the same statement, so
// no other worker (on any instance) sees the row while it is being sent, and
// a worker that dies mid-send leaves a row that is due again after the lease.
// SKIP LOCKED lets concurrent workers take different rows instead of queueing
// on one. ErrNotFound: nothing is due.
func ClaimMail(ctx context.Context, q Q, lease time.Duration) (model.Mail, error) {
	var m model.Mail
	err := one(ctx, q, &m, "claim mail", `
		UPDATE mails SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $1)
		WHERE id = (SELECT id FROM mails WHERE status = 'queued' AND next_attempt_at <= now()
		            ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+mailColumns, lease.Seconds())
	return m, err
}

// MarkMailSent records delivery. The attempts guard makes it a no-op for a
// worker whose lease ran out and whose row another worker claimed since.
func MarkMailSent(ctx context.Context, q Q, id int64, attempts int) error {
	_, err := q.ExecContext(ctx, `
		UPDATE mails SET status = 'sent', sent_at = now(), last_error = ''
		WHERE id = $1 AND attempts = $2 AND status = 'queued'`, id, attempts)
	if err != nil {
		return fmt.Errorf("mark mail %d sent: %w", id, err)
	}
	return nil
}

// RetryMail records a failed attempt: the mail is due again at next, or, when
// giveUp, failed for good.
func RetryMail(ctx context.Context, q Q, id int64, attempts int, lastErr string, next time.Time, giveUp bool) error {
	status := model.MailQueued
	if giveUp {
		status = model.MailFailed
	}
	_, err := q.ExecContext(ctx, `
		UPDATE mails SET status = $3, next_attempt_at = $4, last_error = $5
		WHERE id = $1 AND attempts = $2 AND status = 'queued'`, id, attempts, status, next, lastErr)
	if err != nil {
		return fmt.Errorf("retry mail %d: %w", id, err)
	}
	return nil
}

// ReleaseMail hands back a claimed mail whose attempt was interrupted by a
// shutdown before the server accepted it: due at once, the attempt not counted.
func ReleaseMail(ctx context.Context, q Q, id int64, attempts int) error {
	_, err := q.ExecContext(ctx, `
		UPDATE mails SET attempts = attempts - 1, next_attempt_at = now()
		WHERE id = $1 AND attempts = $2 AND status = 'queued'`, id, attempts)
	if err != nil {
		return fmt.Errorf("release mail %d: %w", id, err)
	}
	return nil
}

// NextMailDue is when the earliest queued mail is due (nil: none queued).
func NextMailDue(ctx context.Context, q Q) (*time.Time, error) {
	var t *time.Time
	err := one(ctx, q, &t, "next mail due", `SELECT min(next_attempt_at) FROM mails WHERE status = 'queued'`)
	return t, err
}

func ListMails(ctx context.Context, q Q, p Page) ([]model.Mail, error) {
	out := []model.Mail{}
	err := selectAll(ctx, q, &out, "list mails", `
		SELECT `+mailColumns+` FROM mails ORDER BY id DESC LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
	return out, err
}

func GetMail(ctx context.Context, q Q, id int64) (model.Mail, error) {
	var m model.Mail
	err := one(ctx, q, &m, fmt.Sprintf("load mail %d", id), `SELECT `+mailColumns+` FROM mails WHERE id = $1`, id)
	return m, err
}

// MailSecret returns the key that signs unsubscribe links, creating it on
// first use; concurrent first instances agree on one (ON CONFLICT, then read).
func MailSecret(ctx context.Context, q Q) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("mail secret: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO mail_secret (secret) VALUES ($1) ON CONFLICT DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("store mail secret: %w", err)
	}
	var secret []byte
	if err := one(ctx, q, &secret, "load mail secret", `SELECT secret FROM mail_secret`); err != nil {
		return nil, err
	}
	if len(secret) < 32 {
		return nil, errors.New("mail secret: stored key is too short")
	}
	return secret, nil
}

// CreatePasswordReset stores a reset link's token hash.
func CreatePasswordReset(ctx context.Context, q Q, tokenHash []byte, userID int64, expires time.Time) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, userID, expires)
	if err != nil {
		return fmt.Errorf("insert password reset: %w", err)
	}
	return nil
}

// PasswordResetUser is the user of an unused, unexpired reset link; lock
// takes the link's row lock so that two uses of one link cannot both succeed.
func PasswordResetUser(ctx context.Context, q Q, tokenHash []byte, lock bool) (int64, error) {
	query := `SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`
	if lock {
		query += ` FOR UPDATE`
	}
	var userID int64
	err := one(ctx, q, &userID, "load password reset", query, tokenHash)
	return userID, err
}

// UsePasswordResets marks every open reset link of a user used: the one just
// followed and any older ones, which a new password makes pointless.
func UsePasswordResets(ctx context.Context, q Q, userID int64) error {
	_, err := q.ExecContext(ctx, `UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("use password resets: %w", err)
	}
	return nil
}

// RecordPasswordResetRequest logs a request (known address or not) and
// returns the requests in window from this address and for this e-mail,
// this one included.
func RecordPasswordResetRequest(ctx context.Context, q Q, email, ip string, window time.Duration) (byEmail, byIP int, err error) {
	if _, err := q.ExecContext(ctx, `INSERT INTO password_reset_requests (email, ip) VALUES ($1, $2)`, email, ip); err != nil {
		return 0, 0, fmt.Errorf("record password reset request: %w", err)
	}
	var row struct {
		ByEmail int `db:"by_email"`
		ByIP    int `db:"by_ip"`
	}
	err = one(ctx, q, &row, "count password reset requests", `
		SELECT (SELECT count(*) FROM password_reset_requests
		        WHERE lower(email) = lower($1) AND requested_at > now() - make_interval(secs => $3)) AS by_email,
		       (SELECT count(*) FROM password_reset_requests
		        WHERE ip = $2 AND requested_at > now() - make_interval(secs => $3)) AS by_ip`,
		email, ip, window.Seconds())
	return row.ByEmail, row.ByIP, err
}

// DeleteOldPasswordResets forgets reset links and requests older than a day.
func DeleteOldPasswordResets(ctx context.Context, q Q) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM password_resets WHERE expires_at < now() - interval '1 day'`); err != nil {
		return fmt.Errorf("delete old password resets: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM password_reset_requests WHERE requested_at < now() - interval '1 day'`); err != nil {
		return fmt.Errorf("delete old password reset requests: %w", err)
	}
	return nil
}

// DeleteOldMails removes mails that are no longer queued and older than age.
func DeleteOldMails(ctx context.Context, q Q, age time.Duration) error {
	_, err := q.ExecContext(ctx, `
		DELETE FROM mails WHERE status <> 'queued' AND created_at < now() - make_interval(secs => $1)`, age.Seconds())
	if err != nil {
		return fmt.Errorf("delete old mails: %w", err)
	}
	return nil
}
