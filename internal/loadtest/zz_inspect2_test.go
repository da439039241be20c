package loadtest

// TEMPORARY: planning vs execution per statement; prepared naive page. Deleted before handing over.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

var rePlan = regexp.MustCompile(`Planning Time: ([0-9.]+) ms`)
var reExec = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)

func BenchmarkZTiming(b *testing.B) {
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
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	time1 := func(name, q string, args ...any) {
		var pl, ex []float64
		for i := 0; i < 25; i++ {
			tx := db.MustBeginTx(ctx, nil)
			var lines []string
			if err := tx.SelectContext(ctx, &lines, "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) "+q, args...); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			tx.Rollback()
			all := strings.Join(lines, "\n")
			p, _ := strconv.ParseFloat(rePlan.FindStringSubmatch(all)[1], 64)
			e, _ := strconv.ParseFloat(reExec.FindStringSubmatch(all)[1], 64)
			pl, ex = append(pl, p), append(ex, e)
		}
		fmt.Printf("TIMING %-34s plan %.3f ms  exec %.3f ms\n", name, med(pl), med(ex))
	}
	time1("session", `
		SELECT s.token_hash, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.rotate, u.*,
		       COALESCE((SELECT json_agg(json_build_object('group_id', m.group_id, 'group_name', g.name, 'group_kind', g.kind, 'role', m.role) ORDER BY g.name)
		                 FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id), '[]') AS memberships
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN jst j ON j.id = u.jst_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2) AND NOT u.disabled`, tok, 72*3600.0)
	time1("thread row", `
		SELECT `+xCols+`, u.display_name AS author_name, `+xAreas+` AS areas, r.last_position,
		       g.name, g.kind, g.slug, g.description, g.created_at
		FROM threads t JOIN groups g ON g.id = t.group_id JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2 WHERE t.id = $1`, d.longest.id, d.benchUserID)
	time1("posts page (long thread p25)", xPostRow+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`, d.longest.id, 1201, 1250)
	time1("posts page (short thread p1)", xPostRow+` WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3 ORDER BY p.position`, d.shortFullPage.thread, 1, 50)
	time1("naive query (short thread p1)", naiveQuery, d.shortFullPage.thread, 1, 50)
	time1("mark read (upsert)", `
		INSERT INTO thread_reads (user_id, thread_id, last_position) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, thread_id) DO UPDATE
		SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
		WHERE thread_reads.last_position < EXCLUDED.last_position`, d.benchUserID, d.longest.id, 2400)
	for _, off := range []int{0, 300, 550} {
		time1(fmt.Sprintf("list threads offset %d", off), `
		SELECT `+xCols+`, u.display_name AS author_name, `+xAreas+` AS areas,
		       GREATEST(t.post_count - COALESCE(r.last_position, 0), 0) AS unread, r.last_position IS NULL AS never_read
		FROM threads t JOIN users u ON u.id = t.author_id
		LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $2
		WHERE t.group_id = $1 AND ($3 OR NOT t.hidden)
		  AND ($4 = 0 OR EXISTS (SELECT 1 FROM thread_areas ta WHERE ta.thread_id = t.id AND ta.area_id = $4))
		ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC
		LIMIT $5 OFFSET $6`, d.bigGroup, d.benchUserID, false, 0, 51, off)
		time1(fmt.Sprintf("FIX list threads offset %d", off), `
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
	time1("group", `SELECT id, name, slug, kind, description, created_at FROM groups WHERE id = $1`, d.bigGroup)
	time1("areas", `SELECT id, name, macro_area, position FROM support_areas ORDER BY position, id`)
	// posting path
	tid := d.postThreads[5]
	time1("count recent posts", `SELECT count(*) FROM posts WHERE author_id = $1 AND created_at > $2`, d.posterIDs[0], time.Now().Add(-time.Minute))
	time1("lock thread", `SELECT `+xCols+`, g.name, g.kind FROM threads t JOIN groups g ON g.id = t.group_id WHERE t.id = $1 FOR UPDATE OF t`, tid)
	time1("bump thread", `UPDATE threads SET post_count = post_count + 1, last_activity_at = COALESCE($2, now()) WHERE id = $1 RETURNING post_count`, tid, nil)
	body := postingBody(1, 1)
	html := "<p>" + strings.Repeat("Dzień dobry, <strong>test</strong> ", 40) + "</p>"
	time1("insert post", `INSERT INTO posts (thread_id, position, author_id, body, body_html, reply_to, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now())) RETURNING id`, tid, 100000, d.posterIDs[0], body, html, nil, nil)
	time1("insert revision", `INSERT INTO post_revisions (post_id, version, body, editor_id) VALUES ($1, $2, $3, $4)`, d.maxSeededPostID, 7, body, d.posterIDs[0])
	time1("mark read (posting)", `
		INSERT INTO thread_reads (user_id, thread_id, last_position) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, thread_id) DO UPDATE
		SET last_position = GREATEST(thread_reads.last_position, EXCLUDED.last_position), updated_at = now()
		WHERE thread_reads.last_position < EXCLUDED.last_position`, d.posterIDs[0], tid, 100000)
	time1("get post row", xPostRow+` WHERE p.id = $1`, d.maxSeededPostID)
}
