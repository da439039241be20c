package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The live layer's reads: small snapshots of a topic's state that it compares to
// what it last broadcast, and the shared presence table.

// MeetingHead is what a meeting's open pages follow besides its chat.
type MeetingHead struct {
	Status  string `db:"status"`
	LastSeq int64  `db:"last_seq"`
}

func GetMeetingHead(ctx context.Context, q Q, id int64) (MeetingHead, error) {
	var h MeetingHead
	err := one(ctx, q, &h, fmt.Sprintf("meeting %d head", id), `SELECT status, last_seq FROM meetings WHERE id = $1`, id)
	return h, err
}

// ThreadHead is what a thread's open pages follow.
type ThreadHead struct {
	GroupID    int64  `db:"group_id"`
	Title      string `db:"title"`
	PostCount  int    `db:"post_count"`
	LastPostID int64  `db:"last_post_id"`
	Locked     bool   `db:"locked"`
	Hidden     bool   `db:"hidden"`
	MergedInto *int64 `db:"merged_into"`
}

func GetThreadHead(ctx context.Context, q Q, id int64) (ThreadHead, error) {
	var h ThreadHead
	err := one(ctx, q, &h, fmt.Sprintf("thread %d head", id), `
		SELECT t.group_id, t.title, t.post_count, t.locked, t.hidden, t.merged_into,
		       coalesce((SELECT max(p.id) FROM posts p WHERE p.thread_id = t.id), 0) AS last_post_id
		FROM threads t WHERE t.id = $1`, id)
	return h, err
}

// GroupHead is what a group's open pages follow: visible threads and
// activity, and the meeting that is live now (its banner says "join").
type GroupHead struct {
	Threads        int        `db:"threads"`
	LastActivityAt *time.Time `db:"last_activity_at"`
	LiveMeetingID  *int64     `db:"live_meeting_id"`
}

func GetGroupHead(ctx context.Context, q Q, id int64) (GroupHead, error) {
	var h GroupHead
	err := one(ctx, q, &h, fmt.Sprintf("group %d head", id), `
		SELECT count(*) AS threads, max(last_activity_at) AS last_activity_at,
			(SELECT min(m.id) FROM meetings m WHERE m.group_id = $1 AND m.status = 'live') AS live_meeting_id
		FROM threads WHERE group_id = $1 AND NOT hidden AND merged_into IS NULL`, id)
	return h, err
}

// NoteHead is what a note's open editors follow: its version and last editor.
type NoteHead struct {
	Version    int       `db:"version"`
	EditedBy   *int64    `db:"edited_by"`
	EditorName *string   `db:"editor_name"`
	UpdatedAt  time.Time `db:"updated_at"`
}

func GetNoteHead(ctx context.Context, q Q, id int64) (NoteHead, error) {
	var h NoteHead
	err := one(ctx, q, &h, fmt.Sprintf("note %d head", id), `
		SELECT n.version, n.edited_by, u.display_name AS editor_name, n.updated_at
		FROM notes n LEFT JOIN users u ON u.id = n.edited_by WHERE n.id = $1`, id)
	return h, err
}

// PresentUser is one person in a meeting's room.
type PresentUser struct {
	ID   int64   `db:"id"`
	Name string  `db:"name"`
	JST  *string `db:"jst"`
}

// PresenceEntry is one (topic, user) presence row of an instance.
type PresenceEntry struct {
	Topic  string
	UserID int64
}

// WritePresence records an instance's joins and removes its leaves in one
// statement (the live hub batches its presence changes). An entry must not
// be in both lists, nor twice in one.
func WritePresence(ctx context.Context, q Q, instance string, joins, leaves []PresenceEntry) error {
	split := func(es []PresenceEntry) ([]string, []int64) {
		ts, us := make([]string, len(es)), make([]int64, len(es))
		for i, e := range es {
			ts[i], us[i] = e.Topic, e.UserID
		}
		return ts, us
	}
	jt, ju := split(joins)
	lt, lu := split(leaves)
	_, err := q.ExecContext(ctx, `
		WITH joined AS (
			INSERT INTO live_presence (instance_id, topic, user_id)
			SELECT $1, j.topic, j.user_id FROM unnest($2::text[], $3::bigint[]) AS j(topic, user_id)
			ON CONFLICT (topic, user_id, instance_id) DO UPDATE SET seen_at = now())
		DELETE FROM live_presence p
		USING unnest($4::text[], $5::bigint[]) AS l(topic, user_id)
		WHERE p.instance_id = $1 AND p.topic = l.topic AND p.user_id = l.user_id`,
		instance, pq.Array(jt), pq.Array(ju), pq.Array(lt), pq.Array(lu))
	if err != nil {
		return fmt.Errorf("write presence (%d joins, %d leaves): %w", len(joins), len(leaves), err)
	}
	return nil
}

// TouchPresence keeps an instance's entries fresh and prunes entries that no
// instance refreshed for a long time (an instance that crashed).
func TouchPresence(ctx context.Context, q Q, instance string, pruneBefore time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE live_presence SET seen_at = now() WHERE instance_id = $1`, instance); err != nil {
		return fmt.Errorf("refresh presence: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM live_presence WHERE seen_at < $1`, pruneBefore); err != nil {
		return fmt.Errorf("prune presence: %w", err)
	}
	return nil
}

// ClearPresence drops every entry of an instance (on shutdown).
func ClearPresence(ctx context.Context, q Q, instance string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM live_presence WHERE instance_id = $1`, instance); err != nil {
		return fmt.Errorf("clear presence: %w", err)
	}
	return nil
}

// Present lists the people on a topic (a meeting's room, a note's editors),
// one entry each whatever the number of tabs and instances, counting entries
// refreshed since freshSince.
func Present(ctx context.Context, q Q, topic string, freshSince time.Time) ([]PresentUser, error) {
	out := []PresentUser{}
	err := selectAll(ctx, q, &out, "presence on "+topic, `
		SELECT u.id, u.display_name AS name, j.name AS jst
		FROM users u LEFT JOIN jst j ON j.id = u.jst_id
		WHERE u.id IN (SELECT user_id FROM live_presence WHERE topic = $1 AND seen_at >= $2)
		ORDER BY `+personOrder("u.display_name")+`, u.id`, topic, freshSince)
	return out, err
}
