package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

func CreateSession(ctx context.Context, q Q, s model.Session, ip, userAgent string) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		s.TokenHash, s.UserID, s.CSRFToken, s.ExpiresAt, ip, userAgent)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionUser is everything a request needs about who is asking, loaded in one
// query: the session, the user and their memberships.
type SessionUser struct {
	model.Session
	User        model.User
	Memberships []model.Membership
	// UnreadNotifications feeds the header's badge without another query.
	UnreadNotifications int
	// TwoFactor says whether the user has a second factor and by when their
	// roles require one.
	TwoFactor TwoFactorState
}

// sessionUserRow names the session's columns apart from the user's (both tables
// have created_at).
type sessionUserRow struct {
	model.User
	TokenHash        []byte    `db:"s_token_hash"`
	CSRFToken        string    `db:"s_csrf_token"`
	SessionCreatedAt time.Time `db:"s_created_at"`
	LastSeenAt       time.Time `db:"s_last_seen_at"`
	ExpiresAt        time.Time `db:"s_expires_at"`
	Rotate           bool      `db:"s_rotate"`
	MembershipsJSON  []byte    `db:"memberships"`
	Unread           int       `db:"unread_notifications"`
	TwoFactorState
}

// sessionUserQuery is the session look-up; withUnread adds the header badge's
// count of unread notifications. That count goes through the access joins
// (notificationAccessJoins) and grows with the reader's unread notifications
// (141 buffers for an account with many), so only a request that can render a
// page asks for it: the API, the websocket upgrade and its re-checks do not.
// match is `$1` for one token or `ANY($1)` for a batch of them.
func sessionUserQuery(withUnread bool, match string) string {
	unread := `0`
	if withUnread {
		unread = `(SELECT count(*) FROM notifications n ` + notificationAccessJoins + `
		        WHERE n.user_id = u.id AND n.read_at IS NULL AND ` + notificationAccessCond + `)`
	}
	return `
		SELECT s.token_hash AS s_token_hash, s.csrf_token AS s_csrf_token, s.created_at AS s_created_at,
		       s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, s.rotate AS s_rotate,
		       ` + userColumns + `,
		       COALESCE((SELECT json_agg(json_build_object(
		                    'group_id', m.group_id, 'group_name', g.name, 'group_kind', g.kind, 'role', m.role)
		                    ORDER BY g.name)
		                 FROM memberships m JOIN groups g ON g.id = m.group_id
		                 WHERE m.user_id = u.id), '[]') AS memberships,
		       ` + unread + ` AS unread_notifications,
		       ` + twoFactorStateColumns + `
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		LEFT JOIN jst j ON j.id = u.jst_id
		WHERE s.token_hash = ` + match + `
		  AND s.expires_at > now()
		  AND s.last_seen_at > now() - make_interval(secs => $2)
		  AND NOT u.disabled`
}

// The variants, built once: a prepared statement is keyed by its text.
//
// The batch's array goes through a sub-select so that the planner never sees
// its length: with `ANY($1)` each custom plan (a bound array of 1–3 tokens)
// was estimated far cheaper than the generic plan (10 tokens assumed), so
// PostgreSQL planned the prepared statement again on every execution —
// 1.4 ms of planning for 0.5 ms of execution under the posting load
// (pg_stat_statements: plans = calls). Through an InitPlan both estimates
// are alike and the generic plan is kept after the fifth execution
// (TestSessionBatchKeepsGenericPlan).
var (
	sessionUserWithUnread = sessionUserQuery(true, `$1`)
	sessionUserOnly       = sessionUserQuery(false, `$1`)
	sessionUsersOnly      = sessionUserQuery(false, `ANY((SELECT $1::bytea[])::bytea[])`)
)

// GetSessionUser loads a live session with its user and memberships. Expired
// sessions, idle ones, and those of disabled users are not found. withUnread
// also counts the unread notifications (SessionUser.UnreadNotifications, 0
// otherwise): only a page's header shows that count.
func GetSessionUser(ctx context.Context, q Q, tokenHash []byte, idle time.Duration, withUnread bool) (SessionUser, error) {
	query := sessionUserOnly
	if withUnread {
		query = sessionUserWithUnread
	}
	var row sessionUserRow
	err := one(ctx, q, &row, "load session", query, tokenHash, idle.Seconds())
	if err != nil {
		return SessionUser{}, err
	}
	return row.sessionUser()
}

// GetSessionUsers is GetSessionUser (without the unread count) for many
// tokens in one statement, keyed by token hash (as a string); a token whose
// session is not live is missing from the map. Concurrent look-ups are
// batched into it (accounts).
func GetSessionUsers(ctx context.Context, q Q, tokenHashes [][]byte, idle time.Duration) (map[string]SessionUser, error) {
	var rows []sessionUserRow
	if err := selectAll(ctx, q, &rows, "load sessions", sessionUsersOnly, pq.ByteaArray(tokenHashes), idle.Seconds()); err != nil {
		return nil, err
	}
	out := make(map[string]SessionUser, len(rows))
	for _, row := range rows {
		su, err := row.sessionUser()
		if err != nil {
			return nil, err
		}
		out[string(row.TokenHash)] = su
	}
	return out, nil
}

func (row sessionUserRow) sessionUser() (SessionUser, error) {
	su := SessionUser{User: row.User, Session: model.Session{TokenHash: row.TokenHash, UserID: row.User.ID,
		CSRFToken: row.CSRFToken, CreatedAt: row.SessionCreatedAt, LastSeenAt: row.LastSeenAt,
		ExpiresAt: row.ExpiresAt, Rotate: row.Rotate}, UnreadNotifications: row.Unread, TwoFactor: row.TwoFactorState}
	var ms []membershipJSON
	if err := json.Unmarshal(row.MembershipsJSON, &ms); err != nil {
		return SessionUser{}, fmt.Errorf("decode memberships: %w", err)
	}
	su.Memberships = make([]model.Membership, len(ms))
	for i, m := range ms {
		su.Memberships[i] = model.Membership{GroupID: m.GroupID, GroupName: m.GroupName, GroupKind: m.GroupKind, Role: m.Role}
	}
	return su, nil
}

// membershipJSON decodes the json_build_object above. It is unexported, so it
// can only be read here: model.Membership has no JSON tags, being a row.
type membershipJSON struct {
	GroupID   int64  `json:"group_id"`
	GroupName string `json:"group_name"`
	GroupKind string `json:"group_kind"`
	Role      string `json:"role"`
}

// TouchSession records activity; callers do it at most once a minute per session.
func TouchSession(ctx context.Context, q Q, tokenHash []byte) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1`, tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// ReplaceSessionToken swaps a session's token (after a role change) keeping its CSRF token.
func ReplaceSessionToken(ctx context.Context, q Q, oldHash, newHash []byte) error {
	return execOne(ctx, q, "rotate session", `
		UPDATE sessions SET token_hash = $2, rotate = false, last_seen_at = now()
		WHERE token_hash = $1`, oldHash, newHash)
}

func DeleteSession(ctx context.Context, q Q, tokenHash []byte) error {
	_, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionOf ends one session and says whose it was (0: there was none).
func DeleteSessionOf(ctx context.Context, q Q, tokenHash []byte) (int64, error) {
	var userID int64
	err := one(ctx, q, &userID, "delete session", `DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id`, tokenHash)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return userID, err
}

// DeleteUserSessions ends every session of a user and says how many there were.
func DeleteUserSessions(ctx context.Context, q Q, userID int64) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// MarkUserSessionsForRotation makes each of the user's sessions get a new token on its next request.
func MarkUserSessionsForRotation(ctx context.Context, q Q, userID int64) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET rotate = true WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("mark sessions of user %d for rotation: %w", userID, err)
	}
	return nil
}

func CountUserSessions(ctx context.Context, q Q, userID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count sessions",
		`SELECT count(*) FROM sessions WHERE user_id = $1 AND expires_at > now()`, userID)
	return n, err
}

// DeleteExpiredSessions is housekeeping run periodically by serve.
func DeleteExpiredSessions(ctx context.Context, q Q, idle time.Duration) (int64, error) {
	res, err := q.ExecContext(ctx, `
		DELETE FROM sessions
		WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)`, idle.Seconds())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteOtherUserSessions ends every session of a user but one (after a change
// of their authentication factors, ASVS 7.4.3).
func DeleteOtherUserSessions(ctx context.Context, q Q, userID int64, keepHash []byte) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keepHash)
	if err != nil {
		return 0, fmt.Errorf("delete other sessions of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
