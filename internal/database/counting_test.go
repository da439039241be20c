package database

import (
	"context"
	"os"
	"testing"

	"github.com/gwd-jst/forumjst/internal/pgtest"
)

var testDBURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &testDBURL)) }

// A background worker's statements (the search indexer runs one batch every
// 200 ms) must not land in the count of what a request runs: the page
// query-count tests failed when a batch ran during a counted page view.
func TestBackgroundStatementsAreCountedApart(t *testing.T) {
	ctx := context.Background()
	c := &QueryCounter{}
	db, err := OpenCounting(ctx, testDBURL, 2, c)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmt, err := db.PreparexContext(ctx, `SELECT $1::int`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()

	var n int
	for _, run := range []func(context.Context) error{
		func(ctx context.Context) error { return db.GetContext(ctx, &n, `SELECT 1`) },
		func(ctx context.Context) error { _, err := db.ExecContext(ctx, `SELECT 1`); return err },
		func(ctx context.Context) error { return stmt.GetContext(ctx, &n, 1) },
		func(ctx context.Context) error { _, err := stmt.ExecContext(ctx, 1); return err },
	} {
		before, bg := c.Load(), c.Background()
		if err := run(Background(ctx)); err != nil {
			t.Fatal(err)
		}
		if c.Load() != before || c.Background() != bg+1 {
			t.Errorf("background statement: counted %d, background %d; want 0 and 1", c.Load()-before, c.Background()-bg)
		}
		before, bg = c.Load(), c.Background()
		if err := run(ctx); err != nil {
			t.Fatal(err)
		}
		if c.Load() != before+1 || c.Background() != bg {
			t.Errorf("request statement: counted %d, background %d; want 1 and 0", c.Load()-before, c.Background()-bg)
		}
	}
}
