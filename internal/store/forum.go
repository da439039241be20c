package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
	ThreadCount    int        `db:"thread_count"`
	LastActivityAt *time.Time `db:"last_activity_at"`
	Unread         int        `db:"unread"`
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
		LEFT JOIN threads t ON t.group_id = g.id AND NOT t.hidden AND t.merged_into IS NULL
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $1
		WHERE g.id = ANY($2)
		GROUP BY g.id
		ORDER BY array_position(ARRAY['rural','urban','county','common'], g.kind), g.name COLLATE "pl-x-icu", g.id`,
		userID, pq.Array(groupIDs))
	return out, err
}

// areasJSON aggregates a thread's areas in display order, as JSON the forum
// service decodes into its forum.AreaRef ({id, name}).
const areasJSON = `COALESCE((SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY a.position, a.id)
	FROM thread_areas ta JOIN support_areas a ON a.id = ta.area_id WHERE ta.thread_id = t.id), '[]')`

const threadColumns = `t.id, t.group_id, t.title, t.author_id, t.pinned, t.locked, t.hidden, t.post_count, t.created_at, t.last_activity_at,
	t.slow_mode_seconds, t.merged_into`

// ThreadRow is a thread with what its page or list entry needs, in one query.
type ThreadRow struct {
	model.Thread
	AuthorName   string    `db:"author_name"`
	AreasJSON    []byte    `db:"areas"`
	LastReadPos  *int      `db:"last_read_position"`
	GroupName    string    `db:"group_name"`
	GroupKind    string    `db:"group_kind"`
	GroupSlug    string    `db:"group_slug"`
	GroupDesc    string    `db:"group_description"`
	GroupCreated time.Time `db:"group_created_at"`
	GroupModOnly bool      `db:"group_moderators_only"`
	// The reader's mute in the thread's group, if one is in force.
	MuteUntil  *time.Time `db:"mute_until"`
	MuteReason *string    `db:"mute_reason"`
	// The reader's watch choices about the thread and its group ("" for none).
	WatchState      string `db:"watch_state"`
	GroupWatchState string `db:"group_watch_state"`
}

// Group returns the thread's group as loaded with it.
func (r ThreadRow) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind, Slug: r.GroupSlug, Description: r.GroupDesc,
		CreatedAt: r.GroupCreated, ModeratorsOnlyThreads: r.GroupModOnly}
}

// GetThreadRow loads a thread with its group, areas and the user's read position.
func GetThreadRow(ctx context.Context, q Q, threadID, userID int64) (ThreadRow, error) {
	var r ThreadRow
	err := one(ctx, q, &r, fmt.Sprintf("load thread %d", threadID), `
		SELECT `+threadColumns+`, u.display_name AS author_name, `+areasJSON+` AS areas,
		       r.last_position AS last_read_position,
		       g.name AS group_name, g.kind AS group_kind, g.slug AS group_slug,
		       g.description AS group_description, g.created_at AS group_created_at,
		       g.moderators_only_threads AS group_moderators_only,
		       mu.until AS mute_until, mu.reason AS mute_reason,
		       COALESCE(tw.state, '') AS watch_state, COALESCE(gw.state, '') AS group_watch_state
		FROM threads t
		JOIN groups g ON g.id = t.group_id
		JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2
		LEFT JOIN thread_watches tw ON tw.thread_id = t.id AND tw.user_id = $2
		LEFT JOIN group_watches gw ON gw.group_id = t.group_id AND gw.user_id = $2
		LEFT JOIN LATERAL (SELECT until, reason FROM mutes
		                   WHERE group_id = t.group_id AND user_id = $2 AND until > now()
		                   ORDER BY until DESC LIMIT 1) mu ON true
		WHERE t.id = $1`, threadID, userID)
	return r, err
}

// ThreadListRow is one line of a group's thread list.
type ThreadListRow struct {
	model.Thread
	AuthorName string `db:"author_name"`
	AreasJSON  []byte `db:"areas"`
	Unread     int    `db:"unread"`
	NeverRead  bool   `db:"never_read"`
}

// ThreadFilter selects and orders a group's threads.
type ThreadFilter struct {
	GroupID       int64
	UserID        int64
	AreaID        int64  // 0 = any
	Sort          string // "activity" (default) or "created"
	IncludeHidden bool
}

// ListThreads returns a page of a group's threads, pinned first.
func ListThreads(ctx context.Context, q Q, f ThreadFilter, p Page) ([]ThreadListRow, error) {
	order := `t.pinned DESC, t.last_activity_at DESC, t.id DESC`
	if f.Sort == "created" {
		order = `t.pinned DESC, t.created_at DESC, t.id DESC`
	}
	out := []ThreadListRow{}
	// Page the threads first, then join authors, read positions and areas to
	// the page only: with the joins outside, a deep OFFSET ran the areas
	// subquery for every skipped row.
	err := selectAll(ctx, q, &out, fmt.Sprintf("list threads of group %d", f.GroupID), `
		SELECT `+threadColumns+`, u.display_name AS author_name, `+areasJSON+` AS areas,
		       GREATEST(t.post_count - COALESCE(r.last_position, 0), 0) AS unread,
		       r.last_position IS NULL AS never_read
		FROM (SELECT * FROM threads t
		      WHERE t.group_id = $1 AND t.merged_into IS NULL
		        AND ($3 OR NOT t.hidden)
		        AND ($4 = 0 OR EXISTS (SELECT 1 FROM thread_areas ta WHERE ta.thread_id = t.id AND ta.area_id = $4))
		      ORDER BY `+order+`
		      LIMIT $5 OFFSET $6) t
		JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2
		ORDER BY `+order, f.GroupID, f.UserID, f.IncludeHidden, f.AreaID, p.Limit, p.Offset)
	return out, err
}

// PostRow is a post with its author and what a reply needs to link back.
type PostRow struct {
	ID            int64      `db:"id"`
	ThreadID      int64      `db:"thread_id"`
	Position      int        `db:"position"`
	AuthorID      int64      `db:"author_id"`
	AuthorName    string     `db:"author_name"`
	AuthorJST     *string    `db:"author_jst"`
	Body          string     `db:"body"`
	BodyHTML      string     `db:"body_html"`
	ReplyTo       *int64     `db:"reply_to"`
	ReplyPosition *int       `db:"reply_position"`
	ReplyAuthor   *string    `db:"reply_author"`
	Version       int        `db:"version"`
	CreatedAt     time.Time  `db:"created_at"`
	EditedAt      *time.Time `db:"edited_at"`
	EditedBy      *int64     `db:"edited_by"`
	DeletedAt     *time.Time `db:"deleted_at"`
	Hidden        bool       `db:"hidden"`
	HiddenReason  string     `db:"hidden_reason"`
	AutoHidden    bool       `db:"auto_hidden"`
	// Reported: the viewer has reported this post (ListPostRange only).
	Reported bool `db:"reported"`
	// AuthorRole is "staff" (programme staff or admin), "moderator" (of the
	// thread's group) or "": the badge beside the author's name.
	AuthorRole string `db:"author_role"`
}

// postRowSelect's author_role looks the membership up by its key (user,
// group): written as a join of memberships and threads, PostgreSQL scanned
// every membership once per post, 70% of a thread page's query (issue 16).
const postRowSelect = `
	SELECT p.id, p.thread_id, p.position, p.author_id, u.display_name AS author_name, j.name AS author_jst,
	       CASE WHEN u.role IN ('admin', 'staff') THEN 'staff'
	            WHEN EXISTS (SELECT 1 FROM memberships gm
	                         WHERE gm.user_id = p.author_id AND gm.role = 'moderator'
	                           AND gm.group_id = (SELECT th.group_id FROM threads th WHERE th.id = p.thread_id)) THEN 'moderator'
	            ELSE '' END AS author_role,
	       p.body, p.body_html, p.reply_to, rp.position AS reply_position, ru.display_name AS reply_author,
	       p.version, p.created_at, p.edited_at, p.edited_by, p.deleted_at, p.hidden, p.hidden_reason, p.auto_hidden
	FROM posts p
	JOIN users u ON u.id = p.author_id
	LEFT JOIN jst j ON j.id = u.jst_id
	LEFT JOIN posts rp ON rp.id = p.reply_to
	LEFT JOIN users ru ON ru.id = rp.author_id`

// postRowReportedSelect is postRowSelect plus whether the viewer ($4) reported
// the post. Most readers have never reported anything, so whether the viewer
// has any report is asked once per statement first (an InitPlan, through
// flags_reporter_idx, migration 24), and only then post by post: asked for
// each of a page's 50 posts it was a third of the posts statement's time in
// PostgreSQL (a scan of flags started 50 times; pgbench of the page's
// statement 0.46–0.50 ms with it, 0.29–0.33 ms without, issue 16).
var postRowReportedSelect = strings.Replace(postRowSelect, "\n\tFROM posts p",
	",\n\t       CASE WHEN (SELECT EXISTS (SELECT 1 FROM flags fr WHERE fr.reporter_id = $4))"+
		"\n\t            THEN EXISTS (SELECT 1 FROM flags f WHERE f.post_id = p.id AND f.reporter_id = $4)"+
		"\n\t            ELSE false END AS reported\n\tFROM posts p", 1)

// postRangeSelect is postRowReportedSelect for posts of one thread, $1: the
// badge's group is looked up once per statement instead of once per post
// (with $1 the sub-select is an InitPlan; with p.thread_id PostgreSQL ran it
// for each of a page's 50 posts — a quarter of the page query's buffers).
var postRangeSelect = mustReplace(postRowReportedSelect, "WHERE th.id = p.thread_id", "WHERE th.id = $1")

// postPageSelect is postRangeSelect without the Markdown source: the HTML
// thread page (the only caller of ListPostRangeMarkRead) shows body_html, and
// 50 bodies were ~50 KB read, sent and allocated per view for nothing (issue 16).
var postPageSelect = mustReplace(postRangeSelect, "p.body, p.body_html", "'' AS body, p.body_html")

// mustReplace replaces old in s once, and panics at start-up if s lacks it
// (a query edited without the variant built from it).
func mustReplace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("store: query variant: " + old + " not found")
	}
	return strings.Replace(s, old, new, 1)
}

// ListPostRange returns a thread's posts with positions in [from, to], each
// saying whether the viewer has reported it (in the same query: a thread
// page's query count does not grow).
func ListPostRange(ctx context.Context, q Q, threadID int64, from, to int, viewerID int64) ([]PostRow, error) {
	return listPostRows(ctx, q, threadID,
		postRangeSelect+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`,
		threadID, from, to, viewerID)
}

// listPostRows runs a page's posts statement (postRowReportedSelect's
// columns, in its order) and scans each row's columns straight into a
// PostRow: sqlx's scan, which finds every field of every row by reflection,
// was a fifth of a thread page's Go CPU (issue 16). TestPostRangeScan (web)
// holds this order to sqlx's reading of postRowSelect.
func listPostRows(ctx context.Context, q Q, threadID int64, query string, args ...any) ([]PostRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts of thread %d: %w", threadID, err)
	}
	defer rows.Close()
	out := make([]PostRow, 0, 50)
	for rows.Next() {
		var r PostRow
		if err := rows.Scan(&r.ID, &r.ThreadID, &r.Position, &r.AuthorID, &r.AuthorName, &r.AuthorJST, &r.AuthorRole,
			&r.Body, &r.BodyHTML, &r.ReplyTo, &r.ReplyPosition, &r.ReplyAuthor,
			&r.Version, &r.CreatedAt, &r.EditedAt, &r.EditedBy, &r.DeletedAt, &r.Hidden, &r.HiddenReason, &r.AutoHidden,
			&r.Reported); err != nil {
			return nil, fmt.Errorf("list posts of thread %d: %w", threadID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list posts of thread %d: %w", threadID, err)
	}
	return out, nil
}

// ListPostRangeMarkRead is ListPostRange that also moves viewerID's read
// position in the thread forward to the last post it returns, when that is
// beyond lastRead — MarkRead in the same statement (issue 16: one round trip
// less on every thread page that advances the reader). The mark is taken in
// the statement's own snapshot, so it is the last post the page shows even
// when replies arrived since the caller read lastRead; a page that advances
// nothing writes nothing. It is the HTML page's read: Body is left empty
// (the page shows BodyHTML; quoting and editing load the post itself).
//
// The read position commits asynchronously (synchronous_commit off for this
// statement's own transaction only): the thread page waited for a WAL flush
// on nearly every view — 75% of its statement's samples in pg_stat_activity
// under load (issue 16). The mark is visible to every reader at once; only a
// crash of PostgreSQL within about 3 × wal_writer_delay may lose it, which
// shows a thread as unread again — never a post, note or message (SPEC §7).
// It takes the pool (p), never a unit of work: set_config(…, true) holds for
// the whole transaction, and inside an explicit one it would make that
// transaction's other writes asynchronous too.
func ListPostRangeMarkRead(ctx context.Context, p *Prepared, threadID int64, from, to int, viewerID int64, lastRead int) ([]PostRow, error) {
	// set_config is in the condition a row must pass to be written, so it has
	// run before anything is written; a page that writes nothing commits no
	// WAL and needs no flush either way.
	return listPostRows(ctx, p, threadID, `
		WITH rd AS (
			INSERT INTO thread_reads (user_id, thread_id, last_position)
			SELECT $4, $1, m.top FROM (SELECT max(position) AS top FROM posts WHERE thread_id = $1 AND position BETWEEN $2 AND $3) m
			WHERE m.top > $5 AND set_config('synchronous_commit', 'off', true) = 'off'
			ON CONFLICT (user_id, thread_id) DO UPDATE
			SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
			WHERE thread_reads.last_position < EXCLUDED.last_position
		)`+postPageSelect+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`,
		threadID, from, to, viewerID, lastRead)
}

// GetPostRow loads one post with its author.
func GetPostRow(ctx context.Context, q Q, postID int64) (PostRow, error) {
	var r PostRow
	err := one(ctx, q, &r, fmt.Sprintf("load post %d", postID), postRowSelect+` WHERE p.id = $1`, postID)
	return r, err
}

// MarkRead moves the user's read position forward (never back).
func MarkRead(ctx context.Context, q Q, userID, threadID int64, position int) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO thread_reads (user_id, thread_id, last_position) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, thread_id) DO UPDATE
		SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
		WHERE thread_reads.last_position < EXCLUDED.last_position`, userID, threadID, position)
	if err != nil {
		return fmt.Errorf("mark thread %d read: %w", threadID, err)
	}
	return nil
}

// UpdatePostBody applies an edit only if the post is still at expectedVersion;
// a stale edit touches nothing and returns ErrNotFound for the caller to turn
// into a conflict. The first edit also writes version 1 to post_revisions,
// from the post as it is until this statement (its body, author and time):
// until then the post is its own first version (migration 22). Should two
// first edits race, the second's version 1 waits for the first's and is
// dropped (ON CONFLICT), and its update then finds the post at version 2.
func UpdatePostBody(ctx context.Context, q Q, postID int64, expectedVersion int, body, html string, editorID int64) (int, error) {
	var v int
	err := one(ctx, q, &v, fmt.Sprintf("edit post %d", postID), `
		WITH first AS (
			INSERT INTO post_revisions (post_id, version, body, editor_id, created_at)
			SELECT o.id, 1, o.body, o.author_id, o.created_at FROM posts o
			WHERE o.id = $1 AND o.version = 1 AND $2 = 1 AND o.deleted_at IS NULL
			ON CONFLICT (post_id, version) DO NOTHING
		)
		UPDATE posts SET body = $3, body_html = $4, version = version + 1, edited_at = now(), edited_by = $5
		WHERE id = $1 AND version = $2 AND deleted_at IS NULL
		RETURNING version`, postID, expectedVersion, body, html, editorID)
	return v, err
}

// InsertPostRevision records one version of a post and who wrote it.
func InsertPostRevision(ctx context.Context, q Q, postID int64, version int, body string, editorID int64) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO post_revisions (post_id, version, body, editor_id) VALUES ($1, $2, $3, $4)`,
		postID, version, body, editorID)
	if err != nil {
		return fmt.Errorf("insert revision %d of post %d: %w", version, postID, err)
	}
	return nil
}

// Revision is one version of a post.
type Revision struct {
	Version    int       `db:"version"`
	Body       string    `db:"body"`
	EditorID   int64     `db:"editor_id"`
	EditorName string    `db:"editor_name"`
	CreatedAt  time.Time `db:"created_at"`
}

// ListPostRevisions lists a post's versions, newest first. A post never
// edited has no revision rows: its one version is the post itself, written by
// its author when it was posted (see UpdatePostBody).
func ListPostRevisions(ctx context.Context, q Q, postID int64) ([]Revision, error) {
	out := []Revision{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list revisions of post %d", postID), `
		SELECT r.version, r.body, r.editor_id, u.display_name AS editor_name, r.created_at
		FROM post_revisions r JOIN users u ON u.id = r.editor_id
		WHERE r.post_id = $1
		UNION ALL
		SELECT 1, p.body, p.author_id, u.display_name, p.created_at
		FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.id = $1 AND NOT EXISTS (SELECT 1 FROM post_revisions r WHERE r.post_id = p.id)
		ORDER BY 1 DESC`, postID)
	return out, err
}

// SoftDeletePost marks a post deleted; its text stays for moderators.
func SoftDeletePost(ctx context.Context, q Q, postID, by int64) error {
	return execOne(ctx, q, fmt.Sprintf("delete post %d", postID), `
		UPDATE posts SET deleted_at = now(), deleted_by = $2 WHERE id = $1 AND deleted_at IS NULL`, postID, by)
}

// CountRecentPosts counts a user's posts since t (the posting rate limit).
func CountRecentPosts(ctx context.Context, q Q, userID int64, since time.Time) (int, error) {
	var n int
	err := one(ctx, q, &n, "count recent posts",
		`SELECT count(*) FROM posts WHERE author_id = $1 AND created_at > $2`, userID, since)
	return n, err
}

// LockWriter takes the user's row lock until the caller's transaction ends. A
// write with a per-account rate limit takes it before it counts the account's
// recent writes and keeps it while it inserts, so one account's writes are
// counted one after another: parallel requests cannot all pass the same count.
// The count must be its own statement after this one (READ COMMITTED gives
// each statement a fresh snapshot, which then includes the writes of the
// transaction we waited for). FOR NO KEY UPDATE, not FOR UPDATE: inserts that
// merely reference the user (sessions, notifications) take KEY SHARE and are
// not held up.
func LockWriter(ctx context.Context, q Q, userID int64) error {
	var id int64
	return one(ctx, q, &id, fmt.Sprintf("lock writer %d", userID),
		`SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID)
}

// LockThread takes the thread row's lock for the rest of the transaction and
// returns the thread with its group's kind (for the permission check).
func LockThread(ctx context.Context, q Q, threadID int64) (model.Thread, model.Group, error) {
	var r struct {
		model.Thread
		GName    string `db:"g_name"`
		GKind    string `db:"g_kind"`
		GModOnly bool   `db:"g_moderators_only"`
	}
	err := one(ctx, q, &r, fmt.Sprintf("lock thread %d", threadID), `
		SELECT `+threadColumns+`, g.name AS g_name, g.kind AS g_kind, g.moderators_only_threads AS g_moderators_only
		FROM threads t JOIN groups g ON g.id = t.group_id
		WHERE t.id = $1 FOR UPDATE OF t`, threadID)
	return r.Thread, model.Group{ID: r.GroupID, Name: r.GName, Kind: r.GKind, ModeratorsOnlyThreads: r.GModOnly}, err
}

func CreateArea(ctx context.Context, q Q, name, macro string) (model.Area, error) {
	var a model.Area
	err := one(ctx, q, &a, "insert area", `
		INSERT INTO support_areas (name, macro_area, position)
		VALUES ($1, $2, (SELECT COALESCE(max(position), 0) + 1 FROM support_areas))
		RETURNING id, name, macro_area, position`, name, macro)
	return a, err
}

func UpdateArea(ctx context.Context, q Q, id int64, name, macro string) (model.Area, error) {
	var a model.Area
	err := one(ctx, q, &a, fmt.Sprintf("update area %d", id), `
		UPDATE support_areas SET name = $2, macro_area = $3 WHERE id = $1
		RETURNING id, name, macro_area, position`, id, name, macro)
	return a, err
}

// ExistingAreaIDs returns those of ids that exist.
func ExistingAreaIDs(ctx context.Context, q Q, ids []int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, "check areas", `SELECT id FROM support_areas WHERE id = ANY($1)`, pq.Array(ids))
	return out, err
}

// GroupPageHead is what a group's page shows besides its thread list: the
// group, every support area (the filter), the reader's watch choice about
// the group ("" for none) and the meeting its banner announces, if any.
type GroupPageHead struct {
	model.Group
	Areas      []model.Area
	WatchState string
	Meeting    *MeetingHighlight
}

// GetGroupPageHead reads a group page's head in one statement (issue 16: it
// took four — the group, the areas, the watch state and the meeting
// highlight — each a round trip on every view of the page). The areas are
// ListAreas', the watch state GetWatchState's, the meeting MeetingHighlights'.
func GetGroupPageHead(ctx context.Context, q Q, groupID, userID int64) (GroupPageHead, error) {
	var row struct {
		model.Group
		AreasJSON  []byte     `db:"areas"`
		WatchState string     `db:"watch_state"`
		MeetingID  *int64     `db:"meeting_id"`
		MTitle     *string    `db:"meeting_title"`
		MStatus    *string    `db:"meeting_status"`
		MStartsAt  *time.Time `db:"meeting_starts_at"`
		MEndsAt    *time.Time `db:"meeting_ends_at"`
	}
	err := one(ctx, q, &row, fmt.Sprintf("load group %d for its page", groupID), `
		SELECT g.id, g.name, g.slug, g.kind, g.description, g.created_at, g.moderators_only_threads,
		       COALESCE((SELECT json_agg(json_build_object('id', a.id, 'name', a.name, 'macro_area', a.macro_area, 'position', a.position)
		                                 ORDER BY a.position, a.id) FROM support_areas a), '[]') AS areas,
		       COALESCE((SELECT gw.state FROM group_watches gw WHERE gw.user_id = $2 AND gw.group_id = g.id), '') AS watch_state,
		       m.id AS meeting_id, m.title AS meeting_title, m.status AS meeting_status,
		       m.starts_at AS meeting_starts_at, m.ends_at AS meeting_ends_at
		FROM groups g
		LEFT JOIN LATERAL (SELECT id, title, status, starts_at, ends_at FROM meetings
		                   WHERE group_id = g.id AND `+highlightCond+`
		                   ORDER BY `+highlightOrder+` LIMIT 1) m ON true
		WHERE g.id = $1`, groupID, userID)
	if err != nil {
		return GroupPageHead{}, err
	}
	h := GroupPageHead{Group: row.Group, WatchState: row.WatchState}
	var areas []struct {
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		MacroArea string `json:"macro_area"`
		Position  int    `json:"position"`
	}
	if err := json.Unmarshal(row.AreasJSON, &areas); err != nil {
		return GroupPageHead{}, fmt.Errorf("decode areas for group %d: %w", groupID, err)
	}
	h.Areas = make([]model.Area, len(areas))
	for i, a := range areas {
		h.Areas[i] = model.Area{ID: a.ID, Name: a.Name, MacroArea: a.MacroArea, Position: a.Position}
	}
	if row.MeetingID != nil {
		h.Meeting = &MeetingHighlight{ID: *row.MeetingID, GroupID: row.ID, Title: *row.MTitle, Status: *row.MStatus,
			StartsAt: *row.MStartsAt, EndsAt: *row.MEndsAt}
	}
	return h, nil
}
