package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// QueryCounter counts the statements sent through a pool opened with
// OpenCounting. Tests and benchmarks use it to prove that a page runs a fixed
// number of queries however much data it shows.
type QueryCounter struct{ n, notifies, background atomic.Int64 }

// Load returns the number of statements counted so far.
func (c *QueryCounter) Load() int64 { return c.n.Load() }

// Notifies returns how many of them were the live bridge's NOTIFYs
// (pg_notify), which it sends after a commit, on its own schedule: a test
// of what a request runs subtracts those counted during it.
func (c *QueryCounter) Notifies() int64 { return c.notifies.Load() }

// Background returns how many statements ran on a context marked with
// Background: they are not in Load.
func (c *QueryCounter) Background() int64 { return c.background.Load() }

type backgroundKey struct{}

// Background marks ctx as an instance's own work (app.Serve's loops:
// housekeeping, the digest, the search indexer, the mail worker): its
// statements run on their own clocks, for no request, so a counting
// pool counts them apart and a test of what a request runs is not disturbed
// by a batch that happens to run meanwhile. Elsewhere it changes nothing.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func (c *QueryCounter) count(ctx context.Context, query string) {
	if ctx.Value(backgroundKey{}) != nil {
		c.background.Add(1)
		return
	}
	c.n.Add(1)
	if strings.Contains(query, "pg_notify(") {
		c.notifies.Add(1)
	} else if ctx.Value(backgroundKey{}) != nil {
		c.background.Add(1)
	}
}

// OpenCounting opens a pool like Open, counting every query and exec.
func OpenCounting(ctx context.Context, url string, maxConns int, c *QueryCounter) (*sqlx.DB, error) {
	inner, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(countingConnector{inner, c}), "postgres")
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

type countingConnector struct {
	inner driver.Connector
	c     *QueryCounter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: cc.c}, nil
}

func (cc countingConnector) Driver() driver.Driver { return cc.inner.Driver() }

// countingConn forwards to lib/pq's connection, which implements every optional
// interface used here.
type countingConn struct {
	driver.Conn
	c *QueryCounter
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cc.c.count(ctx, query)
	return cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cc.c.count(ctx, query)
	return cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, c: cc.c, query: query}, nil
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (cc *countingConn) Ping(ctx context.Context) error {
	if p, ok := cc.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cc *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cc.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cc *countingConn) IsValid() bool {
	if v, ok := cc.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingStmt struct {
	driver.Stmt
	c     *QueryCounter
	query string
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.count(ctx, s.query)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.count(ctx, s.query)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
