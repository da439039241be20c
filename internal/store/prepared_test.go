package store_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// The batched session look-up is prepared once per connection and must keep
// PostgreSQL's generic plan: with the array's length visible to the planner
// every execution was planned anew (1.4 ms under the posting load, for 0.5
// ms of execution). Run on a one-connection pool, so pg_prepared_statements
// shows the statement's own connection.
func TestSessionBatchKeepsGenericPlan(t *testing.T) {
	ctx := context.Background()
	setupDB := testkit.Open(t, dbURL)
	u := testkit.NewUser(t, setupDB, model.RoleMember)
	var hashes [][]byte
	for range 3 {
		h := make([]byte, 32)
		if _, err := rand.Read(h); err != nil {
			t.Fatal(err)
		}
		if _, err := setupDB.Exec(`INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'c', now() + interval '1 hour')`, h, u.ID); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	pool, err := database.Open(ctx, dbURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	hot := store.NewPrepared(pool)
	t.Cleanup(hot.Close)
	for i := range 10 {
		batch := hashes[:1+i%3]
		got, err := store.GetSessionUsers(ctx, hot, batch, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(batch) {
			t.Fatalf("batch of %d tokens found %d sessions", len(batch), len(got))
		}
		for _, h := range batch {
			if got[string(h)].User.ID != u.ID {
				t.Fatalf("session %x: got user %d, want %d", h[:4], got[string(h)].User.ID, u.ID)
			}
		}
	}
	var generic, custom int64
	if err := pool.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%s.token_hash = ANY(%'`).Scan(&generic, &custom); err != nil {
		t.Fatal(err)
	}
	if generic < 5 {
		t.Errorf("the session batch was planned for each execution: %d generic and %d custom plans in 10 executions", generic, custom)
	}
	// PostgreSQL keeps the generic plan only while it is estimated no dearer
	// than the custom ones; in this small database it may be either way, so
	// the estimates themselves must not depend on the bound array.
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PREPARE session_batch_plan (bytea[], float8) AS `+store.SessionUsersQuery); err != nil {
		t.Fatal(err)
	}
	cost := func(mode string) string {
		if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		var plan string
		if err := conn.QueryRowContext(ctx, `EXPLAIN EXECUTE session_batch_plan (ARRAY['\x00'::bytea], 3600)`).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	// PostgreSQL keeps the generic plan while its cost is below the custom
	// plans' average plus a planning allowance (1000 × cpu_operator_cost per
	// relation, ≥ 2.5): a cost within 1 of the custom plan's stays generic.
	if g, c := cost("force_generic_plan"), cost("force_custom_plan"); total(t, g) > total(t, c)+1 {
		t.Errorf("the session batch's generic plan is estimated dearer than a custom one (so PostgreSQL plans every execution):\n generic: %s\n custom:  %s", g, c)
	}
	if _, err := conn.ExecContext(ctx, `RESET plan_cache_mode; DEALLOCATE session_batch_plan`); err != nil {
		t.Fatal(err)
	}
}

// total is the total cost of an EXPLAIN line ("(cost=0.44..80.18 rows=…").
func total(t *testing.T, line string) float64 {
	t.Helper()
	_, rest, ok := strings.Cut(line, "..")
	f := strings.Fields(rest)
	if !ok || len(f) == 0 {
		t.Fatalf("no cost in %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("cost in %q: %v", line, err)
	}
	return v
}

// A Prepared over one pool still runs in a transaction of another pool
// (plainly: database/sql refuses another pool's statements in a transaction).
func TestPreparedInOtherPoolsTransaction(t *testing.T) {
	ctx := context.Background()
	open := func() *sqlx.DB {
		p, err := database.Open(ctx, dbURL, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	a, b := open(), open()
	hot := store.NewPrepared(a)
	t.Cleanup(hot.Close)
	for _, db := range []*sqlx.DB{a, b} {
		err := store.InTx(ctx, store.NewDB(db, topic.Discard{}), func(tx *store.Tx) error {
			var n int
			if err := hot.In(tx).QueryRowxContext(ctx, `SELECT $1::int + 1`, 41).Scan(&n); err != nil {
				return err
			}
			if n != 42 {
				t.Errorf("got %d, want 42", n)
			}
			tx.Quiet()
			return nil
		})
		if err != nil {
			t.Errorf("statement of a Prepared in a transaction of %s pool: %v", map[bool]string{true: "its own", false: "another"}[db == a], err)
		}
	}
}
