// Package store is the only place that speaks SQL. Each file owns one aggregate;
// functions take a sqlx.ExtContext so the calling service decides whether they run
// in a transaction. Nothing here knows about HTTP or permissions.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/apperr"
)

// ErrNotFound is returned when a row does not exist; the web layer maps it to 404.
var ErrNotFound = apperr.ErrNotFound

// Q is what every store function queries through: the pool (*sqlx.DB, *DB)
// or a transaction (*sqlx.Tx, *Tx).
type Q = sqlx.ExtContext

// one wraps a single-row Get so a missing row becomes ErrNotFound.
func one(ctx context.Context, q Q, dest any, what string, query string, args ...any) error {
	if err := sqlx.GetContext(ctx, q, dest, query, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func selectAll(ctx context.Context, q Q, dest any, what string, query string, args ...any) error {
	if err := sqlx.SelectContext(ctx, q, dest, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// execOne runs a statement that must touch at least one row.
func execOne(ctx context.Context, q Q, what string, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// IsUniqueViolation reports whether err is PostgreSQL's unique_violation,
// optionally on the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return false
	}
	return constraint == "" || pqErr.Constraint == constraint
}

// IsForeignKeyViolation reports whether err is PostgreSQL's foreign_key_violation.
func IsForeignKeyViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23503"
}

// Page is the limit/offset pair every list takes.
type Page struct {
	Limit  int
	Offset int
}

// personOrder is the ORDER BY of a list of people as Polish lists are read:
// by surname (the display name's last word), then the whole name, under the
// ICU Polish collation, so "Łukasz" comes after "Lucyna" and before "Marek"
// instead of after "Wojciech" (byte order).
func personOrder(col string) string {
	return fmt.Sprintf(`regexp_replace(%[1]s, '^.*\s', '') COLLATE "pl-x-icu", %[1]s COLLATE "pl-x-icu"`, col)
}
