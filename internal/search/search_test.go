package search_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

type fixture struct {
	t   *testing.T
	db  *sqlx.DB
	svc *search.Service
}

func newFixture(t *testing.T) *fixture {
	db := testkit.Open(t, dbURL)
	svc, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, svc: svc}
}

func (f *fixture) exec(query string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.Get(&id, query, args...); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return id
}

func (f *fixture) actor(u testkit.User) *access.Actor {
	ms, err := store.ListUserMemberships(context.Background(), f.db, u.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return access.NewActor(u.User, ms)
}

func (f *fixture) member(g model.Group, role string) testkit.User {
	u := testkit.NewUser(f.t, f.db, model.RoleMember)
	if _, err := store.PutMembership(context.Background(), f.db, u.ID, g.ID, role); err != nil {
		f.t.Fatal(err)
	}
	return u
}

// content puts one thing of every kind into g, each saying text.
type content struct{ thread, post, meeting, note, message, file int64 }

func (f *fixture) content(g model.Group, author int64, title, text string) content {
	var c content
	c.thread = f.exec(`INSERT INTO threads (group_id, title, author_id, post_count) VALUES ($1, $2, $3, 1) RETURNING id`, g.ID, title, author)
	c.post = f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html) VALUES ($1, 1, $2, $3, '') RETURNING id`, c.thread, author, text)
	c.meeting = f.exec(`INSERT INTO meetings (group_id, title, starts_at, ends_at, agenda, created_by)
		VALUES ($1, $2, now(), now() + interval '1 hour', $3, $4) RETURNING id`, g.ID, title, text, author)
	c.note = f.exec(`INSERT INTO notes (meeting_id, author_id, title, body, body_html) VALUES ($1, $2, $3, $4, '') RETURNING id`, c.meeting, author, title, text)
	c.message = f.exec(`INSERT INTO chat_messages (meeting_id, seq, author_id, client_id, body, body_html)
		VALUES ($1, 1, $2, gen_random_uuid(), $3, '') RETURNING id`, c.meeting, author, text)
	c.file = f.exec(`INSERT INTO attachments (meeting_id, uploader_id, filename, kind, size_bytes, checksum)
		VALUES ($1, $2, $3, 'pdf', 10, repeat('a', 64)) RETURNING id`, c.meeting, author, strings.ReplaceAll(title, " ", "_")+".pdf")
	return c
}

func (f *fixture) search(a *access.Actor, in search.Input) search.Result {
	f.t.Helper()
	r, err := f.svc.Search(context.Background(), a, in)
	if err != nil {
		f.t.Fatalf("search %+v: %v", in, err)
	}
	return r
}

type key struct {
	typ string
	id  int64
}

func keys(r search.Result) map[key]bool {
	m := map[key]bool{}
	for _, h := range r.Items {
		m[key{h.Type, h.ID}] = true
	}
	return m
}

// "oswiata zlobek" typed without Polish letters finds the rural group's
// thread and note; a rural member finds nothing of the urban group through any
// kind of hit, with or without filters; staff find both.
func TestSearchPolishFoldingAndGroupsInSQL(t *testing.T) {
	f := newFixture(t)
	rural, urban := testkit.NewGroup(t, f.db, model.KindRural), testkit.NewGroup(t, f.db, model.KindUrban)
	m := f.member(rural, model.GroupMember)
	other := f.member(urban, model.GroupMember)
	mine := f.content(rural, m.ID, "Żłobek gminny i oświata", "Plan: żłobek przy szkole, oświata w Dopiewie.")
	theirs := f.content(urban, other.ID, "Żłobek miejski i oświata", "Nasz żłobek i oświata w Łodzi.")
	a := f.actor(m)

	got := keys(f.search(a, search.Input{Q: "oswiata zlobek"}))
	for _, k := range []key{{"thread", mine.thread}, {"post", mine.post}, {"meeting", mine.meeting}, {"note", mine.note}, {"message", mine.message}} {
		if !got[k] {
			t.Errorf("missing own %v in %v", k, got)
		}
	}
	for _, in := range []search.Input{
		{Q: "oswiata zlobek"}, {Q: "zlobek", Sort: "newest"}, {Q: "lodz"}, {Q: "miejski"}, {Q: "oswiata", GroupID: fmt.Sprint(urban.ID)},
		{Q: "oswiata", Kind: model.KindUrban}, {Q: "oswiata", AuthorID: fmt.Sprint(other.ID)},
		{Q: "zlobek", Type: "thread"}, {Q: "zlobek", Type: "post"}, {Q: "zlobek", Type: "note"}, {Q: "zlobek", Type: "meeting"},
		{Q: "zlobek", Type: "message"}, {Q: "zlobek", Type: "file"}, {Q: "miejski", Type: "file"},
	} {
		for _, h := range f.search(a, in).Items {
			if h.GroupID != rural.ID {
				t.Errorf("%+v: hit %s %d of group %d leaks to a rural member", in, h.Type, h.ID, h.GroupID)
			}
		}
	}
	if r := f.search(a, search.Input{Q: "miejski"}); len(r.Items) != 0 {
		t.Errorf("urban-only word found %d hits", len(r.Items))
	}
	// The urban file is found by its own name, by staff.
	staff := testkit.NewUser(t, f.db, model.RoleStaff)
	sg := keys(f.search(f.actor(staff), search.Input{Q: "zlobek miejski"}))
	if !sg[key{"file", theirs.file}] || !sg[key{"thread", theirs.thread}] {
		t.Errorf("staff miss urban hits: %v", sg)
	}
	// Titles rank above bodies: the thread comes before its post.
	r := f.search(a, search.Input{Q: "zlobek"})
	pos := map[string]int{}
	for i, h := range r.Items {
		pos[h.Type] = i
	}
	if tp, ok := pos["thread"]; !ok || pos["post"] < tp {
		t.Errorf("thread title not above the post: %+v", r.Items)
	}
	// Snippets mark the words, whatever their letters.
	for _, h := range f.search(a, search.Input{Q: "dopiewie", Type: "post"}).Items {
		if !strings.Contains(h.SnippetHTML, "<mark>Dopiewie</mark>") || h.URL != fmt.Sprintf("/p/%d", mine.post) {
			t.Errorf("hit %+v", h)
		}
	}
	// Message links open the chat page at the message.
	for _, h := range f.search(a, search.Input{Q: "dopiewie", Type: "message"}).Items {
		if h.URL != fmt.Sprintf("/m/%d?after=0#c1", mine.meeting) {
			t.Errorf("message url %s", h.URL)
		}
	}
}

// Hidden posts and threads are found only by moderators of their group,
// deleted posts by nobody, and the index follows edits, moves and merges.
func TestSearchHiddenDeletedAndIndexUpkeep(t *testing.T) {
	f := newFixture(t)
	g, g2 := testkit.NewGroup(t, f.db, model.KindRural), testkit.NewGroup(t, f.db, model.KindCounty)
	m, mod := f.member(g, model.GroupMember), f.member(g, model.GroupModerator)
	staff := testkit.NewUser(t, f.db, model.RoleStaff)
	c := f.content(g, m.ID, "Stołówka szkolna", "Ceny obiadów w stołówce.")
	hiddenPost := f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html, hidden) VALUES ($1, 2, $2, 'ukryty wpis o stołówce', '', true) RETURNING id`, c.thread, m.ID)
	deleted := f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html) VALUES ($1, 3, $2, 'usunięty wpis o stołówce', '') RETURNING id`, c.thread, m.ID)
	f.exec(`UPDATE posts SET deleted_at = now() WHERE id = $1 RETURNING id`, deleted)

	if got := keys(f.search(f.actor(m), search.Input{Q: "stolowka"})); got[key{"post", hiddenPost}] || got[key{"post", deleted}] {
		t.Errorf("member sees hidden or deleted: %v", got)
	}
	if got := keys(f.search(f.actor(mod), search.Input{Q: "stolowka"})); !got[key{"post", hiddenPost}] || got[key{"post", deleted}] {
		t.Errorf("moderator: %v", got)
	}
	if got := keys(f.search(f.actor(staff), search.Input{Q: "usuniety"})); len(got) != 0 {
		t.Errorf("deleted post found by staff: %v", got)
	}
	// A hidden thread hides its posts too.
	f.exec(`UPDATE threads SET hidden = true WHERE id = $1 RETURNING id`, c.thread)
	for _, h := range f.search(f.actor(m), search.Input{Q: "obiadow stolowka"}).Items {
		if h.Type == "thread" || h.Type == "post" {
			t.Errorf("hidden thread's %s %d found by a member", h.Type, h.ID)
		}
	}
	if got := keys(f.search(f.actor(mod), search.Input{Q: "obiadow"})); !got[key{"post", c.post}] {
		t.Errorf("moderator lost the hidden thread's post: %v", got)
	}
	f.exec(`UPDATE threads SET hidden = false WHERE id = $1 RETURNING id`, c.thread)
	// An edit replaces the words.
	f.exec(`UPDATE posts SET body = 'Nowe ceny w kuchni' WHERE id = $1 RETURNING id`, c.post)
	if got := keys(f.search(f.actor(m), search.Input{Q: "kuchnia", Type: "post"})); !got[key{"post", c.post}] {
		t.Errorf("edited words not found: %v", got)
	}
	if got := keys(f.search(f.actor(m), search.Input{Q: "obiadow", Type: "post"})); got[key{"post", c.post}] {
		t.Errorf("old words still found")
	}
	// A thread moved to another group takes its posts along.
	f.exec(`UPDATE threads SET group_id = $2 WHERE id = $1 RETURNING id`, c.thread, g2.ID)
	if got := f.search(f.actor(m), search.Input{Q: "kuchni stolowka"}); len(got.Items) != 0 {
		for _, h := range got.Items {
			if h.Type == "thread" || h.Type == "post" {
				t.Errorf("moved thread's %s still found in the old group", h.Type)
			}
		}
	}
}

// With most matches unreadable, pages hold 20 readable hits each and
// has_more is true exactly while more readable hits exist, in both orders.
func TestSearchPagingCountsOnlyReadable(t *testing.T) {
	f := newFixture(t)
	g, other := testkit.NewGroup(t, f.db, model.KindCounty), testkit.NewGroup(t, f.db, model.KindUrban)
	m := f.member(g, model.GroupObserver)
	tid := f.exec(`INSERT INTO threads (group_id, title, author_id) VALUES ($1, 'Wątek stronicowania', $2) RETURNING id`, g.ID, m.ID)
	oid := f.exec(`INSERT INTO threads (group_id, title, author_id) VALUES ($1, 'Obcy wątek', $2) RETURNING id`, other.ID, m.ID)
	f.exec(`WITH a AS (INSERT INTO posts (thread_id, position, author_id, body, body_html, created_at)
		SELECT $1, i, $2, 'termomodernizacja numer ' || i, '', now() - make_interval(mins => i) FROM generate_series(1, 45) i RETURNING 1)
		SELECT count(*) FROM a`, tid, m.ID)
	f.exec(`WITH a AS (INSERT INTO posts (thread_id, position, author_id, body, body_html, created_at)
		SELECT $1, i, $2, 'termomodernizacja obca ' || i, '', now() - make_interval(mins => i) FROM generate_series(1, 600) i RETURNING 1)
		SELECT count(*) FROM a`, oid, m.ID)
	a := f.actor(m)
	for _, sort := range []string{"relevance", "newest"} {
		seen := map[int64]bool{}
		for page, want := range []struct {
			n    int
			more bool
		}{{20, true}, {20, true}, {5, false}, {0, false}} {
			r := f.search(a, search.Input{Q: "termomodernizacja", Sort: sort, Page: fmt.Sprint(page + 1)})
			if len(r.Items) != want.n || r.HasMore != want.more || r.Page != page+1 || r.Limit != search.PerPage {
				t.Fatalf("%s page %d: %d items, more %v", sort, page+1, len(r.Items), r.HasMore)
			}
			for _, h := range r.Items {
				if h.GroupID != g.ID || seen[h.ID] {
					t.Fatalf("%s page %d: hit %+v (repeated or unreadable)", sort, page+1, h)
				}
				seen[h.ID] = true
			}
		}
	}
}

// Whatever is typed, the answer is hits or a validation error on q, never an
// error from PostgreSQL.
func TestSearchMalformedNeverFails(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindCommon)
	u := testkit.NewUser(t, f.db, model.RoleMember)
	f.content(g, u.ID, "Wątek zwykły", "zwykły tekst")
	a := f.actor(u)
	inputs := []string{`"`, `""`, `"""`, `-`, `--x`, `- -`, `!`, `!!ab`, `&`, `|`, `ab & | cd`, `<->`, `ab:*`, `'`, `''ab''`, `\`, `ab\`,
		`(`, `)`, `(ab`, `ab)`, `:`, `ab:A`, `*`, `ab*`, `%`, `_`, `ab%`, "\x00ab", "ab\x00cd", "\u202eab", "🙂🙂", "ab🙂cd",
		strings.Repeat("!?.,;:'\"", 25)[:200], strings.Repeat(`"a" `, 50), strings.Repeat("-", 200), "ǅǆ ß ﬁnance", "١٢٣ ab",
		"\u0301\u0301", "e\u0301cole", "日本語 ab", "Ⅻ ab", "ab-cd-ef", "-\"ab cd", "a -b \"c", "ab" + strings.Repeat(" ab", 60)}
	for _, q := range inputs {
		for _, sort := range []string{"relevance", "newest"} {
			_, err := f.svc.Search(context.Background(), a, search.Input{Q: q, Sort: sort})
			var v *apperr.Validation
			if err != nil && !errors.As(err, &v) {
				t.Errorf("%q: %v", q, err)
			}
		}
	}
}

// A match older than the newest 20,000 documents is still found (the second
// attempt), and a common word fills a page from the first attempt in the
// same order the second would give.
func TestSearchBeyondTheNewestWindow(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	old := f.exec(`INSERT INTO threads (group_id, title, author_id, created_at) VALUES ($1, 'Kanalizacja przy szkole', $2, now() - interval '2 years') RETURNING id`, g.ID, m.ID)
	// 25,000 newer documents of the group that do not say it (straight into
	// the index table: only search reads it).
	f.exec(`WITH a AS (INSERT INTO search_docs (kind, ref_id, group_id, author_id, created_at, tsv)
		SELECT 'message', 1000000 + i, $1, $2, now() - make_interval(secs => i), to_tsvector('forum_search', 'wypełniacz numer ' || i)
		FROM generate_series(1, 25000) i RETURNING 1) SELECT count(*) FROM a`, g.ID, m.ID)
	for _, sort := range []string{"relevance", "newest"} {
		r := f.search(f.actor(m), search.Input{Q: "kanalizacja", Sort: sort})
		if len(r.Items) != 1 || r.Items[0].ID != old {
			t.Errorf("%s: %+v", sort, r.Items)
		}
	}
	r := f.search(f.actor(m), search.Input{Q: "wypelniacz", Sort: "newest", Page: "3"})
	if len(r.Items) != search.PerPage || !r.HasMore || r.Items[0].ID != 1000000+41 {
		t.Errorf("newest page 3 of a common word: %d items, first %d", len(r.Items), r.Items[0].ID)
	}
}
