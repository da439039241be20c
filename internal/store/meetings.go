package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
)

const meetingColumns = `id, group_id, title, starts_at, ends_at, location, online_url, agenda, agenda_html,
	status, last_seq, created_by, created_at, started_at, ended_at`

type NewMeeting struct {
	GroupID    int64
	Title      string
	StartsAt   time.Time
	EndsAt     time.Time
	Location   string
	OnlineURL  string
	Agenda     string
	AgendaHTML string
	CreatedBy  int64
}

func CreateMeeting(ctx context.Context, q Q, m NewMeeting) (model.Meeting, error) {
	var out model.Meeting
	err := one(ctx, q, &out, "insert meeting", `
		INSERT INTO meetings (group_id, title, starts_at, ends_at, location, online_url, agenda, agenda_html, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING `+meetingColumns,
		m.GroupID, m.Title, m.StartsAt, m.EndsAt, m.Location, m.OnlineURL, m.Agenda, m.AgendaHTML, m.CreatedBy)
	return out, err
}

// SetMeetingStatus moves a meeting to live or ended, stamping the moment.
func SetMeetingStatus(ctx context.Context, q Q, id int64, status string) (model.Meeting, error) {
	var out model.Meeting
	err := one(ctx, q, &out, fmt.Sprintf("set status of meeting %d", id), `
		UPDATE meetings SET status = $2,
			started_at = CASE WHEN $2 = 'live' THEN COALESCE(started_at, now()) ELSE started_at END,
			ended_at   = CASE WHEN $2 = 'ended' THEN now() ELSE ended_at END
		WHERE id = $1 RETURNING `+meetingColumns, id, status)
	return out, err
}

type NewChatMessage struct {
	MeetingID int64
	AuthorID  int64
	ClientID  string
	Body      string
	BodyHTML  string
	At        time.Time // zero means now
}

// InsertChatMessage assigns the meeting's next seq under the meeting row's lock, in
// the caller's transaction, so seq order is commit order (SPEC §5).
func InsertChatMessage(ctx context.Context, q Q, m NewChatMessage) (model.ChatMessage, error) {
	var seq int64
	err := one(ctx, q, &seq, fmt.Sprintf("next seq of meeting %d", m.MeetingID), `
		UPDATE meetings SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq`, m.MeetingID)
	if err != nil {
		return model.ChatMessage{}, err
	}
	var out model.ChatMessage
	err = one(ctx, q, &out, "insert chat message", `
		INSERT INTO chat_messages (meeting_id, seq, author_id, client_id, body, body_html, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()))
		RETURNING id, meeting_id, seq, author_id, client_id, body, body_html, created_at`,
		m.MeetingID, seq, m.AuthorID, m.ClientID, m.Body, m.BodyHTML, nullTime(m.At))
	return out, err
}

type NewNote struct {
	MeetingID int64
	AuthorID  int64
	Title     string
	Body      string
	BodyHTML  string
}

func CreateNote(ctx context.Context, q Q, n NewNote) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert note", `
		INSERT INTO notes (meeting_id, author_id, title, body, body_html)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		n.MeetingID, n.AuthorID, n.Title, n.Body, n.BodyHTML)
	return id, err
}

func CountMeetings(ctx context.Context, q Q, groupID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count meetings", `SELECT count(*) FROM meetings WHERE group_id = $1`, groupID)
	return n, err
}
