package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// A reply is the forum's hottest write (SPEC §8: 1,000 posts/s). It runs as
// two statements inside its unit of work instead of a dozen: LoadReplyTarget
// takes the writer's row lock and reads everything the checks need, and
// AppendReply re-checks under the thread's row lock and writes the post (its
// own first version: no revision row until it is edited), the read mark, the
// auto-watch and the notifications, returning the new post as readers see
// it. Both go through Prepared statements when the caller has them.

// ReplyTarget is the thread a reply goes to, as the checks before rendering
// need it: the thread and its group, the writer's mute there, how many posts
// the writer wrote since the rate limit's window began, and (slow mode) when
// they last posted in this thread.
type ReplyTarget struct {
	model.Thread
	GroupName    string     `db:"group_name"`
	GroupKind    string     `db:"group_kind"`
	GroupSlug    string     `db:"group_slug"`
	GroupDesc    string     `db:"group_description"`
	GroupCreated time.Time  `db:"group_created_at"`
	GroupModOnly bool       `db:"group_moderators_only"`
	MuteUntil    *time.Time `db:"mute_until"`
	MuteReason   *string    `db:"mute_reason"`
	RecentPosts  int        `db:"recent_posts"`
	LastPostAt   *time.Time `db:"last_post_at"`
}

// Group returns the thread's group as loaded with it.
func (r ReplyTarget) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind, Slug: r.GroupSlug, Description: r.GroupDesc,
		CreatedAt: r.GroupCreated, ModeratorsOnlyThreads: r.GroupModOnly}
}

const replyTargetSQL = `
	SELECT ` + threadColumns + `,
	       g.name AS group_name, g.kind AS group_kind, g.slug AS group_slug,
	       g.description AS group_description, g.created_at AS group_created_at,
	       g.moderators_only_threads AS group_moderators_only,
	       mu.until AS mute_until, mu.reason AS mute_reason,
	       (SELECT count(*) FROM posts rp WHERE rp.author_id = u.id AND rp.created_at > $3) AS recent_posts,
	       CASE WHEN t.slow_mode_seconds > 0 THEN
	         (SELECT max(lp.created_at) FROM posts lp WHERE lp.thread_id = t.id AND lp.author_id = u.id) END AS last_post_at
	FROM users u
	JOIN threads t ON t.id = $1
	JOIN groups g ON g.id = t.group_id
	LEFT JOIN LATERAL (SELECT until, reason FROM mutes
	                   WHERE group_id = t.group_id AND user_id = u.id AND until > now()
	                   ORDER BY until DESC LIMIT 1) mu ON true
	WHERE u.id = $2`

// LoadReplyTarget loads thread threadID for a reply by userID, counting their
// posts since since. With lockWriter it also takes the writer's row lock
// (LockWriter's FOR NO KEY UPDATE) until the transaction ends, so that the
// re-count in AppendReply — a later statement, with a fresh snapshot — sees
// every earlier post of theirs.
func LoadReplyTarget(ctx context.Context, q Q, threadID, userID int64, since time.Time, lockWriter bool) (ReplyTarget, error) {
	query := replyTargetSQL
	if lockWriter {
		query += ` FOR NO KEY UPDATE OF u`
	}
	var r ReplyTarget
	err := one(ctx, q, &r, fmt.Sprintf("load thread %d for a reply", threadID), query, threadID, userID, since)
	return r, err
}

// NewReply is a reply that passed the checks, rendered.
type NewReply struct {
	ThreadID, GroupID, AuthorID int64
	// Moderator: the writer moderates the group (locked and hidden threads
	// stay open to them, slow mode does not apply).
	Moderator bool
	// Now is the service's clock, for slow mode.
	Now time.Time
	// RateLimit and Since: at most RateLimit posts by the writer after
	// Since, this one included; 0 = no limit (staff).
	RateLimit int
	Since     time.Time
	Body      string
	BodyHTML  string
	ReplyTo   *int64
	// Watch: who starts watching the thread (the writer and the people
	// mentioned), unless they already chose.
	Watch []int64
	// Quoted: posts the body quotes (their authors hear of it).
	Quoted []int64
	// Mentioned: the people the body mentions (resolved among the readers).
	Mentioned []int64
	// Reasons, Strengths, Kinds: notify.Reasons, the rule of who hears of
	// the post and why (per person the strongest reason, recorded as its kind).
	Reasons   []string
	Strengths []int
	Kinds     []string
}

// ReplyNotification is one notification AppendReply recorded. It is decoded
// from the statement's json_agg, whose keys match the field names (encoding/json
// matches them case-insensitively): rows carry no json tags.
type ReplyNotification struct {
	UserID int64
	ID     int64
	Kind   string
	// The recipient for the mail hook (SentRecipient): read in the same
	// statement, so that mailing them needs no read of its own.
	Email, Name, Lang, Mode string
}

// AppendedReply is the stored post as readers see it, with who may hear of it.
type AppendedReply struct {
	PostRow
	ThreadTitle string `db:"thread_title"`
	// NotificationsJSON: the notifications recorded, in id order.
	NotificationsJSON []byte `db:"notifications"`
}

// Notifications decodes the notifications recorded with the post.
func (r AppendedReply) Notifications() ([]ReplyNotification, error) {
	out := []ReplyNotification{}
	if err := json.Unmarshal(r.NotificationsJSON, &out); err != nil {
		return nil, fmt.Errorf("decode notifications of post %d: %w", r.ID, err)
	}
	return out, nil
}

// appendReplySQL is one statement: the thread row's UPDATE takes its lock
// (positions stay gap-free) and, under it, checks again what ReplyTarget's
// checks decided — same group, not merged, not locked or hidden unless the
// writer moderates, no mute in force, slow mode, the rate limit (counted in
// this statement's snapshot, taken after the writer's lock), a reply_to in
// this thread. When any no longer holds, nothing is written and no row comes
// back: the caller then finds out which, with the checks one by one.
// Watchers are read as ThreadWatchers reads them ($1 thread, $2 group),
// before this reply's auto-watch, as before.
var appendReplySQL = `
	WITH th AS (
		UPDATE threads t SET post_count = t.post_count + 1, last_activity_at = now()
		WHERE t.id = $1 AND t.group_id = $2 AND t.merged_into IS NULL
		  AND ($3 OR NOT (t.locked OR t.hidden))
		  AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.group_id = t.group_id AND m.user_id = $4 AND m.until > now())
		  AND (t.slow_mode_seconds = 0 OR $3 OR NOT EXISTS (
		        SELECT 1 FROM posts sp WHERE sp.thread_id = t.id AND sp.author_id = $4
		          AND sp.created_at > $5::timestamptz - make_interval(secs => t.slow_mode_seconds)))
		  AND ($6 = 0 OR (SELECT count(*) FROM posts rc WHERE rc.author_id = $4 AND rc.created_at > $7) < $6)
		  AND ($8::bigint IS NULL OR EXISTS (SELECT 1 FROM posts r WHERE r.id = $8 AND r.thread_id = t.id))
		RETURNING t.id, t.post_count, t.title, t.author_id
	), p AS (
		INSERT INTO posts (thread_id, position, author_id, body, body_html, reply_to)
		SELECT th.id, th.post_count, $4, $9, $10, $8 FROM th
		RETURNING id, thread_id, position, author_id, body, body_html, reply_to, version, created_at,
		          edited_at, edited_by, deleted_at, hidden, hidden_reason, auto_hidden
	), rd AS (
		INSERT INTO thread_reads (user_id, thread_id, last_position) SELECT $4, p.thread_id, p.position FROM p
		ON CONFLICT (user_id, thread_id) DO UPDATE
		SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
		WHERE thread_reads.last_position < EXCLUDED.last_position
	), aw AS (
		INSERT INTO thread_watches (user_id, thread_id, state)
		SELECT w, th.id, 'watch' FROM th, unnest($11::bigint[]) AS w
		ON CONFLICT (user_id, thread_id) DO NOTHING
	), reason (user_id, reason) AS (
		SELECT w.user_id, 'watched_thread' FROM (` + threadWatchersSQL + `) w
		UNION ALL
		SELECT th.author_id, 'reply:thread' FROM th
		WHERE NOT EXISTS (SELECT 1 FROM thread_watches tm WHERE tm.thread_id = $1 AND tm.state = 'mute' AND tm.user_id = th.author_id)
		UNION ALL
		SELECT r.author_id, 'reply' FROM posts r WHERE r.id = $8
		UNION ALL
		SELECT qp.author_id, 'quote' FROM posts qp WHERE qp.id = ANY($12::bigint[])
		UNION ALL
		SELECT m, 'mention' FROM unnest($13::bigint[]) AS m
	), plan AS (
		SELECT DISTINCT ON (reason.user_id) reason.user_id, k.kind
		FROM reason JOIN unnest($14::text[], $15::int[], $16::text[]) AS k (reason, strength, kind) ON k.reason = reason.reason
		WHERE reason.user_id <> $4
		ORDER BY reason.user_id, k.strength DESC
	), sent AS (
		-- InsertNotifications' rules (notificationAccessCond, notifyKindAllowed,
		-- one per recipient and post), judged on the thread: the new post is not
		-- visible to this statement's joins, its thread is.
		INSERT INTO notifications (user_id, kind, actor_id, group_id, target_type, target_id, title)
		SELECT n.user_id, n.kind, $4, $2, 'post', p.id, th.title
		FROM plan n CROSS JOIN p CROSS JOIN th
		JOIN users nr ON nr.id = n.user_id AND NOT nr.disabled
		JOIN threads nt ON nt.id = $1
		JOIN groups ng ON ng.id = nt.group_id
		LEFT JOIN memberships nms ON nms.user_id = nr.id AND nms.group_id = ng.id
		-- The condition also reads a practice target (npr); a post never is one.
		LEFT JOIN practices npr ON false
		WHERE ` + notificationAccessCond + ` AND ` + notifyKindAllowed("n.kind") + `
		ORDER BY n.kind, n.user_id
		ON CONFLICT DO NOTHING
		RETURNING user_id, id, kind
	)
	SELECT p.id, p.thread_id, p.position, p.author_id, u.display_name AS author_name, j.name AS author_jst,
	       CASE WHEN u.role IN ('admin', 'staff') THEN 'staff'
	            WHEN EXISTS (SELECT 1 FROM memberships gm WHERE gm.group_id = $2 AND gm.user_id = p.author_id AND gm.role = 'moderator') THEN 'moderator'
	            ELSE '' END AS author_role,
	       p.body, p.body_html, p.reply_to, rp.position AS reply_position, ru.display_name AS reply_author,
	       p.version, p.created_at, p.edited_at, p.edited_by, p.deleted_at, p.hidden, p.hidden_reason, p.auto_hidden,
	       th.title AS thread_title,
	       (SELECT COALESCE(json_agg(json_build_object('userid', s.user_id, 'id', s.id, 'kind', s.kind,
	                                 'email', su.email, 'name', su.display_name, 'lang', COALESCE(su.lang, ''),
	                                 'mode', COALESCE(mp.mode, '')) ORDER BY s.id), '[]')
	        FROM sent s JOIN users su ON su.id = s.user_id
	        LEFT JOIN mail_prefs mp ON mp.user_id = s.user_id AND mp.kind = s.kind) AS notifications
	FROM p JOIN th ON th.id = p.thread_id
	JOIN users u ON u.id = p.author_id
	LEFT JOIN jst j ON j.id = u.jst_id
	LEFT JOIN posts rp ON rp.id = p.reply_to
	LEFT JOIN users ru ON ru.id = rp.author_id`

// AppendReply writes a checked, rendered reply (see appendReplySQL). ok is
// false when a check no longer held and nothing was written.
func AppendReply(ctx context.Context, q Q, r NewReply) (AppendedReply, bool, error) {
	var out []AppendedReply
	ids := func(s []int64) any {
		if s == nil {
			s = []int64{}
		}
		return pq.Array(s)
	}
	err := selectAll(ctx, q, &out, fmt.Sprintf("append reply to thread %d", r.ThreadID), appendReplySQL,
		r.ThreadID, r.GroupID, r.Moderator, r.AuthorID, r.Now, r.RateLimit, r.Since, r.ReplyTo, r.Body, r.BodyHTML,
		ids(r.Watch), ids(r.Quoted), ids(r.Mentioned), pq.Array(r.Reasons), pq.Array(r.Strengths), pq.Array(r.Kinds))
	if err != nil || len(out) == 0 {
		return AppendedReply{}, false, err
	}
	return out[0], true, nil
}
