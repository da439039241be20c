package loadtest

// TEMPORARY: plan inspection, deleted before handing over.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

const xAreas = `COALESCE((SELECT json_agg(json_build_object('id', a.id, 'name', a.name) ORDER BY a.position, a.id)
	FROM thread_areas ta JOIN support_areas a ON a.id = ta.area_id WHERE ta.thread_id = t.id), '[]')`
const xCols = `t.id, t.group_id, t.title, t.author_id, t.pinned, t.locked, t.hidden, t.post_count, t.created_at, t.last_activity_at`
const xPostRow = `
	SELECT p.id, p.thread_id, p.position, p.author_id, u.display_name AS author_name, j.name AS author_jst,
	       p.body, p.body_html, p.reply_to, rp.position AS reply_position, ru.display_name AS reply_author,
	       p.version, p.created_at, p.edited_at, p.edited_by, p.deleted_at, p.hidden, p.hidden_reason
	FROM posts p
	JOIN users u ON u.id = p.author_id
	LEFT JOIN jst j ON j.id = u.jst_id
	LEFT JOIN posts rp ON rp.id = p.reply_to
	LEFT JOIN users ru ON ru.id = rp.author_id`

func BenchmarkZInspect(b *testing.B) {
	needDB(b)
	d := data(b)
	env := testkit.Start(b, dbURL)
	login(b, env, d.benchEmail)
	db := testkit.Open(b, dbURL)
	ctx := context.Background()
	var tok []byte
	if err := db.GetContext(ctx, &tok, `SELECT token_hash FROM sessions LIMIT 1`); err != nil {
		b.Fatal(err)
	}
	explain := func(name, q string, args ...any) {
		tx := db.MustBeginTx(ctx, nil)
		defer tx.Rollback()
		var lines []string
		if err := tx.SelectContext(ctx, &lines, "EXPLAIN (ANALYZE, BUFFERS) "+q, args...); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		fmt.Printf("\n##### %s\n%s\n", name, strings.Join(lines, "\n"))
	}
	for i := 0; i < 2; i++ { // second round = warm
		fmt.Printf("\n==================== round %d\n", i)
		explain("session", `
		SELECT s.token_hash, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.rotate, u.id, u.email,
		       COALESCE((SELECT json_agg(json_build_object('group_id', m.group_id, 'group_name', g.name, 'group_kind', g.kind, 'role', m.role) ORDER BY g.name)
		                 FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '[]') AS memberships
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN jst j ON j.id = u.jst_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2) AND NOT u.disabled`, tok, 72*3600.0)
		explain("thread row (longest)", `
		SELECT `+xCols+`, u.display_name AS author_name, `+xAreas+` AS areas, r.last_position,
		       g.name, g.kind, g.slug, g.description, g.created_at
		FROM threads t JOIN groups g ON g.id = t.group_id JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2 WHERE t.id = $1`, d.longest.id, d.benchUserID)
		explain("posts of longest thread, page 25", xPostRow+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`, d.longest.id, 1201, 1250)
		explain("posts of short thread, page 1", xPostRow+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`, d.shortFullPage.thread, 1, 50)
		explain("mark read", `
		INSERT INTO thread_reads (user_id, thread_id, last_position) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, thread_id) DO UPDATE
		SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
		WHERE thread_reads.last_position < EXCLUDED.last_position`, d.benchUserID, d.longest.id, 2400)
		for _, off := range []int{0, 550} {
			explain(fmt.Sprintf("list threads offset %d", off), `
		SELECT `+xCols+`, u.display_name AS author_name, `+xAreas+` AS areas,
		       GREATEST(t.post_count - COALESCE(r.last_position, 0), 0) AS unread, r.last_position IS NULL AS never_read
		FROM threads t JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2
		WHERE t.group_id = $1 AND ($3 OR NOT t.hidden)
		  AND ($4 = 0 OR EXISTS (SELECT 1 FROM thread_areas ta WHERE ta.thread_id = t.id AND ta.area_id = $4))
		ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC
		LIMIT $5 OFFSET $6`, d.bigGroup, d.benchUserID, false, 0, 51, off)
		}
		for _, off := range []int{0, 550} {
			explain(fmt.Sprintf("FIX list threads offset %d", off), `
		SELECT `+xCols+`, u.display_name AS author_name, `+xAreas+` AS areas,
		       GREATEST(t.post_count - COALESCE(r.last_position, 0), 0) AS unread, r.last_position IS NULL AS never_read
		FROM (SELECT * FROM threads t
		      WHERE t.group_id = $1 AND ($3 OR NOT t.hidden)
		        AND ($4 = 0 OR EXISTS (SELECT 1 FROM thread_areas ta WHERE ta.thread_id = t.id AND ta.area_id = $4))
		      ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC
		      LIMIT $5 OFFSET $6) t
		JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2
		ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC`, d.bigGroup, d.benchUserID, false, 0, 51, off)
		}
		explain("count recent posts", `SELECT count(*) FROM posts WHERE author_id = $1 AND created_at > $2`, d.posterIDs[0], time.Now().Add(-time.Minute))
		explain("lock thread", `SELECT `+xCols+`, g.name, g.kind FROM threads t JOIN groups g ON g.id = t.group_id WHERE t.id = $1 FOR UPDATE OF t`, d.postThreads[3])
		explain("bump thread", `UPDATE threads SET post_count = post_count + 1, last_activity_at = COALESCE($2, now()) WHERE id = $1 RETURNING post_count`, d.postThreads[3], nil)
		explain("group summaries (index page)", `
		SELECT g.id, count(t.id), max(t.last_activity_at), COALESCE(sum(GREATEST(t.post_count - COALESCE(r.last_position, 0), 0)), 0)
		FROM groups g
		LEFT JOIN threads t ON t.group_id = g.id AND NOT t.hidden
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $1
		WHERE g.id = ANY($2::bigint[])
		GROUP BY g.id`, d.benchUserID, "{"+fmt.Sprint(d.groupIDs[0])+","+fmt.Sprint(d.groupIDs[3])+","+fmt.Sprint(d.groupIDs[7])+"}")
	}
}
