package store

import (
	"context"
	"fmt"
	"time"
)

// TwoFactor is a user's enabled TOTP factor.
type TwoFactor struct {
	UserID    int64     `db:"user_id"`
	Secret    string    `db:"secret"`
	LastStep  int64     `db:"last_step"`
	EnabledAt time.Time `db:"enabled_at"`
}

// GetTwoFactor loads a user's enabled factor; ErrNotFound when they have none.
func GetTwoFactor(ctx context.Context, q Q, userID int64) (TwoFactor, error) {
	var tf TwoFactor
	err := one(ctx, q, &tf, fmt.Sprintf("load two-factor of user %d", userID),
		`SELECT user_id, secret, last_step, enabled_at FROM two_factor WHERE user_id = $1`, userID)
	return tf, err
}

// EnableTwoFactor stores a confirmed secret with the step of the code that
// confirmed it (so that code cannot log in again).
func EnableTwoFactor(ctx context.Context, q Q, userID int64, secret string, step int64) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO two_factor (user_id, secret, last_step) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, last_step = EXCLUDED.last_step, enabled_at = now()`,
		userID, secret, step)
	if err != nil {
		return fmt.Errorf("enable two-factor of user %d: %w", userID, err)
	}
	return nil
}

// UseTOTPStep records that a code of this time step was accepted. It is one
// conditional UPDATE so that two requests racing with the same code cannot
// both win: false means the step (or a later one) was already used.
func UseTOTPStep(ctx context.Context, q Q, userID, step int64) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE two_factor SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, userID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteTwoFactor removes the factor, its recovery codes and any set-up in
// progress; it says whether a factor was enabled.
func DeleteTwoFactor(ctx context.Context, q Q, userID int64) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM two_factor WHERE user_id = $1`, userID)
	if err != nil {
		return false, fmt.Errorf("delete two-factor of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, `DELETE FROM two_factor_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return false, fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM two_factor_setups WHERE user_id = $1`, userID); err != nil {
		return false, fmt.Errorf("delete two-factor set-up of user %d: %w", userID, err)
	}
	return n == 1, nil
}

// --- set-up in progress ---------------------------------------------------------

// TwoFactorSetup is a secret shown to its user and not yet confirmed.
type TwoFactorSetup struct {
	UserID    int64     `db:"user_id"`
	ID        string    `db:"id"`
	Secret    string    `db:"secret"`
	ExpiresAt time.Time `db:"expires_at"`
}

// PutTwoFactorSetup starts (or restarts) a user's set-up.
func PutTwoFactorSetup(ctx context.Context, q Q, s TwoFactorSetup) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO two_factor_setups (user_id, id, secret, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET id = EXCLUDED.id, secret = EXCLUDED.secret, expires_at = EXCLUDED.expires_at`,
		s.UserID, s.ID, s.Secret, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("start two-factor set-up of user %d: %w", s.UserID, err)
	}
	return nil
}

// GetTwoFactorSetup loads the user's unexpired set-up; ErrNotFound otherwise.
func GetTwoFactorSetup(ctx context.Context, q Q, userID int64) (TwoFactorSetup, error) {
	var s TwoFactorSetup
	err := one(ctx, q, &s, fmt.Sprintf("load two-factor set-up of user %d", userID), `
		SELECT user_id, id, secret, expires_at FROM two_factor_setups
		WHERE user_id = $1 AND expires_at > now()`, userID)
	return s, err
}

func DeleteTwoFactorSetup(ctx context.Context, q Q, userID int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM two_factor_setups WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete two-factor set-up of user %d: %w", userID, err)
	}
	return nil
}

// --- recovery codes -------------------------------------------------------------

// ReplaceRecoveryCodes drops a user's codes, used or not, and stores new ones.
func ReplaceRecoveryCodes(ctx context.Context, q Q, userID int64, hashes [][]byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM two_factor_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	for _, h := range hashes {
		if _, err := q.ExecContext(ctx, `INSERT INTO two_factor_recovery_codes (user_id, code_hash) VALUES ($1, $2)`, userID, h); err != nil {
			return fmt.Errorf("insert recovery code of user %d: %w", userID, err)
		}
	}
	return nil
}

// UseRecoveryCode spends an unused code in one conditional UPDATE (two racing
// requests cannot both spend it); false when there is no such unused code.
func UseRecoveryCode(ctx context.Context, q Q, userID int64, hash []byte) (bool, error) {
	res, err := q.ExecContext(ctx, `
		UPDATE two_factor_recovery_codes SET used_at = now()
		WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, userID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CountRecoveryCodes says how many unused codes a user has left.
func CountRecoveryCodes(ctx context.Context, q Q, userID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count recovery codes",
		`SELECT count(*) FROM two_factor_recovery_codes WHERE user_id = $1 AND used_at IS NULL`, userID)
	return n, err
}

// --- the second step of a login -------------------------------------------------

func CreateLoginChallenge(ctx context.Context, q Q, tokenHash []byte, userID int64, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO login_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash, userID, expires)
	if err != nil {
		return fmt.Errorf("create login challenge: %w", err)
	}
	return nil
}

// LoginChallengeUser is the user of a live challenge with attempts left;
// ErrNotFound otherwise.
func LoginChallengeUser(ctx context.Context, q Q, tokenHash []byte, maxAttempts int) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "load login challenge", `
		SELECT user_id FROM login_challenges
		WHERE token_hash = $1 AND expires_at > now() AND attempts < $2`, tokenHash, maxAttempts)
	return id, err
}

// CountLoginChallengeAttempt counts an attempt before the code is checked, in
// one statement, so parallel attempts cannot exceed the limit; ErrNotFound when
// the challenge is gone, expired or out of attempts.
func CountLoginChallengeAttempt(ctx context.Context, q Q, tokenHash []byte, maxAttempts int) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "count login challenge attempt", `
		UPDATE login_challenges SET attempts = attempts + 1
		WHERE token_hash = $1 AND expires_at > now() AND attempts < $2
		RETURNING user_id`, tokenHash, maxAttempts)
	return id, err
}

func DeleteLoginChallenge(ctx context.Context, q Q, tokenHash []byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_challenges WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete login challenge: %w", err)
	}
	return nil
}

// DeleteExpiredTwoFactorState is housekeeping: old challenges and abandoned set-ups.
func DeleteExpiredTwoFactorState(ctx context.Context, q Q) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM login_challenges WHERE expires_at <= now()`); err != nil {
		return fmt.Errorf("delete expired login challenges: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM two_factor_setups WHERE expires_at <= now()`); err != nil {
		return fmt.Errorf("delete expired two-factor set-ups: %w", err)
	}
	return nil
}

// --- per-role enforcement -------------------------------------------------------

// TwoFactorPolicy is one role's "must enable by" day.
type TwoFactorPolicy struct {
	Role     string    `db:"role"`
	EnableBy time.Time `db:"enable_by"`
	// Deadline is the first moment (the start of the next Warsaw day) at which
	// a holder of the role without two-factor login is held at the set-up page.
	Deadline time.Time `db:"deadline"`
	// Missing counts the role's holders (not disabled) who have not enabled it.
	Missing int `db:"missing"`
}

// twoFactorDeadline turns a policy row's day into the moment enforcement starts.
const twoFactorDeadline = `((p.enable_by + 1)::timestamp AT TIME ZONE 'Europe/Warsaw')`

// ListTwoFactorPolicy lists the roles that have a date, with how many of their
// holders still lack two-factor login.
func ListTwoFactorPolicy(ctx context.Context, q Q) ([]TwoFactorPolicy, error) {
	out := []TwoFactorPolicy{}
	err := selectAll(ctx, q, &out, "list two-factor policy", `
		SELECT p.role, p.enable_by, `+twoFactorDeadline+` AS deadline,
		       (SELECT count(*) FROM users u
		        WHERE NOT u.disabled
		          AND NOT EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id)
		          AND (u.role = p.role OR (p.role = 'moderator' AND EXISTS (
		               SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'moderator')))) AS missing
		FROM two_factor_policy p ORDER BY p.role`)
	return out, err
}

// SetTwoFactorPolicy sets (enableBy non-nil) or clears a role's date and
// returns the previous one (nil when there was none).
func SetTwoFactorPolicy(ctx context.Context, q Q, role string, enableBy *time.Time, actorID int64) (*time.Time, error) {
	var before []time.Time
	if err := selectAll(ctx, q, &before, "load two-factor policy",
		`SELECT enable_by FROM two_factor_policy WHERE role = $1 FOR UPDATE`, role); err != nil {
		return nil, err
	}
	var prev *time.Time
	if len(before) == 1 {
		prev = &before[0]
	}
	var err error
	if enableBy == nil {
		_, err = q.ExecContext(ctx, `DELETE FROM two_factor_policy WHERE role = $1`, role)
	} else {
		_, err = q.ExecContext(ctx, `
			INSERT INTO two_factor_policy (role, enable_by, set_by) VALUES ($1, $2, $3)
			ON CONFLICT (role) DO UPDATE SET enable_by = EXCLUDED.enable_by, set_by = EXCLUDED.set_by, set_at = now()`,
			role, enableBy.Format(time.DateOnly), nullID(actorID))
	}
	if err != nil {
		return nil, fmt.Errorf("set two-factor policy for %s: %w", role, err)
	}
	return prev, nil
}

// TwoFactorState is what every request needs to know about a user's second
// factor; GetSessionUser loads it in the same query as the session.
type TwoFactorState struct {
	Enabled bool `db:"tf_enabled"`
	// Deadline is the earliest enforcement moment of the user's roles, if any.
	Deadline *time.Time `db:"tf_deadline"`
}

// twoFactorStateColumns reads a TwoFactorState for the user aliased u.
const twoFactorStateColumns = `
		EXISTS (SELECT 1 FROM two_factor t WHERE t.user_id = u.id) AS tf_enabled,
		(SELECT min(` + twoFactorDeadline + `) FROM two_factor_policy p
		 WHERE p.role = u.role
		    OR (p.role = 'moderator' AND EXISTS (
		        SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'moderator'))) AS tf_deadline`

// GetTwoFactorState loads the state of one user (for a login, before any session exists).
func GetTwoFactorState(ctx context.Context, q Q, userID int64) (TwoFactorState, error) {
	var st TwoFactorState
	err := one(ctx, q, &st, fmt.Sprintf("load two-factor state of user %d", userID),
		`SELECT `+twoFactorStateColumns+` FROM users u WHERE u.id = $1`, userID)
	return st, err
}
