package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// ThreadChange carries the thread columns moderators change; nil leaves a column alone.
type ThreadChange struct {
	Title           *string
	Pinned          *bool
	Locked          *bool
	Hidden          *bool
	SlowModeSeconds *int
}

func UpdateThread(ctx context.Context, q Q, id int64, c ThreadChange) error {
	return execOne(ctx, q, fmt.Sprintf("update thread %d", id), `
		UPDATE threads SET
			title             = COALESCE($2, title),
			pinned            = COALESCE($3, pinned),
			locked            = COALESCE($4, locked),
			hidden            = COALESCE($5, hidden),
			slow_mode_seconds = COALESCE($6, slow_mode_seconds)
		WHERE id = $1`, id, c.Title, c.Pinned, c.Locked, c.Hidden, c.SlowModeSeconds)
}

func MoveThread(ctx context.Context, q Q, id, groupID int64) error {
	return execOne(ctx, q, fmt.Sprintf("move thread %d", id),
		`UPDATE threads SET group_id = $2 WHERE id = $1`, id, groupID)
}

// MergeThreads moves every post of src into dst, interleaved by time, and leaves
// src as a stub pointing at dst. Read positions are carried over so that a
// reader's first unread post in the merged thread is the earliest post they had
// not read in either thread: nothing unread is skipped, nothing read is lost.
func MergeThreads(ctx context.Context, q Q, src, dst int64) error {
	both, one := []any{src, dst}, []any{src}
	steps := []struct {
		what, sql string
		args      []any // exactly the parameters the statement uses
	}{
		{"carry read positions", `
			WITH m AS (
				SELECT thread_id AS old_thread, position AS old_pos,
				       row_number() OVER (ORDER BY created_at, id) AS new_pos
				FROM posts WHERE thread_id IN ($1, $2)
			), readers AS (
				SELECT u.user_id,
				       COALESCE(rs.last_position, 0) AS src_pos,
				       COALESCE(rd.last_position, 0) AS dst_pos
				FROM (SELECT DISTINCT user_id FROM thread_reads WHERE thread_id IN ($1, $2)) u
				LEFT JOIN thread_reads rs ON rs.user_id = u.user_id AND rs.thread_id = $1
				LEFT JOIN thread_reads rd ON rd.user_id = u.user_id AND rd.thread_id = $2
			), first_unread AS (
				SELECT r.user_id,
				       min(m.new_pos) FILTER (WHERE NOT ((m.old_thread = $1 AND m.old_pos <= r.src_pos)
				                                      OR (m.old_thread = $2 AND m.old_pos <= r.dst_pos))) AS pos,
				       count(*) AS total
				FROM readers r CROSS JOIN m
				GROUP BY r.user_id
			)
			INSERT INTO thread_reads (user_id, thread_id, last_position)
			SELECT user_id, $2, COALESCE(pos - 1, total) FROM first_unread
			ON CONFLICT (user_id, thread_id) DO UPDATE SET last_position = EXCLUDED.last_position, updated_at = now()`, both},
		{"drop stub read positions", `DELETE FROM thread_reads WHERE thread_id = $1`, one},
		{"defer position check", `SET CONSTRAINTS posts_thread_id_position_key DEFERRED`, nil},
		{"move posts", `UPDATE posts SET thread_id = $2 WHERE thread_id = $1`, both},
		{"renumber posts", `
			UPDATE posts p SET position = r.rn
			FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS rn FROM posts WHERE thread_id = $1) r
			WHERE p.id = r.id AND p.position <> r.rn`, []any{dst}},
		{"update target", `
			UPDATE threads SET post_count = (SELECT count(*) FROM posts WHERE thread_id = $2),
				last_activity_at = GREATEST(last_activity_at, (SELECT last_activity_at FROM threads WHERE id = $1))
			WHERE id = $2`, both},
		{"leave stub", `UPDATE threads SET merged_into = $2, post_count = 0, pinned = false WHERE id = $1`, both},
		{"repoint older stubs", `UPDATE threads SET merged_into = $2 WHERE merged_into = $1`, both},
	}
	for _, s := range steps {
		if _, err := q.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("merge thread %d into %d: %s: %w", src, dst, s.what, err)
		}
	}
	return nil
}

// SplitPosts moves the given posts of src into the (new, empty) thread dst,
// keeping their order, renumbers both threads and carries read positions (the
// moved posts keep their relative order, so "read up to" stays a prefix).
func SplitPosts(ctx context.Context, q Q, src, dst int64, postIDs []int64) error {
	ids := pq.Array(postIDs)
	all, srcIDs, both := []any{src, dst, ids}, []any{src, ids}, []any{src, dst}
	steps := []struct {
		what, sql string
		args      []any // exactly the parameters the statement uses
	}{
		{"carry read positions to the new thread", `
			INSERT INTO thread_reads (user_id, thread_id, last_position)
			SELECT r.user_id, $2, count(p.id)
			FROM thread_reads r JOIN posts p ON p.thread_id = $1 AND p.id = ANY($3) AND p.position <= r.last_position
			WHERE r.thread_id = $1
			GROUP BY r.user_id
			HAVING count(p.id) > 0`, all},
		{"shift read positions of the source", `
			UPDATE thread_reads r SET last_position = r.last_position - (
				SELECT count(*) FROM posts p WHERE p.thread_id = $1 AND p.id = ANY($2) AND p.position <= r.last_position)
			WHERE r.thread_id = $1`, srcIDs},
		{"defer position check", `SET CONSTRAINTS posts_thread_id_position_key DEFERRED`, nil},
		// A reply must stay in its thread: replies that would cross the split lose the link.
		{"detach replies across the split", `
			UPDATE posts SET reply_to = NULL
			WHERE thread_id = $1 AND reply_to IS NOT NULL AND (id = ANY($2)) <> (reply_to = ANY($2))`, srcIDs},
		{"move posts", `UPDATE posts SET thread_id = $2 WHERE thread_id = $1 AND id = ANY($3)`, all},
		{"renumber both", `
			UPDATE posts p SET position = r.rn
			FROM (SELECT id, row_number() OVER (PARTITION BY thread_id ORDER BY position, id) AS rn
			      FROM posts WHERE thread_id IN ($1, $2)) r
			WHERE p.id = r.id AND p.position <> r.rn`, both},
		{"recount", `
			UPDATE threads t SET post_count = c.n, last_activity_at = c.last
			FROM (SELECT thread_id, count(*) AS n, max(created_at) AS last FROM posts WHERE thread_id IN ($1, $2) GROUP BY thread_id) c
			WHERE t.id = c.thread_id`, both},
	}
	for _, s := range steps {
		if _, err := q.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("split thread %d: %s: %w", src, s.what, err)
		}
	}
	return nil
}

// PostsOfThread returns which of ids belong to the thread, in position order,
// with their authors and times.
func PostsOfThread(ctx context.Context, q Q, threadID int64, ids []int64) ([]model.Post, error) {
	out := []model.Post{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("posts of thread %d", threadID), `
		SELECT id, thread_id, position, author_id, body, body_html, reply_to, version, created_at, edited_at, deleted_at, hidden
		FROM posts WHERE thread_id = $1 AND id = ANY($2) ORDER BY position`, threadID, pq.Array(ids))
	return out, err
}

// SetPostHidden hides or shows a post; auto marks a hide done by the report threshold.
func SetPostHidden(ctx context.Context, q Q, postID int64, hidden bool, reason string, auto bool) error {
	return execOne(ctx, q, fmt.Sprintf("hide post %d", postID), `
		UPDATE posts SET hidden = $2, hidden_reason = CASE WHEN $2 THEN $3 ELSE '' END, auto_hidden = $2 AND $4
		WHERE id = $1`, postID, hidden, reason, auto)
}

// LastPostAt is when the user last posted in the thread (slow mode).
func LastPostAt(ctx context.Context, q Q, threadID, userID int64) (*time.Time, error) {
	var t *time.Time
	err := one(ctx, q, &t, "last post in thread",
		`SELECT max(created_at) FROM posts WHERE thread_id = $1 AND author_id = $2`, threadID, userID)
	return t, err
}

// Flag is a report about a post, with what the queue shows.
type Flag struct {
	ID             int64      `db:"id"`
	PostID         int64      `db:"post_id"`
	ThreadID       int64      `db:"thread_id"`
	ThreadTitle    string     `db:"thread_title"`
	GroupID        int64      `db:"group_id"`
	PostAuthor     string     `db:"post_author"`
	PostBody       string     `db:"post_body"`
	PostHidden     bool       `db:"post_hidden"`
	ReporterID     int64      `db:"reporter_id"`
	ReporterName   string     `db:"reporter_name"`
	Reason         string     `db:"reason"`
	State          string     `db:"state"`
	ResolutionNote string     `db:"resolution_note"`
	ResolvedBy     *int64     `db:"resolved_by"`
	ResolvedAt     *time.Time `db:"resolved_at"`
	CreatedAt      time.Time  `db:"created_at"`
}

const flagSelect = `
	SELECT f.id, f.post_id, p.thread_id, t.title AS thread_title, t.group_id, pu.display_name AS post_author,
	       p.body AS post_body, p.hidden AS post_hidden, f.reporter_id, ru.display_name AS reporter_name,
	       f.reason, f.state, f.resolution_note, f.resolved_by, f.resolved_at, f.created_at
	FROM flags f
	JOIN posts p ON p.id = f.post_id
	JOIN threads t ON t.id = p.thread_id
	JOIN users pu ON pu.id = p.author_id
	JOIN users ru ON ru.id = f.reporter_id`

// CreateFlag stores a report; a second report of the same post by the same
// member violates flags_post_id_reporter_id_key.
func CreateFlag(ctx context.Context, q Q, postID, reporterID int64, reason string) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert flag",
		`INSERT INTO flags (post_id, reporter_id, reason) VALUES ($1, $2, $3) RETURNING id`, postID, reporterID, reason)
	return id, err
}

func CountOpenFlags(ctx context.Context, q Q, postID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count open flags",
		`SELECT count(DISTINCT reporter_id) FROM flags WHERE post_id = $1 AND state = 'open'`, postID)
	return n, err
}

func GetFlag(ctx context.Context, q Q, id int64) (Flag, error) {
	var f Flag
	err := one(ctx, q, &f, fmt.Sprintf("load flag %d", id), flagSelect+` WHERE f.id = $1`, id)
	return f, err
}

// ListFlags is a group's queue; state "" means any.
func ListFlags(ctx context.Context, q Q, groupID int64, state string, p Page) ([]Flag, error) {
	out := []Flag{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list flags of group %d", groupID),
		flagSelect+` WHERE t.group_id = $1 AND ($2 = '' OR f.state = $2)
		ORDER BY (f.state = 'open') DESC, f.id DESC LIMIT $3 OFFSET $4`, groupID, state, p.Limit, p.Offset)
	return out, err
}

func CountGroupOpenFlags(ctx context.Context, q Q, groupID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count open flags of group", `
		SELECT count(*) FROM flags f JOIN posts p ON p.id = f.post_id JOIN threads t ON t.id = p.thread_id
		WHERE t.group_id = $1 AND f.state = 'open'`, groupID)
	return n, err
}

// CloseFlag resolves or dismisses an open flag.
func CloseFlag(ctx context.Context, q Q, id int64, state, note string, by int64) error {
	return execOne(ctx, q, fmt.Sprintf("close flag %d", id), `
		UPDATE flags SET state = $2, resolution_note = $3, resolved_by = $4, resolved_at = now()
		WHERE id = $1 AND state = 'open'`, id, state, note, by)
}

// Mute is a member's silence in one group until a time.
type Mute struct {
	ID        int64     `db:"id"`
	GroupID   int64     `db:"group_id"`
	UserID    int64     `db:"user_id"`
	UserName  string    `db:"user_name"`
	Until     time.Time `db:"until"`
	Reason    string    `db:"reason"`
	CreatedBy int64     `db:"created_by"`
	CreatedAt time.Time `db:"created_at"`
}

const muteSelect = `
	SELECT m.id, m.group_id, m.user_id, u.display_name AS user_name, m.until, m.reason, m.created_by, m.created_at
	FROM mutes m JOIN users u ON u.id = m.user_id`

func CreateMute(ctx context.Context, q Q, groupID, userID int64, until time.Time, reason string, by int64) (Mute, error) {
	var id int64
	if err := one(ctx, q, &id, "insert mute", `
		INSERT INTO mutes (group_id, user_id, until, reason, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		groupID, userID, until, reason, by); err != nil {
		return Mute{}, err
	}
	var m Mute
	err := one(ctx, q, &m, "load mute", muteSelect+` WHERE m.id = $1`, id)
	return m, err
}

// GroupMuteTarget loads a user a group's moderators may name in a mute: one
// with a membership in the group or, in a `common` group (where every user
// writes), one who has written a post there. Anyone else, unknown ids, admins
// and staff of other groups alike, is ErrNotFound: the answer must not tell
// them apart or name them.
func GroupMuteTarget(ctx context.Context, q Q, groupID, userID int64) (model.User, error) {
	var u model.User
	err := one(ctx, q, &u, fmt.Sprintf("load user %d as a member of group %d", userID, groupID),
		`SELECT `+userColumns+` `+userFrom+`
		WHERE u.id = $2
		  AND (EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = $1 AND m.user_id = u.id)
		       OR EXISTS (SELECT 1 FROM groups g JOIN threads t ON t.group_id = g.id JOIN posts p ON p.thread_id = t.id
		                  WHERE g.id = $1 AND g.kind = 'common' AND p.author_id = u.id))`, groupID, userID)
	return u, err
}

// ActiveMute returns the mute in force for a user in a group, or ErrNotFound.
func ActiveMute(ctx context.Context, q Q, groupID, userID int64) (Mute, error) {
	var m Mute
	err := one(ctx, q, &m, "load active mute", muteSelect+`
		WHERE m.group_id = $1 AND m.user_id = $2 AND m.until > now() ORDER BY m.until DESC LIMIT 1`, groupID, userID)
	return m, err
}

// MuteInForce is ActiveMute for write paths: the end and reason of the user's mute
// in force in the group, or a nil time when there is none.
func MuteInForce(ctx context.Context, q Q, groupID, userID int64) (*time.Time, string, error) {
	m, err := ActiveMute(ctx, q, groupID, userID)
	if errors.Is(err, ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &m.Until, m.Reason, nil
}

// ListActiveMutes lists the mutes in force in a group.
func ListActiveMutes(ctx context.Context, q Q, groupID int64) ([]Mute, error) {
	out := []Mute{}
	err := selectAll(ctx, q, &out, "list mutes", muteSelect+`
		WHERE m.group_id = $1 AND m.until > now() ORDER BY m.until DESC`, groupID)
	return out, err
}

// LiftMutes ends every mute in force for a user in a group.
func LiftMutes(ctx context.Context, q Q, groupID, userID int64) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE mutes SET until = now() WHERE group_id = $1 AND user_id = $2 AND until > now()`, groupID, userID)
	if err != nil {
		return 0, fmt.Errorf("lift mutes: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
