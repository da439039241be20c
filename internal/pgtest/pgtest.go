// Package pgtest gives every Go test package its own throwaway PostgreSQL
// database on a real server.
//
// Typical use, once per test package:
//
//	var dbURL string
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }
//
// The server is found as internal/pgadmin's ServerURL finds it: $DATABASE_URL,
// else postgres://postgres@127.0.0.1:5432 (unless PGTEST_SKIP_LOCAL=1), else a
// throwaway cluster started with initdb/pg_ctl. Databases are named
// forumjst_test_<16 hex> and dropped WITH (FORCE) after m.Run. Databases and
// clusters left behind by test binaries that were killed (e.g. by a -timeout
// panic) are removed by a later run on the same host. Nothing is printed on
// success.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/pgadmin"
)

// Run is called from TestMain: it finds a server, creates a database with a
// random name, sets *dbURL to its URL, runs m.Run(), drops the database
// afterwards, stops any cluster it started and returns the exit code.
func Run(m *testing.M, dbURL *string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	server, stop, err := pgadmin.ServerURL(ctx)
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pgadmin.ReapDatabases(ctx, server, pgadmin.TestDBPrefix)
	url, drop, err := pgadmin.CreateDatabase(ctx, server, pgadmin.TestDBPrefix)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if serr := stop(); serr != nil {
			fmt.Fprintln(os.Stderr, serr)
		}
		return 1
	}

	var once sync.Once
	cleanup := func() (failed bool) {
		once.Do(func() {
			if err := drop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
			if err := stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
		})
		return failed
	}

	stopWatching := pgadmin.OnInterrupt("pgtest", "dropping test database", func() { cleanup() })

	*dbURL = url
	code := m.Run()

	stopWatching()
	if cleanup() && code == 0 {
		code = 1
	}
	return code
}
