package loadtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Shape of the data set. Post counts per thread are exponential (most threads
// short, a long tail) plus a few very long threads; the total is ≈ 110,000.
const (
	nUsers       = 300
	nThreads     = 2000
	meanPosts    = 52.0
	maxPosts     = 450
	benchUserIdx = 10 // the member whose pages are benchmarked
	firstPoster  = 20 // posting clients are users firstPoster … firstPoster+conns-1
)

// groupDefs: the biggest group first (the group page benchmark's), common last.
var groupDefs = []struct {
	name, kind  string
	threadShare float64 // share of threads
	userWeight  float64 // weight as a primary group (common: none)
}{
	{"GWD gmin wiejskich – Mazowsze", model.KindRural, 0.30, 0.30},
	{"GWD gmin wiejskich – Podkarpacie", model.KindRural, 0.12, 0.13},
	{"GWD gmin wiejskich – Lubelszczyzna", model.KindRural, 0.10, 0.11},
	{"GWD gmin miejskich – Śląsk", model.KindUrban, 0.10, 0.12},
	{"GWD miast średnich", model.KindUrban, 0.10, 0.12},
	{"GWD powiatów – Wielkopolska", model.KindCounty, 0.09, 0.11},
	{"GWD powiatów – Pomorze", model.KindCounty, 0.09, 0.11},
	{"Forum ogólne programu", model.KindCommon, 0.10, 0},
}

const (
	bigGroupIdx    = 0
	benchOtherIdx  = 3 // the benchmark member's second group
	commonGroupIdx = 7
)

// long threads (group index, posts) for "page N of a long thread".
var longThreads = []struct{ group, posts int }{{0, 2500}, {0, 900}, {commonGroupIdx, 1500}, {commonGroupIdx, 600}}

type seededThread struct {
	id                   int64
	group                int
	author               int64
	title                string
	pinned, locked, hide bool
	posts                int
	created, last        time.Time
}

// pageRef is one thread page of the thread-page rotation.
type pageRef struct {
	thread int64
	page   int
	long   bool // page ≥ 2 of a thread of ≥ 500 posts
}

type dataset struct {
	took                                                                 time.Duration
	users, groups, memberships, threads, posts, revisions, reads, tareas int64
	dbSize                                                               string

	groupIDs         []int64
	bigGroup         int64
	bigGroupThreads  int // visible to a member
	bigGroupPages    int // full pages of 50 threads
	benchEmail       string
	benchUserID      int64
	posterEmails     []string
	posterIDs        []int64
	threadPages      []pageRef // the benchmark member's full 50-post pages, page-major order
	longPages        int
	readableThreads  int
	postThreads      []int64 // open threads the posters may write in
	longThreadIDs    []int64
	longest          seededThread
	shortFullPage    pageRef // a page 1 of an ordinary thread with 50–99 posts
	distinctBodies   int
	benchUserReads   int64
	maxSeededPostID  int64
	seededPostCounts map[int64]int
}

var (
	seedOnce sync.Once
	seeded   *dataset
	seedErr  error
)

// data builds the data set once per process (in the first benchmark that needs it).
func data(b *testing.B) *dataset {
	b.Helper()
	seedOnce.Do(func() {
		seeded, seedErr = buildDataset(b)
		if seedErr == nil {
			b.Logf("data set: %s", seeded.describe())
			addNote("data set: %s", seeded.describe())
		}
	})
	if seedErr != nil {
		b.Fatalf("build data set: %v", seedErr)
	}
	if seeded == nil {
		b.Fatal("data set was not built (failed in an earlier benchmark)")
	}
	return seeded
}

func (d *dataset) describe() string {
	return fmt.Sprintf("%d posts (%d distinct rendered bodies, %d revisions) in %d threads (%d thread_areas) in %d groups, %d users, %d memberships, %d read positions (%d of the benchmark member); database %s; seeded with SQL + VACUUM ANALYZE in %.1f s",
		d.posts, d.distinctBodies, d.revisions, d.threads, d.tareas, d.groups, d.users, d.memberships, d.reads, d.benchUserReads, d.dbSize, d.took.Seconds())
}

func asciiLower(s string) string {
	return strings.ToLower(strings.NewReplacer("ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z",
		"Ą", "A", "Ć", "C", "Ę", "E", "Ł", "L", "Ń", "N", "Ó", "O", "Ś", "S", "Ź", "Z", "Ż", "Z", " ", "-").Replace(s))
}

func pickWeighted(rng *rand.Rand, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	x := rng.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func buildDataset(b *testing.B) (*dataset, error) {
	db := testkit.Open(b, dbURL) // migrates; closed when this benchmark ends
	ctx := context.Background()
	start := time.Now()
	now := start.Truncate(time.Second)
	rng := rand.New(rand.NewPCG(20260315, 8))
	d := &dataset{seededPostCounts: map[int64]int{}}
	nPosters := *conns
	if firstPoster+nPosters > nUsers {
		return nil, fmt.Errorf("-loadtest.conns %d: at most %d posting accounts", nPosters, nUsers-firstPoster)
	}

	hash, err := accounts.HashPassword(testkit.Password, accounts.DefaultArgon2)
	if err != nil {
		return nil, err
	}
	md := markup.New()
	htmls := make([]string, len(bodies))
	for i, src := range bodies {
		if htmls[i], err = md.Render(src); err != nil {
			return nil, err
		}
	}
	d.distinctBodies = len(bodies)

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%.80s…: %w", strings.TrimSpace(q), err)
		}
		return nil
	}
	if err := exec(`SET LOCAL work_mem = '128MB'`); err != nil {
		return nil, err
	}

	// Local government units.
	var jName, jKind, jVoiv, jTeryt []string
	for i, p := range places {
		jName = append(jName, p)
		jKind = append(jKind, model.JSTKinds[i%len(model.JSTKinds)])
		jVoiv = append(jVoiv, voivodeships[i%len(voivodeships)])
		jTeryt = append(jTeryt, fmt.Sprintf("%07d", 1401000+i*1013))
	}
	var jstIDs []int64
	if err := tx.SelectContext(ctx, &jstIDs, `
		INSERT INTO jst (name, kind, voivodeship, teryt)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) RETURNING id`,
		pq.Array(jName), pq.Array(jKind), pq.Array(jVoiv), pq.Array(jTeryt)); err != nil {
		return nil, fmt.Errorf("insert jst: %w", err)
	}

	// Users: one admin, two staff, the rest members; all share the fixture password.
	var uEmail, uName, uJob, uRole, uCreated []string
	var uJST []int64
	for i := range nUsers {
		first, last := firstNames[(i*7)%len(firstNames)], lastNames[(i*11+i/len(lastNames))%len(lastNames)]
		uEmail = append(uEmail, fmt.Sprintf("u%03d.%s@gminy.example.pl", i, asciiLower(last)))
		uName = append(uName, first+" "+last)
		uJob = append(uJob, jobTitles[i%len(jobTitles)])
		uJST = append(uJST, jstIDs[i%len(jstIDs)])
		role := model.RoleMember
		switch {
		case i == 0:
			role = model.RoleAdmin
		case i <= 2:
			role = model.RoleStaff
		}
		uRole = append(uRole, role)
		uCreated = append(uCreated, now.Add(-time.Duration(800-i)*24*time.Hour).Format(time.RFC3339))
	}
	var urows []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}
	if err := tx.SelectContext(ctx, &urows, `
		INSERT INTO users (email, display_name, job_title, jst_id, role, password_hash, created_at, updated_at)
		SELECT e, n, j, s, r, $7, c, c FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[]) AS x(e, n, j, s, r, c)
		RETURNING id, email`,
		pq.Array(uEmail), pq.Array(uName), pq.Array(uJob), pq.Array(uJST), pq.Array(uRole), pq.Array(uCreated), hash); err != nil {
		return nil, fmt.Errorf("insert users: %w", err)
	}
	idByEmail := map[string]int64{}
	for _, r := range urows {
		idByEmail[r.Email] = r.ID
	}
	userID := make([]int64, nUsers)
	for i, e := range uEmail {
		userID[i] = idByEmail[e]
	}
	d.benchEmail, d.benchUserID = uEmail[benchUserIdx], userID[benchUserIdx]
	for i := firstPoster; i < firstPoster+nPosters; i++ {
		d.posterEmails = append(d.posterEmails, uEmail[i])
		d.posterIDs = append(d.posterIDs, userID[i])
	}

	// Groups.
	var gName, gSlug, gKind, gDesc []string
	for i, g := range groupDefs {
		gName = append(gName, g.name)
		gSlug = append(gSlug, fmt.Sprintf("%s-%d", asciiLower(g.name), i))
		gKind = append(gKind, g.kind)
		gDesc = append(gDesc, "Gminna wspólnota działania: wymiana doświadczeń w zarządzaniu oświatą.")
	}
	var grows []struct {
		ID   int64  `db:"id"`
		Slug string `db:"slug"`
	}
	if err := tx.SelectContext(ctx, &grows, `
		INSERT INTO groups (name, slug, kind, description, created_at)
		SELECT n, s, k, d, now() - interval '800 days' FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(n, s, k, d)
		RETURNING id, slug`, pq.Array(gName), pq.Array(gSlug), pq.Array(gKind), pq.Array(gDesc)); err != nil {
		return nil, fmt.Errorf("insert groups: %w", err)
	}
	gidBySlug := map[string]int64{}
	for _, r := range grows {
		gidBySlug[r.Slug] = r.ID
	}
	for _, s := range gSlug {
		d.groupIDs = append(d.groupIDs, gidBySlug[s])
	}
	d.bigGroup = d.groupIDs[bigGroupIdx]

	// Memberships: every member has a primary group, a fifth a second one; two
	// moderators per group, a few observers. The benchmark member is in the
	// biggest group and one other; the posters are plain members of the biggest.
	weights := make([]float64, commonGroupIdx)
	for i := range weights {
		weights[i] = groupDefs[i].userWeight
	}
	type mship struct {
		user  int
		group int
		role  string
	}
	var ms []mship
	mods := make([]int, len(groupDefs))
	special := func(i int) bool { return i == benchUserIdx || (i >= firstPoster && i < firstPoster+nPosters) }
	for i := 3; i < nUsers; i++ {
		var groups []int
		switch {
		case i == benchUserIdx:
			groups = []int{bigGroupIdx, benchOtherIdx}
		case special(i):
			groups = []int{bigGroupIdx}
		default:
			groups = []int{pickWeighted(rng, weights)}
			if rng.Float64() < 0.2 {
				if g2 := pickWeighted(rng, weights); g2 != groups[0] {
					groups = append(groups, g2)
				}
			}
		}
		for _, g := range groups {
			role := model.GroupMember
			switch {
			case special(i):
			case mods[g] < 2:
				role, mods[g] = model.GroupModerator, mods[g]+1
			case rng.Float64() < 0.05:
				role = model.GroupObserver
			}
			ms = append(ms, mship{i, g, role})
		}
	}
	var mUser, mGroup []int64
	var mRole []string
	pools := make([][]int64, len(groupDefs)) // who writes in each group
	for _, m := range ms {
		mUser, mGroup, mRole = append(mUser, userID[m.user]), append(mGroup, d.groupIDs[m.group]), append(mRole, m.role)
		if m.role != model.GroupObserver {
			pools[m.group] = append(pools[m.group], userID[m.user])
		}
	}
	pools[commonGroupIdx] = userID[3:] // everyone writes in the common group
	if err := exec(`
		INSERT INTO memberships (user_id, group_id, role, created_at)
		SELECT u, g, r, now() - interval '700 days' FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS x(u, g, r)`,
		pq.Array(mUser), pq.Array(mGroup), pq.Array(mRole)); err != nil {
		return nil, err
	}

	// Threads, with ids taken up front so Go knows every thread's shape.
	var tids []int64
	if err := tx.SelectContext(ctx, &tids, `SELECT nextval(pg_get_serial_sequence('threads', 'id')) FROM generate_series(1, $1)`,
		nThreads+len(longThreads)); err != nil {
		return nil, fmt.Errorf("thread ids: %w", err)
	}
	shares := make([]float64, len(groupDefs))
	for i, g := range groupDefs {
		shares[i] = g.threadShare
	}
	threads := make([]seededThread, 0, len(tids))
	for i := range nThreads {
		g := pickWeighted(rng, shares)
		n := min(maxPosts, 1+int(rng.ExpFloat64()*meanPosts))
		created := now.Add(-time.Duration(12+rng.Float64()*730*24) * time.Hour)
		span := time.Duration(float64(n) * (0.25 + rng.Float64()*6) * float64(time.Hour))
		last := created.Add(span)
		if limit := now.Add(-time.Duration(1+rng.IntN(120)) * time.Minute); last.After(limit) {
			last = limit
		}
		if n == 1 || last.Before(created) {
			last = created
		}
		threads = append(threads, seededThread{id: tids[i], group: g, author: pools[g][rng.IntN(len(pools[g]))],
			title: threadTitle(i), pinned: i%150 == 7, locked: rng.Float64() < 0.01, hide: rng.Float64() < 0.005,
			posts: n, created: created, last: last})
	}
	for j, lt := range longThreads {
		created := now.Add(-400 * 24 * time.Hour)
		threads = append(threads, seededThread{id: tids[nThreads+j], group: lt.group, author: pools[lt.group][j],
			title: fmt.Sprintf("%s – wątek zbiorczy %d", topics[(j*7)%len(topics)], j+1),
			posts: lt.posts, created: created, last: now.Add(-30 * time.Minute)})
	}
	var tID, tGroup, tAuthor []int64
	var tTitle, tCreated, tLast []string
	var tPinned, tLocked, tHidden []bool
	var tPosts []int64
	for _, t := range threads {
		tID, tGroup, tAuthor = append(tID, t.id), append(tGroup, d.groupIDs[t.group]), append(tAuthor, t.author)
		tTitle = append(tTitle, t.title)
		tCreated, tLast = append(tCreated, t.created.Format(time.RFC3339)), append(tLast, t.last.Format(time.RFC3339))
		tPinned, tLocked, tHidden = append(tPinned, t.pinned), append(tLocked, t.locked), append(tHidden, t.hide)
		tPosts = append(tPosts, int64(t.posts))
		d.seededPostCounts[t.id] = t.posts
	}
	if err := exec(`
		INSERT INTO threads (id, group_id, title, author_id, pinned, locked, hidden, post_count, created_at, last_activity_at)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bool[], $6::bool[], $7::bool[],
		                     $8::int[], $9::timestamptz[], $10::timestamptz[])`,
		pq.Array(tID), pq.Array(tGroup), pq.Array(tTitle), pq.Array(tAuthor), pq.Array(tPinned), pq.Array(tLocked),
		pq.Array(tHidden), pq.Array(tPosts), pq.Array(tCreated), pq.Array(tLast)); err != nil {
		return nil, err
	}

	// Support areas on about 70% of threads, one to three each.
	var areaIDs []int64
	if err := tx.SelectContext(ctx, &areaIDs, `SELECT id FROM support_areas ORDER BY position, id`); err != nil {
		return nil, err
	}
	var taThread, taArea []int64
	for _, t := range threads {
		if rng.Float64() < 0.3 {
			continue
		}
		for _, k := range rng.Perm(len(areaIDs))[:1+rng.IntN(3)] {
			taThread, taArea = append(taThread, t.id), append(taArea, areaIDs[k])
		}
	}
	if err := exec(`INSERT INTO thread_areas (thread_id, area_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])`,
		pq.Array(taThread), pq.Array(taArea)); err != nil {
		return nil, err
	}

	// Posts, generated in SQL in chronological order (so the heap interleaves
	// threads as a real forum's does): authors from the group's writers, bodies
	// from the rendered corpus, ~3% edited, ~0.5% deleted, 0.1% hidden.
	var pGroup, pUser []int64
	for g, pool := range pools {
		for _, u := range pool {
			pGroup, pUser = append(pGroup, d.groupIDs[g]), append(pUser, u)
		}
	}
	if err := exec(`CREATE TEMP TABLE lt_pool (group_id bigint PRIMARY KEY, ids bigint[] NOT NULL) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	if err := exec(`INSERT INTO lt_pool SELECT g, array_agg(u ORDER BY u) FROM unnest($1::bigint[], $2::bigint[]) AS x(g, u) GROUP BY g`,
		pq.Array(pGroup), pq.Array(pUser)); err != nil {
		return nil, err
	}
	if err := exec(`
		INSERT INTO posts (thread_id, position, author_id, body, body_html, version, created_at, edited_at, edited_by,
		                   deleted_at, deleted_by, hidden, hidden_reason)
		SELECT x.thread_id, x.pos, x.author_id, ($1::text[])[x.k], ($2::text[])[x.k],
		       CASE WHEN x.r < 30 THEN 2 ELSE 1 END, x.at,
		       CASE WHEN x.r < 30 THEN x.at + interval '17 minutes' END,
		       CASE WHEN x.r < 30 THEN x.author_id END,
		       CASE WHEN x.r BETWEEN 30 AND 34 THEN x.at + interval '1 hour' END,
		       CASE WHEN x.r BETWEEN 30 AND 34 THEN x.author_id END,
		       x.r = 35, CASE WHEN x.r = 35 THEN 'Wpis narusza regulamin forum.' ELSE '' END
		FROM (
		    SELECT t.id AS thread_id, s.pos,
		           CASE WHEN s.pos = 1 THEN t.author_id
		                ELSE p.ids[1 + mod(hashint8(t.id * 100003 + s.pos)::bigint + 2147483648, cardinality(p.ids))::int] END AS author_id,
		           1 + mod(hashint8(t.id * 7919 + s.pos * 31)::bigint + 2147483648, $3::bigint)::int AS k,
		           mod(hashint8(t.id * 104729 + s.pos * 17)::bigint + 2147483648, 1000) AS r,
		           t.created_at + (t.last_activity_at - t.created_at) * ((s.pos - 1)::float8 / greatest(t.post_count - 1, 1)) AS at
		    FROM threads t
		    JOIN lt_pool p ON p.group_id = t.group_id
		    CROSS JOIN LATERAL generate_series(1, t.post_count) AS s(pos)
		    WHERE t.id = ANY($4)
		    ORDER BY at, t.id, s.pos
		    OFFSET 0
		) x`, pq.Array(bodies), pq.Array(htmls), len(bodies), pq.Array(tID)); err != nil {
		return nil, err
	}
	// About 8% of posts answer one of the three posts before them.
	if err := exec(`
		UPDATE posts p SET reply_to = q.id
		FROM posts q
		WHERE q.thread_id = p.thread_id AND q.position = p.position - 1 - mod(p.id, 3)::int
		  AND p.position > 4 AND mod(p.id, 12) = 0 AND p.thread_id = ANY($1)`, pq.Array(tID)); err != nil {
		return nil, err
	}
	if err := exec(`
		INSERT INTO post_revisions (post_id, version, body, editor_id, created_at)
		SELECT id, 1, body, author_id, created_at FROM posts WHERE thread_id = ANY($1) AND version = 2
		UNION ALL
		SELECT id, 2, body, author_id, edited_at FROM posts WHERE thread_id = ANY($1) AND version = 2`, pq.Array(tID)); err != nil {
		return nil, err
	}

	// With -loadtest.watches, watches as the forum leaves them: posting in a
	// thread makes one watch it (the auto-watch), so everyone who wrote in a
	// thread watches it. Off by default, so that the rows stay comparable
	// with issue 16's first figures, whose seed had almost none.
	if *watches {
		if err := exec(`
			INSERT INTO thread_watches (user_id, thread_id, state, updated_at)
			SELECT author_id, thread_id, 'watch', min(created_at) FROM posts WHERE thread_id = ANY($1)
			GROUP BY author_id, thread_id`, pq.Array(tID)); err != nil {
			return nil, err
		}
	}

	// Read positions: members have opened ~60% of their groups' threads (half of
	// those read to the end), and everyone ~20% of the common group's.
	const readPos = `CASE WHEN mod(x.h, 2) = 0 THEN x.post_count ELSE greatest(1, x.post_count * mod(x.h, 100) / 100) END`
	if err := exec(`
		INSERT INTO thread_reads (user_id, thread_id, last_position, updated_at)
		SELECT x.user_id, x.thread_id, ` + readPos + `, x.last_activity_at
		FROM (SELECT m.user_id, t.id AS thread_id, t.post_count, t.last_activity_at,
		             hashint8(m.user_id * 1000003 + t.id)::bigint + 2147483648 AS h
		      FROM memberships m JOIN threads t ON t.group_id = m.group_id) x
		WHERE mod(x.h, 10) < 6`); err != nil {
		return nil, err
	}
	if err := exec(`
		INSERT INTO thread_reads (user_id, thread_id, last_position, updated_at)
		SELECT x.user_id, x.thread_id, `+readPos+`, x.last_activity_at
		FROM (SELECT u.id AS user_id, t.id AS thread_id, t.post_count, t.last_activity_at,
		             hashint8(u.id * 1000003 + t.id)::bigint + 2147483648 AS h
		      FROM users u JOIN threads t ON t.group_id = $1) x
		WHERE mod(x.h, 10) < 2
		ON CONFLICT DO NOTHING`, d.groupIDs[commonGroupIdx]); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// The seeded posts' search documents, written now rather than by the
	// server's indexer in the middle of a measured window.
	if _, err := store.IndexPostBacklog(ctx, db, math.MaxInt32, false); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return nil, fmt.Errorf("vacuum analyze: %w", err)
	}
	d.took = time.Since(start)

	if err := db.QueryRowxContext(ctx, `
		SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM groups), (SELECT count(*) FROM memberships),
		       (SELECT count(*) FROM threads), (SELECT count(*) FROM posts), (SELECT count(*) FROM post_revisions),
		       (SELECT count(*) FROM thread_reads), (SELECT count(*) FROM thread_areas),
		       (SELECT count(*) FROM thread_reads WHERE user_id = $1), (SELECT max(id) FROM posts),
		       pg_size_pretty(pg_database_size(current_database()))`, d.benchUserID).
		Scan(&d.users, &d.groups, &d.memberships, &d.threads, &d.posts, &d.revisions, &d.reads, &d.tareas,
			&d.benchUserReads, &d.maxSeededPostID, &d.dbSize); err != nil {
		return nil, err
	}

	d.plan(threads, rng)
	if len(d.threadPages) < 200 || d.longPages == 0 || d.shortFullPage.thread == 0 || d.bigGroupPages < 2 {
		return nil, fmt.Errorf("data set too small for the benchmarks: %d pages (%d long), big group %d pages",
			len(d.threadPages), d.longPages, d.bigGroupPages)
	}
	return d, nil
}

// plan derives what the benchmarks request from the seeded shape.
func (d *dataset) plan(threads []seededThread, rng *rand.Rand) {
	readable := map[int]bool{bigGroupIdx: true, benchOtherIdx: true, commonGroupIdx: true}
	var mine []seededThread
	for _, t := range threads {
		if t.group == bigGroupIdx && !t.hide {
			d.bigGroupThreads++
		}
		if (t.group == bigGroupIdx || t.group == commonGroupIdx) && !t.hide && !t.locked {
			d.postThreads = append(d.postThreads, t.id)
		}
		if t.posts >= 500 {
			d.longThreadIDs = append(d.longThreadIDs, t.id)
			if t.posts > d.longest.posts {
				d.longest = t
			}
		}
		if readable[t.group] && !t.hide {
			mine = append(mine, t)
			if d.shortFullPage.thread == 0 && t.posts >= 50 && t.posts < 100 {
				d.shortFullPage = pageRef{thread: t.id, page: 1}
			}
		}
	}
	d.readableThreads = len(mine)
	d.bigGroupPages = d.bigGroupThreads / forum.PageSize
	// Page-major order (every thread's page 1, then every page 2, …) over a
	// shuffled thread order: each thread's pages come in reading order, far apart.
	rng.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
	for p := 1; ; p++ {
		added := false
		for _, t := range mine {
			if p*forum.PageSize <= t.posts {
				long := t.posts >= 500 && p >= 2
				d.threadPages = append(d.threadPages, pageRef{thread: t.id, page: p, long: long})
				if long {
					d.longPages++
				}
				added = true
			}
		}
		if !added {
			break
		}
	}
}

// resetReads moves the benchmark member's read positions back to the start, so
// the next round of page views advances (writes) them again. It runs on the
// benchmark's own pool, outside the server and its statement counter.
func resetReads(ctx context.Context, db *sqlx.DB, userID int64) error {
	_, err := db.ExecContext(ctx, `UPDATE thread_reads SET last_position = 0 WHERE user_id = $1 AND last_position > 0`, userID)
	return err
}
