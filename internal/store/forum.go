package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

func ListAreas(ctx context.Context, q Q) ([]model.Area, error) {
	out := []model.Area{}
	err := selectAll(ctx, q, &out, "list areas",
		`SELECT id, name, macro_area, position FROM support_areas ORDER BY position, id`)
	return out, err
}

func FindAreaByName(ctx context.Context, q Q, name string) (model.Area, error) {
	var out model.Area
	err := one(ctx, q, &out, "find area",
		`SELECT id, name, macro_area, position FROM support_areas WHERE name = $1`, name)
	return out, err
}

type NewThread struct {
	GroupID  int64
	Title    string
	AuthorID int64
	At       time.Time // zero means now
}

// CreateThread inserts an empty thread; the caller adds the opening post with CreatePost.
func CreateThread(ctx context.Context, q Q, t NewThread) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert thread", `
		INSERT INTO threads (group_id, title, author_id, created_at, last_activity_at)
		VALUES ($1, $2, $3, COALESCE($4, now()), COALESCE($4, now()))
		RETURNING id`, t.GroupID, t.Title, t.AuthorID, nullTime(t.At))
	return id, err
}

func SetThreadAreas(ctx context.Context, q Q, threadID int64, areaIDs []int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM thread_areas WHERE thread_id = $1`, threadID); err != nil {
		return fmt.Errorf("clear areas of thread %d: %w", threadID, err)
	}
	if len(areaIDs) == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO thread_areas (thread_id, area_id) SELECT $1, unnest($2::bigint[])`,
		threadID, pq.Array(areaIDs))
	if err != nil {
		return fmt.Errorf("set areas of thread %d: %w", threadID, err)
	}
	return nil
}

type NewPost struct {
	ThreadID int64
	AuthorID int64
	Body     string
	BodyHTML string
	ReplyTo  *int64
	At       time.Time // zero means now
}

// CreatePost appends a post. The thread row's update takes its lock, so positions
// are assigned one at a time and stay gap-free.
func CreatePost(ctx context.Context, q Q, p NewPost) (id int64, position int, err error) {
	err = one(ctx, q, &position, fmt.Sprintf("bump thread %d", p.ThreadID), `
		UPDATE threads SET post_count = post_count + 1, last_activity_at = COALESCE($2, now())
		WHERE id = $1 RETURNING post_count`, p.ThreadID, nullTime(p.At))
	if err != nil {
		return 0, 0, err
	}
	err = one(ctx, q, &id, "insert post", `
		INSERT INTO posts (thread_id, position, author_id, body, body_html, reply_to, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()))
		RETURNING id`, p.ThreadID, position, p.AuthorID, p.Body, p.BodyHTML, p.ReplyTo, nullTime(p.At))
	return id, position, err
}

func CountThreads(ctx context.Context, q Q, groupID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count threads", `SELECT count(*) FROM threads WHERE group_id = $1`, groupID)
	return n, err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// GroupSummary is one group on the index with its activity and the reader's unread count.
type GroupSummary struct {
	model.Group
	ThreadCount    int        `db:"thread_count" json:"thread_count"`
	LastActivityAt *time.Time `db:"last_activity_at" json:"last_activity_at"`
	Unread         int        `db:"unread" json:"unread"`
}

// GroupSummaries counts visible threads and the user's unread posts per group.
// Unread is post_count minus the user's read position, so it costs one join.
func GroupSummaries(ctx context.Context, q Q, userID int64, groupIDs []int64) ([]GroupSummary, error) {
	out := []GroupSummary{}
	err := selectAll(ctx, q, &out, "group summaries", `
		SELECT g.id, g.name, g.slug, g.kind, g.description, g.created_at,
		       count(t.id) AS thread_count,
		       max(t.last_activity_at) AS last_activity_at,
		       COALESCE(sum(GREATEST(t.post_count - COALESCE(r.last_position, 0), 0)), 0) AS unread
		FROM groups g
		LEFT JOIN threads t ON t.group_id = g.id AND NOT t.hidden
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $1
		WHERE g.id = ANY($2)
		GROUP BY g.id
		ORDER BY array_position(ARRAY['rural','urban','county','common'], g.kind), g.name, g.id`,
		userID, pq.Array(groupIDs))
	return out, err
}
