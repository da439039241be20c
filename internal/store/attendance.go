package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Attendance answers (będę / może / nie będę).
const (
	AnswerYes   = "yes"
	AnswerMaybe = "maybe"
	AnswerNo    = "no"
)

// SetAnswer records a person's answer to "will you come?".
func SetAnswer(ctx context.Context, q Q, meetingID, userID int64, answer string) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO attendance (meeting_id, user_id, answer, answered_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (meeting_id, user_id) DO UPDATE SET answer = EXCLUDED.answer, answered_at = EXCLUDED.answered_at`,
		meetingID, userID, answer)
	if err != nil {
		return fmt.Errorf("set attendance answer of user %d for meeting %d: %w", userID, meetingID, err)
	}
	return nil
}

// GetAnswer is a person's answer, or "" when they have not answered.
func GetAnswer(ctx context.Context, q Q, meetingID, userID int64) (string, error) {
	var a sql.NullString
	err := sqlx.GetContext(ctx, q, &a, `SELECT answer FROM attendance WHERE meeting_id = $1 AND user_id = $2`, meetingID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load attendance answer of user %d for meeting %d: %w", userID, meetingID, err)
	}
	return a.String, nil
}

// WatchMeeting makes a person follow a meeting (idempotent).
func WatchMeeting(ctx context.Context, q Q, meetingID, userID int64) error {
	if _, err := q.ExecContext(ctx, `
		INSERT INTO meeting_watchers (meeting_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, meetingID, userID); err != nil {
		return fmt.Errorf("watch meeting %d: %w", meetingID, err)
	}
	return nil
}

// UnwatchMeeting stops a person following a meeting (idempotent).
func UnwatchMeeting(ctx context.Context, q Q, meetingID, userID int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM meeting_watchers WHERE meeting_id = $1 AND user_id = $2`, meetingID, userID); err != nil {
		return fmt.Errorf("unwatch meeting %d: %w", meetingID, err)
	}
	return nil
}

func IsWatching(ctx context.Context, q Q, meetingID, userID int64) (bool, error) {
	var ok bool
	err := one(ctx, q, &ok, fmt.Sprintf("watching meeting %d", meetingID),
		`SELECT EXISTS (SELECT 1 FROM meeting_watchers WHERE meeting_id = $1 AND user_id = $2)`, meetingID, userID)
	return ok, err
}

// AttendanceRow is one person on a meeting's attendance list.
type AttendanceRow struct {
	UserID    int64          `db:"user_id"`
	Name      string         `db:"display_name"`
	JSTName   *string        `db:"jst_name"`
	GroupRole sql.NullString `db:"group_role"`
	Answer    sql.NullString `db:"answer"`
	Attended  sql.NullBool   `db:"attended"`
}

// AttendanceList is everyone expected at a meeting: the group's moderators and
// members (not observers, who only read), plus anyone else who answered or was
// recorded as present (in a common group that is anyone). Disabled accounts
// appear only if they answered.
func AttendanceList(ctx context.Context, q Q, meetingID, groupID int64) ([]AttendanceRow, error) {
	out := []AttendanceRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("attendance of meeting %d", meetingID), `
		SELECT u.id AS user_id, u.display_name, j.name AS jst_name, ms.role AS group_role, a.answer, a.attended
		FROM users u
		LEFT JOIN jst j ON j.id = u.jst_id
		LEFT JOIN attendance a ON a.user_id = u.id AND a.meeting_id = $1
		LEFT JOIN memberships ms ON ms.user_id = u.id AND ms.group_id = $2
		WHERE a.user_id IS NOT NULL OR (ms.role IN ('moderator', 'member') AND NOT u.disabled)
		ORDER BY `+personOrder("u.display_name")+`, u.id`, meetingID, groupID)
	return out, err
}

// SetAttended records, for each of the listed people, whether they attended.
func SetAttended(ctx context.Context, q Q, meetingID int64, everyone, attended []int64, by int64) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO attendance (meeting_id, user_id, attended, confirmed_by, confirmed_at)
		SELECT $1, u, u = ANY($3), $4, now() FROM unnest($2::bigint[]) AS u
		ON CONFLICT (meeting_id, user_id) DO UPDATE
		SET attended = EXCLUDED.attended, confirmed_by = EXCLUDED.confirmed_by, confirmed_at = EXCLUDED.confirmed_at`,
		meetingID, pq.Array(everyone), pq.Array(attended), by)
	if err != nil {
		return fmt.Errorf("confirm attendance of meeting %d: %w", meetingID, err)
	}
	return nil
}
