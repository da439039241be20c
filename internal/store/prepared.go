package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Prepared is a Q over a pool that prepares each statement once and reuses it
// (database/sql prepares it again by itself on each pool connection that runs
// it). lib/pq otherwise parses every query that has arguments in a round trip
// of its own before running it, so on a hot path — the chat's two statements
// per message and its read per hint — this halves the round trips; under a
// fan-out each round trip waits behind a thousand writers.
type Prepared struct {
	db    *sqlx.DB
	stmts sync.Map // query text → *sqlx.Stmt
}

// NewPrepared wraps db; statements are prepared on first use.
func NewPrepared(db *sqlx.DB) *Prepared { return &Prepared{db: db} }

func (p *Prepared) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	if s, ok := p.stmts.Load(query); ok {
		return s.(*sqlx.Stmt), nil
	}
	s, err := p.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err // not kept: the next call prepares again
	}
	if old, loaded := p.stmts.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return old.(*sqlx.Stmt), nil
	}
	return s, nil
}

// Close releases every prepared statement.
func (p *Prepared) Close() {
	p.stmts.Range(func(k, v any) bool {
		_ = v.(*sqlx.Stmt).Close()
		p.stmts.Delete(k)
		return true
	})
}

func (p *Prepared) DriverName() string         { return p.db.DriverName() }
func (p *Prepared) Rebind(query string) string { return p.db.Rebind(query) }
func (p *Prepared) BindNamed(query string, arg any) (string, []any, error) {
	return p.db.BindNamed(query, arg)
}

func (p *Prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (p *Prepared) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryxContext(ctx, args...)
}

func (p *Prepared) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	s, err := p.stmt(ctx, query)
	if err != nil {
		// A *sqlx.Row cannot carry an error from outside sqlx: run the query
		// unprepared, which fails (or succeeds) with its own error.
		return p.db.QueryRowxContext(ctx, query, args...)
	}
	return s.QueryRowxContext(ctx, args...)
}

func (p *Prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

var _ Q = (*Prepared)(nil)

// In is p inside a unit of work: each statement runs in tx, prepared on
// tx's connection once (database/sql keeps a statement prepared per
// connection and re-binds it to the transaction), so a hot write's
// statements cost one round trip each, parsed and planned once per
// connection. A transaction of another pool gets its statements unprepared
// (database/sql cannot run a statement of one pool in another's transaction).
func (p *Prepared) In(tx *Tx) Q {
	if tx.pool != nil && tx.pool != p.db {
		return tx
	}
	return preparedTx{p: p, tx: tx}
}

type preparedTx struct {
	p  *Prepared
	tx *Tx
}

func (q preparedTx) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	s, err := q.p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return q.tx.StmtxContext(ctx, s), nil
}

func (q preparedTx) DriverName() string         { return q.tx.DriverName() }
func (q preparedTx) Rebind(query string) string { return q.tx.Rebind(query) }
func (q preparedTx) BindNamed(query string, arg any) (string, []any, error) {
	return q.tx.BindNamed(query, arg)
}

func (q preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (q preparedTx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryxContext(ctx, args...)
}

func (q preparedTx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return q.tx.QueryRowxContext(ctx, query, args...) // fails (or not) with its own error
	}
	return s.QueryRowxContext(ctx, args...)
}

func (q preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

var _ Q = preparedTx{}
