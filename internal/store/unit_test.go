package store_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// recorder is an announcer that also checks, at the moment it is told, that
// the unit's write is visible from another connection: announcing happens
// after the commit, never inside the transaction.
type recorder struct {
	t         *testing.T
	db        *store.DB
	events    []topic.Events
	committed []bool
}

func (r *recorder) Announce(ctx context.Context, ev topic.Events) {
	var n int
	if err := r.db.GetContext(ctx, &n, `SELECT count(*) FROM uow_probe`); err != nil {
		r.t.Errorf("read from the pool while announcing: %v", err)
	}
	r.events = append(r.events, ev)
	r.committed = append(r.committed, n > 0)
}

func setup(t *testing.T) (*store.DB, *recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := database.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	if _, err := pool.ExecContext(ctx, `DROP TABLE IF EXISTS uow_probe; CREATE TABLE uow_probe (id int)`); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{t: t}
	db := store.NewDB(pool, rec)
	rec.db = db
	return db, rec
}

func rows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, `SELECT count(*) FROM uow_probe`); err != nil {
		t.Fatal(err)
	}
	return n
}

func insert(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO uow_probe VALUES (1)`)
	return err
}

func TestUnitOfWorkAnnouncesAfterCommit(t *testing.T) {
	db, rec := setup(t)
	ctx := context.Background()
	err := store.InTx(ctx, db, func(tx *store.Tx) error {
		tx.Touch("thread:7", 0)
		tx.Touch("group:3", 0)
		tx.Touch("thread:7", 0) // the same change twice is announced once
		tx.Touch("user:9", 41)  // two notifications of one user are two pushes
		tx.Touch("user:9", 42)
		tx.Revoke(5, false)
		tx.Revoke(5, true) // sessions ended wins over re-authorise
		if len(rec.events) != 0 {
			t.Error("announced inside the transaction")
		}
		return insert(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 1 || !rec.committed[0] {
		t.Fatalf("want one announcement made after the commit, got %d (committed: %v)", len(rec.events), rec.committed)
	}
	want := topic.Events{
		Changes:     []topic.Change{{Topic: "thread:7"}, {Topic: "group:3"}, {Topic: "user:9", Seq: 41}, {Topic: "user:9", Seq: 42}},
		Revocations: []topic.Revocation{{UserID: 5, SessionsEnded: true}},
	}
	got := rec.events[0]
	if !slices.Equal(got.Changes, want.Changes) || !slices.Equal(got.Revocations, want.Revocations) {
		t.Fatalf("announced %+v, want %+v", got, want)
	}
}

// The guard: a unit of work that would commit without recording an event and
// without saying Quiet is rolled back and fails, so a forgotten announce
// fails every test that runs the path.
func TestUnitOfWorkWithoutEventsIsRefused(t *testing.T) {
	db, rec := setup(t)
	ctx := context.Background()
	err := store.InTx(ctx, db, func(tx *store.Tx) error { return insert(ctx, tx) })
	if !errors.Is(err, store.ErrUnannounced) {
		t.Fatalf("err = %v, want ErrUnannounced", err)
	}
	if n := rows(t, db); n != 0 {
		t.Fatalf("the unannounced write was committed (%d rows)", n)
	}
	if len(rec.events) != 0 {
		t.Fatalf("announced %+v", rec.events)
	}
}

func TestQuietUnitOfWorkCommitsAndAnnouncesNothing(t *testing.T) {
	db, rec := setup(t)
	ctx := context.Background()
	err := store.InTx(ctx, db, func(tx *store.Tx) error {
		tx.Quiet()
		return insert(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := rows(t, db); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
	if len(rec.events) != 0 {
		t.Fatalf("a quiet unit announced %+v", rec.events)
	}
}

func TestRolledBackUnitOfWorkAnnouncesNothing(t *testing.T) {
	db, rec := setup(t)
	ctx := context.Background()
	refused := errors.New("refused")
	err := store.InTx(ctx, db, func(tx *store.Tx) error {
		tx.Touch("thread:1", 0)
		tx.Revoke(1, true)
		if err := insert(ctx, tx); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("err = %v", err)
	}
	if n := rows(t, db); n != 0 {
		t.Fatalf("%d rows after rollback", n)
	}
	if len(rec.events) != 0 {
		t.Fatalf("a rolled-back unit announced %+v", rec.events)
	}
}

func TestFailedCommitAnnouncesNothing(t *testing.T) {
	db, rec := setup(t)
	ctx := context.Background()
	// A deferred constraint fails at COMMIT, after fn has returned nil.
	if _, err := db.ExecContext(ctx, `ALTER TABLE uow_probe ADD CONSTRAINT one UNIQUE (id) DEFERRABLE INITIALLY DEFERRED`); err != nil {
		t.Fatal(err)
	}
	err := store.InTx(ctx, db, func(tx *store.Tx) error {
		tx.Touch("thread:1", 0)
		if err := insert(ctx, tx); err != nil {
			return err
		}
		return insert(ctx, tx)
	})
	if err == nil || !store.IsUniqueViolation(err, "one") {
		t.Fatalf("err = %v, want the unique violation at commit", err)
	}
	if len(rec.events) != 0 {
		t.Fatalf("a failed commit announced %+v", rec.events)
	}
}
