package store

import (
	"context"
	"fmt"
	"time"
)

// DueReminder is a meeting whose "starts soon" reminder this caller claimed.
type DueReminder struct {
	ID      int64  `db:"id"`
	GroupID int64  `db:"group_id"`
	Title   string `db:"title"`
}

// ClaimMeetingReminders marks as reminded the scheduled meetings that start
// after now and no later than until and were not reminded yet, and returns
// them. Run in the transaction that records the reminders: the claim and the
// notifications commit together, and a second instance running the same job
// skips the rows this one holds (SKIP LOCKED) and, once they commit, finds
// them reminded — so each reminder goes out once.
func ClaimMeetingReminders(ctx context.Context, q Q, now, until time.Time, limit int) ([]DueReminder, error) {
	out := []DueReminder{}
	err := selectAll(ctx, q, &out, "claim meeting reminders", `
		UPDATE meetings SET reminded_at = $1
		WHERE id IN (SELECT id FROM meetings
		             WHERE status = 'scheduled' AND reminded_at IS NULL AND starts_at > $1 AND starts_at <= $2
		             ORDER BY starts_at LIMIT $3
		             FOR UPDATE SKIP LOCKED)
		  AND reminded_at IS NULL
		RETURNING id, group_id, title`, now, until, limit)
	return out, err
}

// MeetingAudienceIDs lists who hears of a meeting's news: its group's members
// and whoever follows the meeting (answered "będę").
func MeetingAudienceIDs(ctx context.Context, q Q, meetingID, groupID int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("audience of meeting %d", meetingID), `
		SELECT user_id FROM memberships WHERE group_id = $2
		UNION
		SELECT user_id FROM meeting_watchers WHERE meeting_id = $1`, meetingID, groupID)
	return out, err
}

// MeetingAttendeeIDs lists who attended a meeting: confirmed present, or,
// until attendance is confirmed, who answered "będę".
func MeetingAttendeeIDs(ctx context.Context, q Q, meetingID int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("attendees of meeting %d", meetingID), `
		SELECT user_id FROM attendance
		WHERE meeting_id = $1 AND (attended OR (attended IS NULL AND answer = 'yes'))`, meetingID)
	return out, err
}
