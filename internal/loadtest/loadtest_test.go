package loadtest

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/benchsum"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// SPEC §8 targets.
const (
	threadPageRate  = 2000.0 // req/s
	threadPageP99   = 25.0   // ms
	threadPageQuery = 4.0    // statements per page, whatever the post count
	postingRate     = 1000.0 // posts/s
	postingP99      = 50.0   // ms
	naiveAnchor     = 2260.0 // req/s, the anchor as measured when SPEC §8 was written
)

func threadPath(p pageRef) string {
	if p.page == 1 {
		return "/t/" + strconv.FormatInt(p.thread, 10)
	}
	return "/t/" + strconv.FormatInt(p.thread, 10) + "?page=" + strconv.Itoa(p.page)
}

// threadPageOps requests the benchmark member's full 50-post pages in page-major
// order. With reset, the worker that starts a new round first moves the member's
// read positions back, so (nearly) every view advances and writes its read
// position — the page's worst case, which SPEC §8's "≤ 4 queries" includes.
func threadPageOps(d *dataset, reset func()) (func(*worker, int64) op, *atomic.Int64) {
	pages := d.threadPages
	var resets atomic.Int64
	return func(_ *worker, n int64) op {
		i := n % int64(len(pages))
		if i == 0 && reset != nil {
			reset()
			resets.Add(1)
		}
		p := pages[i]
		cat := 0
		if p.long {
			cat = 1
		}
		return op{method: http.MethodGet, path: threadPath(p), want: http.StatusOK, cat: cat}
	}, &resets
}

// walBytesSince is how much WAL the server wrote since lsn (from pg_current_wal_lsn).
func walBytesSince(b *testing.B, db *sqlx.DB, lsn string) float64 {
	b.Helper()
	var n float64
	if err := db.Get(&n, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)`, lsn); err != nil {
		b.Fatal(err)
	}
	return n
}

func currentWAL(b *testing.B, db *sqlx.DB) string {
	b.Helper()
	var lsn string
	if err := db.Get(&lsn, `SELECT pg_current_wal_lsn()::text`); err != nil {
		b.Fatal(err)
	}
	return lsn
}

func workersFor(s session) []*worker {
	ws := make([]*worker, *conns)
	for i := range ws {
		ws[i] = newWorker(i, s.cookie, s.csrf)
	}
	return ws
}

// ---- the anchor ----

var (
	naiveOnce  sync.Once
	naiveStats *loadStats
)

// naive measures the naive one-query page once per process (in whichever
// benchmark asks first) over exactly the thread pages BenchmarkThreadPage uses.
func naive(b *testing.B) *loadStats {
	b.Helper()
	d := data(b)
	naiveOnce.Do(func() {
		base := startNaive(b)
		next, _ := threadPageOps(d, nil)
		probe := newWorker(-1, "", "")
		if err := probe.do(base, next(probe, 0)); err != nil {
			b.Fatalf("naive page: %v", err)
		}
		if n := strings.Count(probe.buf.String(), `<article class="post"`); n != forum.PageSize {
			b.Fatalf("naive page holds %d posts, want %d", n, forum.PageSize)
		}
		st := runLoad(b, loadSpec{name: "naive one-query Fiber page", base: base, workers: workersFor(session{}), next: next,
			cats: []string{"all", "long"}})
		naiveStats = &st
		b.Logf("%s", st.line("req/s"))
		addSummary("naive one-query Fiber page (anchor)",
			fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors", st.rate, ms(st.pct(.5)), ms(st.pct(.99)), st.errs),
			fmt.Sprintf("anchor: %.2fk req/s when SPEC §8 was written", naiveAnchor/1000), "—")
	})
	if naiveStats == nil {
		b.Fatal("naive baseline failed earlier")
	}
	return naiveStats
}

// BenchmarkNaivePage measures the SPEC §8 anchor: a minimal Fiber server
// answering a thread page with one SQL query and a trivial template.
func BenchmarkNaivePage(b *testing.B) {
	needDB(b)
	st := naive(b)
	st.report(b, "req/s")
}

// ---- thread page ----

// BenchmarkThreadPage: one logged-in member, 16 keep-alive connections, the
// HTML page of 50 posts, rotating over every full page the member can read
// (hundreds of threads, including pages 2…N of threads of 600–2,500 posts).
func BenchmarkThreadPage(b *testing.B) {
	needDB(b)
	d := data(b)
	base := naive(b)
	env, qc := testkit.StartCounting(b, dbURL)
	side := testkit.Open(b, dbURL) // out-of-band work, not counted
	ctx := context.Background()
	sess := login(b, env, d.benchEmail)
	probe := newWorker(-1, sess.cookie, sess.csrf)

	// The page is what we think it is.
	longPage := pageRef{thread: d.longest.id, page: d.longest.posts / forum.PageSize / 2, long: true}
	for _, p := range []pageRef{d.shortFullPage, longPage} {
		if err := probe.do(env.URL, op{method: http.MethodGet, path: threadPath(p), want: http.StatusOK}); err != nil {
			b.Fatal(err)
		}
		if n := strings.Count(probe.buf.String(), `<article class="post`); n != forum.PageSize {
			b.Fatalf("%s holds %d posts, want %d", threadPath(p), n, forum.PageSize)
		}
	}
	// Statements per page, one request at a time: the first view (which moves
	// the read position) and a revisit, for a 50-post thread and for page N of
	// the longest thread.
	counts := map[string][2]int64{}
	for _, c := range []struct {
		name string
		p    pageRef
	}{{fmt.Sprintf("%d-post thread, page 1", d.seededPostCounts[d.shortFullPage.thread]), d.shortFullPage},
		{fmt.Sprintf("%d-post thread, page %d", d.longest.posts, longPage.page), longPage}} {
		if _, err := side.ExecContext(ctx, `UPDATE thread_reads SET last_position = 0 WHERE user_id = $1 AND thread_id = $2`, d.benchUserID, c.p.thread); err != nil {
			b.Fatal(err)
		}
		var v [2]int64
		for i := range v {
			before := qc.Load()
			if err := probe.do(env.URL, op{method: http.MethodGet, path: threadPath(c.p), want: http.StatusOK}); err != nil {
				b.Fatal(err)
			}
			v[i] = qc.Load() - before
		}
		counts[c.name] = v
	}
	var countText []string
	maxQ := int64(0)
	for name, v := range counts {
		countText = append(countText, fmt.Sprintf("%s: %d first view / %d revisit", name, v[0], v[1]))
		maxQ = max(maxQ, v[0], v[1])
	}
	b.Logf("statements per thread page, one request at a time: %s", strings.Join(countText, "; "))

	next, resets := threadPageOps(d, func() {
		if err := resetReads(ctx, side, d.benchUserID); err != nil {
			b.Errorf("reset read positions: %v", err)
		}
	})
	q0, wal0 := qc.Load(), currentWAL(b, side)
	st := runLoad(b, loadSpec{name: "thread page", base: env.URL, workers: workersFor(sess), next: next, cats: []string{"all", "long"}})
	perPage := float64(qc.Load()-q0) / float64(st.total)
	walPerPage := walBytesSince(b, side, wal0) / float64(st.total)

	ratio := st.rate / base.rate
	st.report(b, "req/s")
	b.ReportMetric(ratio, "x-naive")
	b.ReportMetric(perPage, "queries/page")
	b.ReportMetric(walPerPage, "WAL-B/page")
	long := st.byCat[1]
	b.Logf("%s", st.line("req/s"))
	b.Logf("thread page: %.2f× the naive one-query page (%.0f req/s); %.0f bytes of WAL per page view (read positions); %.2f SQL statements per page over %d requests (BEGIN/COMMIT not counted; "+
		"nearly every view moves the read position, in the posts statement — %d rounds over %d pages of %d threads, read positions reset between rounds); "+
		"page ≥ 2 of threads of ≥ 500 posts: %d samples, p50 %.2f ms, p99 %.2f ms",
		ratio, base.rate, walPerPage, perPage, st.total, resets.Load(), len(d.threadPages), d.readableThreads,
		len(long), ms(pct(long, .5)), ms(pct(long, .99)))

	ok := st.rate >= threadPageRate && ms(st.pct(.99)) <= threadPageP99 && perPage <= threadPageQuery && float64(maxQ) <= threadPageQuery && st.errs == 0
	addSummary("thread page (HTML, 50 posts, logged in), 16 conns",
		fmt.Sprintf("%.0f req/s = %.2f× naive, p50 %.2f ms, p99 %.2f ms, %d errors, %.2f queries/page (max %d single)",
			st.rate, ratio, ms(st.pct(.5)), ms(st.pct(.99)), st.errs, perPage, maxQ),
		fmt.Sprintf("≥ 2,000 req/s, p99 ≤ 25 ms, ≤ 4 queries (2,000 = %.2f× the anchor → ≥ %.0f req/s next to this run's naive page)",
			threadPageRate/naiveAnchor, threadPageRate/naiveAnchor*base.rate), verdict(ok))
	addSummary("  … scaled to this machine (ratio to the naive page)",
		fmt.Sprintf("%.2f× naive", ratio), fmt.Sprintf("≥ %.2f× naive", threadPageRate/naiveAnchor), verdict(ratio >= threadPageRate/naiveAnchor))
	addRow("thread page", "req/s", st.rate, base.rate, fmt.Sprintf("≥ %.2f× the naive page (SPEC §8: 2,000 of the anchor's 2,260 req/s)", threadPageRate/naiveAnchor),
		benchsum.Met(ratio >= threadPageRate/naiveAnchor))
	addRow("thread page p99", "ms", ms(st.pct(.99)), ms(base.pct(.99)), "≤ 25 ms", benchsum.Met(ms(st.pct(.99)) <= threadPageP99))
	addRow("thread page statements", "per page", perPage, 0, fmt.Sprintf("≤ 4 (max single view %d)", maxQ),
		benchsum.Met(perPage <= threadPageQuery && float64(maxQ) <= threadPageQuery))
	addRow("thread page errors", "requests", float64(st.errs), 0, "0", benchsum.Met(st.errs == 0))
	addSummary("  … of which page ≥ 2 of 600–2,500-post threads",
		fmt.Sprintf("%d samples, p50 %.2f ms, p99 %.2f ms", len(long), ms(pct(long, .5)), ms(pct(long, .99))), "same", "—")
	addNote("thread page: queries per page one request at a time: %s; under load %.2f per page, %.0f bytes of WAL per page view", strings.Join(countText, "; "), perPage, walPerPage)
}

// ---- group page ----

// BenchmarkGroupPage: the same member and client loop on /g/{id}, 50 threads a
// page, rotating over every full page of the biggest group.
func BenchmarkGroupPage(b *testing.B) {
	needDB(b)
	d := data(b)
	base := naive(b)
	env, qc := testkit.StartCounting(b, dbURL)
	sess := login(b, env, d.benchEmail)
	probe := newWorker(-1, sess.cookie, sess.csrf)
	path := func(page int) string { return fmt.Sprintf("/g/%d?page=%d", d.bigGroup, page) }
	var single []string
	for _, p := range []int{1, d.bigGroupPages} {
		before := qc.Load()
		if err := probe.do(env.URL, op{method: http.MethodGet, path: path(p), want: http.StatusOK}); err != nil {
			b.Fatal(err)
		}
		single = append(single, fmt.Sprintf("page %d: %d", p, qc.Load()-before))
		if n := strings.Count(probe.buf.String(), `<li class="thread-item`); n != forum.PageSize {
			b.Fatalf("%s lists %d threads, want %d", path(p), n, forum.PageSize)
		}
	}
	q0 := qc.Load()
	st := runLoad(b, loadSpec{name: "group page", base: env.URL, workers: workersFor(sess), cats: []string{"all"},
		next: func(_ *worker, n int64) op {
			return op{method: http.MethodGet, path: path(1 + int(n%int64(d.bigGroupPages))), want: http.StatusOK}
		}})
	perPage := float64(qc.Load()-q0) / float64(st.total)
	st.report(b, "req/s")
	b.ReportMetric(perPage, "queries/page")
	b.Logf("%s", st.line("req/s"))
	b.Logf("group page: %d threads visible in the group, pages 1–%d rotated; %.2f SQL statements per page (one at a time: %s)",
		d.bigGroupThreads, d.bigGroupPages, perPage, strings.Join(single, ", "))
	addSummary("group page /g/{id} (50 threads, biggest group), 16 conns",
		fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors, %.2f queries/page", st.rate, ms(st.pct(.5)), ms(st.pct(.99)), st.errs, perPage),
		"— (none in SPEC §8)", "—")
	addRow("group page", "req/s", st.rate, base.rate, "≥ 0.6× the naive page (issue 16)", benchsum.Met(st.rate >= 0.6*base.rate))
	addRow("group page p99", "ms", ms(st.pct(.99)), ms(base.pct(.99)), "", nil)
	addRow("group page errors", "requests", float64(st.errs), 0, "0", benchsum.Met(st.errs == 0))
}

// ---- posting ----

// BenchmarkPosting: 16 members, each on its own connection and session, POST
// ~1 KB Markdown replies (list, link, bold) as JSON into a spread of threads.
// The per-account limit (10 posts a minute by default) is raised for this
// benchmark only. Afterwards every 201 must be a row, and no row may lack a 201.
func BenchmarkPosting(b *testing.B) {
	needDB(b)
	d := data(b)
	def := config.Config{}
	if c, err := config.FromEnv(func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "FORUM_PUBLIC_URL": "http://127.0.0.1"}[k]
	}); err == nil {
		def = c
	}
	// 1,000 posts/s (SPEC §8) is many people writing, each under the
	// per-account limit (10 a minute by default): by default every client
	// posts as -loadtest.authors accounts in turn, at the production limit.
	// With one account per client the limit must be raised, and the rate
	// check then counts each author's hundreds of posts of the last minute
	// twice per reply, work a real author's ≤ 10 never cause (it was 2.5 of
	// PostgreSQL's 6.1 ms CPU per post).
	limit := def.PostsPerMinute
	if *authors <= 1 {
		limit = 10_000_000
	}
	env, qc := testkit.StartCounting(b, dbURL, func(c *config.Config) { c.PostsPerMinute = limit })
	side := testkit.Open(b, dbURL)
	ctx := context.Background()
	if limit != def.PostsPerMinute {
		b.Logf("posting: one account per client, per-account rate limit raised from %d to %d posts/min (config.PostsPerMinute)", def.PostsPerMinute, limit)
	}

	type poster struct {
		rng     *rand.Rand
		authors []session
		turn    int
	}
	workers := make([]*worker, len(d.posterEmails))
	for i, email := range d.posterEmails {
		s := login(b, env, email)
		workers[i] = newWorker(i, s.cookie, s.csrf)
		p := &poster{rng: rand.New(rand.NewPCG(uint64(i), 99)), authors: []session{s}}
		if *authors > 1 {
			p.authors = postingAuthors(b, side, d.posterIDs[i], i, *authors)
		}
		workers[i].state = p
	}
	var seq atomic.Int64
	next := func(w *worker, _ int64) op {
		p := w.state.(*poster)
		tid := d.postThreads[p.rng.IntN(len(d.postThreads))]
		as := &p.authors[p.turn%len(p.authors)]
		p.turn++
		body, _ := json.Marshal(map[string]string{"body": postingBody(w.id, seq.Add(1))})
		return op{method: http.MethodPost, path: fmt.Sprintf("/api/v1/threads/%d/posts", tid), body: body, want: http.StatusCreated, as: as}
	}

	// One post first: it is rendered and sanitized as expected.
	if err := workers[0].do(env.URL, next(workers[0], 0)); err != nil {
		b.Fatal(err)
	}
	var created struct {
		BodyHTML string `json:"body_html"`
	}
	if err := json.Unmarshal(workers[0].buf.Bytes(), &created); err != nil {
		b.Fatal(err)
	}
	for _, want := range []string{"<strong>", "<ul>", `href="https://gwd.example.pl/materialy/siec-szkol-wzor.xlsx" rel="nofollow ugc noopener"`} {
		if !strings.Contains(created.BodyHTML, want) {
			b.Fatalf("posted HTML lacks %s: %.300s", want, created.BodyHTML)
		}
	}
	if n := len(postingBody(0, 1)); n < 950 || n > 1300 {
		b.Fatalf("posting body is %d bytes, want about 1 KB", n)
	}
	for _, w := range workers {
		w.byStatus = map[int]int64{}
	}
	workers[0].tr.CloseIdleConnections() // every client opens its connection in the load
	var maxID, revsBefore int64
	if err := side.GetContext(ctx, &maxID, `SELECT max(id) FROM posts`); err != nil {
		b.Fatal(err)
	}
	if err := side.GetContext(ctx, &revsBefore, `SELECT count(*) FROM post_revisions`); err != nil {
		b.Fatal(err)
	}

	q0, n0, bg0, wal0 := qc.Load(), qc.Notifies(), qc.Background(), currentWAL(b, side)
	// The replies fill tables the seed left (nearly) empty — auto-watches,
	// read positions, notifications, mails — so the plans cached at the seed's
	// ANALYZE go stale (a sequential scan of thread_watches, seen in
	// auto_explain). In production autovacuum analyzes them as they grow;
	// the test servers here run with autovacuum off, so the benchmark
	// analyzes them once, late in the warm-up (PostgreSQL then replans).
	settle := func() {
		if _, err := side.ExecContext(ctx, `ANALYZE thread_watches, thread_reads, notifications, mails, search_post_backlog`); err != nil {
			b.Errorf("posting: analyze during the warm-up: %v", err)
		}
	}
	st := runLoad(b, loadSpec{name: "posting", base: env.URL, workers: workers, next: next, cats: []string{"all"}, settle: settle})
	perPost := float64(qc.Load()-q0) / float64(st.total)
	// The search indexer's batches (its statements are counted apart).
	backgroundPerPost := float64(qc.Background()-bg0) / float64(st.total)
	notifiesPerPost := float64(qc.Notifies()-n0) / float64(st.total)
	walPerPost := walBytesSince(b, side, wal0) / float64(st.total)

	// Nothing lost, nothing extra, and the threads still agree with their posts.
	answered := st.byStatus[http.StatusCreated]
	var rows, revs, badThreads int64
	if err := side.GetContext(ctx, &rows, `SELECT count(*) FROM posts WHERE id > $1`, maxID); err != nil {
		b.Fatal(err)
	}
	if err := side.GetContext(ctx, &revs, `SELECT count(*) FROM post_revisions`); err != nil {
		b.Fatal(err)
	}
	if err := side.GetContext(ctx, &badThreads, `
		SELECT count(*) FROM threads t
		JOIN LATERAL (SELECT count(*) AS n, max(position) AS top FROM posts p WHERE p.thread_id = t.id) c ON true
		WHERE t.post_count <> c.n OR t.post_count <> COALESCE(c.top, 0)`); err != nil {
		b.Fatal(err)
	}
	if rows != answered {
		b.Errorf("posting: %d rows added but %d answers 201 Created", rows, answered)
	}
	// A new post is its own first version: revisions are written at the
	// first edit (migration 22), never by a reply.
	if revs-revsBefore != 0 {
		b.Errorf("posting: %d revision rows added for %d new posts, want none", revs-revsBefore, rows)
	}
	if badThreads != 0 {
		b.Errorf("posting: %d threads whose post_count disagrees with their posts (gaps or lost rows)", badThreads)
	}

	st.report(b, "posts/s")
	b.ReportMetric(perPost, "queries/post")
	b.ReportMetric(notifiesPerPost, "notifies/post")
	b.ReportMetric(backgroundPerPost, "indexer-queries/post")
	b.ReportMetric(walPerPost, "WAL-B/post")
	b.Logf("%s", st.line("posts/s"))
	b.Logf("posting: %d answered 201, %d rows added, %d revisions added, %d inconsistent threads; %d threads targeted; %.2f SQL statements per post (+ BEGIN/COMMIT), %.3f of the search indexer's; %.1f KB of WAL per post",
		answered, rows, revs-revsBefore, badThreads, len(d.postThreads), perPost, backgroundPerPost, walPerPost/1024)
	ok := st.rate >= postingRate && ms(st.pct(.99)) <= postingP99 && st.errs == 0 && rows == answered
	addSummary("posting (JSON, ~1 KB Markdown + sanitizing), 16 clients",
		fmt.Sprintf("%.0f posts/s, p50 %.2f ms, p99 %.2f ms, %d errors; %d × 201 = %d rows", st.rate, ms(st.pct(.5)), ms(st.pct(.99)), st.errs, answered, rows),
		"≥ 1,000 posts/s, p99 ≤ 50 ms", verdict(ok))
	noBase := "none in the same run: SPEC §8's anchor is the target"
	r := benchsum.NewRow("forum", "posting", "posts/s", st.rate, 0, "≥ 1,000 posts/s", benchsum.Met(st.rate >= postingRate))
	r.BaselineNote = noBase
	addRawRow(r)
	r = benchsum.NewRow("forum", "posting p99", "ms", ms(st.pct(.99)), 0, "≤ 50 ms", benchsum.Met(ms(st.pct(.99)) <= postingP99))
	r.BaselineNote = noBase
	addRawRow(r)
	addRow("posting statements", "per post", perPost, 0, "≤ 5 (issue 16)", benchsum.Met(perPost <= 5))
	addRow("posting errors or lost rows", "requests", float64(st.errs)+float64(max(rows, answered)-min(rows, answered)), 0, "0",
		benchsum.Met(st.errs == 0 && rows == answered))
	who := fmt.Sprintf("%d accounts (%d per client) at the production limit of %d posts/min", len(workers)*max(*authors, 1), *authors, limit)
	if limit != def.PostsPerMinute {
		who = fmt.Sprintf("one account per client, the per-account limit raised from %d to %d posts/min", def.PostsPerMinute, limit)
	}
	addNote("posting ran as %s; %.2f statements per post (+ BEGIN/COMMIT), of which %.2f the live bridge's NOTIFYs after the commits; %.1f KB of WAL per post",
		who, perPost, notifiesPerPost, walPerPost/1024)
}

// postingAuthors adds n accounts like the poster posterID (same JST, same
// memberships) for client i of the posting benchmark, each with a session
// made in SQL: n sign-ins would spend minutes in argon2id.
func postingAuthors(b *testing.B, db *sqlx.DB, posterID int64, i, n int) []session {
	b.Helper()
	ctx := context.Background()
	var ids []int64
	if err := db.SelectContext(ctx, &ids, `
		INSERT INTO users (email, display_name, job_title, jst_id, role, password_hash)
		SELECT format('autor-%s-%s@bench.example', $2::int, k), format('%s (%s)', p.display_name, k), p.job_title, p.jst_id, p.role, p.password_hash
		FROM users p, generate_series(1, $3::int) AS k
		WHERE p.id = $1
		ORDER BY k
		RETURNING id`, posterID, i, n); err != nil {
		b.Fatalf("posting authors of client %d: %v", i, err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO memberships (user_id, group_id, role, created_at)
		SELECT u, m.group_id, m.role, m.created_at FROM unnest($1::bigint[]) AS u, memberships m WHERE m.user_id = $2`,
		pq.Array(ids), posterID); err != nil {
		b.Fatalf("memberships of the posting authors of client %d: %v", i, err)
	}
	out := make([]session, len(ids))
	tokens, csrfs := make([]string, len(ids)), make([]string, len(ids))
	for k := range ids {
		tokens[k], csrfs[k] = crand.Text(), crand.Text()
		out[k] = session{cookie: "forumjst_session=" + tokens[k], csrf: csrfs[k]}
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
		SELECT sha256(convert_to(t, 'UTF8')), u, c, now() + interval '1 day'
		FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(u, t, c)`,
		pq.Array(ids), pq.Array(tokens), pq.Array(csrfs)); err != nil {
		b.Fatalf("sessions of the posting authors of client %d: %v", i, err)
	}
	return out
}
