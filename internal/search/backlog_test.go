package search_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// doc is a post's search document as the permission filter reads it.
type doc struct {
	exists, hidden bool
	group          int64
	words          string
}

func (f *fixture) doc(post int64) doc {
	f.t.Helper()
	var d doc
	err := f.db.QueryRow(`SELECT true, hidden, group_id, tsv::text FROM search_docs WHERE kind = 'post' AND ref_id = $1`, post).
		Scan(&d.exists, &d.hidden, &d.group, &d.words)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) queued(post int64) bool {
	f.t.Helper()
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM search_post_backlog WHERE post_id = $1`, post); err != nil {
		f.t.Fatal(err)
	}
	return n == 1
}

func (f *fixture) newPost(thread, author int64, body string) int64 {
	f.t.Helper()
	return f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html)
		SELECT $1, coalesce(max(position), 0) + 1, $2, $3, '' FROM posts WHERE thread_id = $1 RETURNING id`, thread, author, body)
}

// A new post waits in the backlog, not in the index; the indexer's batch
// writes its document and empties the backlog.
func TestSearchBacklogIndexedInBatches(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	c := f.content(g, m.ID, "Dowozy", "pierwszy wpis")
	p := f.newPost(c.thread, m.ID, "autobus szkolny spóźnia się")
	if !f.queued(p) || f.doc(p).exists {
		t.Fatalf("new post: queued %v, document %+v; want queued and no document yet", f.queued(p), f.doc(p))
	}
	for {
		n, err := store.IndexPostBacklog(ctx, f.db, 1, true)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if d := f.doc(p); f.queued(p) || !d.exists || d.hidden || d.group != g.ID {
		t.Fatalf("after the batch: queued %v, document %+v", f.queued(p), d)
	}
}

// Whatever happens to a post or its thread before the indexer gets to it
// ends up in its document: the change indexes the post itself.
func TestSearchBacklogChangesBeforeIndexing(t *testing.T) {
	f := newFixture(t)
	g, g2 := testkit.NewGroup(t, f.db, model.KindRural), testkit.NewGroup(t, f.db, model.KindCounty)
	m := f.member(g, model.GroupMember)
	c := f.content(g, m.ID, "Stołówka", "ceny obiadów")
	c2 := f.content(g, m.ID, "Boisko", "remont boiska")

	hidden := f.newPost(c.thread, m.ID, "wpis do ukrycia")
	f.exec(`UPDATE posts SET hidden = true WHERE id = $1 RETURNING id`, hidden)
	if d := f.doc(hidden); f.queued(hidden) || !d.exists || !d.hidden {
		t.Errorf("hidden while queued: queued %v, document %+v; want a hidden document", f.queued(hidden), d)
	}
	deleted := f.newPost(c.thread, m.ID, "wpis do usunięcia")
	f.exec(`UPDATE posts SET deleted_at = now() WHERE id = $1 RETURNING id`, deleted)
	if f.queued(deleted) || f.doc(deleted).exists {
		t.Errorf("deleted while queued: queued %v, document %+v; want neither", f.queued(deleted), f.doc(deleted))
	}
	edited := f.newPost(c.thread, m.ID, "stary tekst")
	f.exec(`UPDATE posts SET body = 'nowy tekst o kuchni' WHERE id = $1 RETURNING id`, edited)
	if d := f.doc(edited); f.queued(edited) || !d.exists || !strings.Contains(d.words, "'kuchni'") || strings.Contains(d.words, "'stary'") {
		t.Errorf("edited while queued: queued %v, document %+v; want the new words only", f.queued(edited), d)
	}
	// A thread hidden, then moved: its queued posts follow it.
	underHidden := f.newPost(c.thread, m.ID, "wpis w ukrytym wątku")
	f.exec(`UPDATE threads SET hidden = true WHERE id = $1 RETURNING id`, c.thread)
	if d := f.doc(underHidden); f.queued(underHidden) || !d.exists || !d.hidden {
		t.Errorf("thread hidden while queued: queued %v, document %+v; want a hidden document", f.queued(underHidden), d)
	}
	moved := f.newPost(c2.thread, m.ID, "wpis w przeniesionym wątku")
	f.exec(`UPDATE threads SET group_id = $2 WHERE id = $1 RETURNING id`, c2.thread, g2.ID)
	if d := f.doc(moved); f.queued(moved) || !d.exists || d.group != g2.ID {
		t.Errorf("thread moved while queued: queued %v, document %+v; want the new group %d", f.queued(moved), d, g2.ID)
	}
}

// A batch under way and a change of one of its posts: whichever comes
// first, the document ends as the change left the post.
func TestSearchBacklogRaceWithChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	c := f.content(g, m.ID, "Remonty", "dach szkoły")

	// The indexer first: the hide waits for its commit, then fixes the document.
	p := f.newPost(c.thread, m.ID, "wpis ukryty w trakcie indeksowania")
	tx := f.db.MustBeginTx(ctx, nil)
	if n, err := store.IndexPostBacklog(ctx, tx, 100, true); err != nil || n == 0 {
		t.Fatalf("batch: %d posts, %v", n, err)
	}
	hid := make(chan error, 1)
	go func() {
		_, err := f.db.ExecContext(ctx, `UPDATE posts SET hidden = true WHERE id = $1`, p)
		hid <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the hide reach the batch's lock
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-hid; err != nil {
		t.Fatal(err)
	}
	if d := f.doc(p); !d.exists || !d.hidden {
		t.Errorf("hidden during the batch: document %+v; want hidden", d)
	}

	// The change first: the indexer skips the post, the change indexes it.
	p2 := f.newPost(c.thread, m.ID, "wpis ukryty przed indeksowaniem")
	tx = f.db.MustBeginTx(ctx, nil)
	if _, err := tx.ExecContext(ctx, `UPDATE posts SET hidden = true WHERE id = $1`, p2); err != nil {
		t.Fatal(err)
	}
	if n, err := store.IndexPostBacklog(ctx, f.db, 100, true); err != nil || n != 0 {
		t.Fatalf("batch beside an uncommitted change: took %d posts, %v; want 0", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if d := f.doc(p2); f.queued(p2) || !d.exists || !d.hidden {
		t.Errorf("hidden before the batch: queued %v, document %+v; want a hidden document", f.queued(p2), d)
	}
}

// A search waits for a batch under way, so it finds a post committed before
// it began even while another instance is indexing it.
func TestSearchWaitsForBatchUnderWay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	c := f.content(g, m.ID, "Oświetlenie", "latarnie")
	p := f.newPost(c.thread, m.ID, "termomodernizacja przedszkola")
	tx := f.db.MustBeginTx(ctx, nil)
	if n, err := store.IndexPostBacklog(ctx, tx, 100, true); err != nil || n == 0 {
		t.Fatalf("batch: %d posts, %v", n, err)
	}
	found := make(chan search.Result, 1)
	go func() { found <- f.search(f.actor(m), search.Input{Q: "termomodernizacja"}) }()
	time.Sleep(100 * time.Millisecond) // let the search reach the batch's lock
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := keys(<-found); !got[key{"post", p}] {
		t.Errorf("search beside a batch under way: %v; want post %d", got, p)
	}
}

// The indexer every instance runs indexes new posts with no search asking.
func TestSearchIndexerRuns(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	c := f.content(g, m.ID, "Wodociągi", "woda")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.svc.RunIndexer(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	defer func() { cancel(); <-done }()
	p := f.newPost(c.thread, m.ID, "nowa studnia głębinowa")
	for deadline := time.Now().Add(20 * time.Second); !f.doc(p).exists; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("post %d not indexed by the indexer (queued %v)", p, f.queued(p))
		}
	}
}
