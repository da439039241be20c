// Package ratelimit holds the per-account limits on writing (posts, note
// saves). A limit is checked twice: once before anything is rendered, so a
// flood is refused cheaply, and again inside the inserting transaction under
// the writer's row lock, so that parallel requests of one account are counted
// one after another and exactly Limit of them get through. Staff are exempt.
package ratelimit

import (
	"context"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// PerMinute allows Limit writes a minute per account; Count counts the
// account's writes since a moment.
type PerMinute struct {
	Limit int
	Count func(ctx context.Context, q store.Q, userID int64, since time.Time) (int, error)
	Now   func() time.Time
}

// Check refuses the write when the account is at its limit.
func (l PerMinute) Check(ctx context.Context, q store.Q, a *access.Actor) error {
	if a.IsStaff() {
		return nil
	}
	n, err := l.Count(ctx, q, a.UserID, l.Now().Add(-time.Minute))
	if err != nil {
		return err
	}
	if n >= l.Limit {
		return &apperr.RateLimited{RetryAfter: time.Minute}
	}
	return nil
}

// CheckLocked is Check inside the inserting transaction: it first takes the
// writer's row lock (store.LockWriter), which the transaction keeps until it
// commits, and then counts with a fresh snapshot.
func (l PerMinute) CheckLocked(ctx context.Context, tx *store.Tx, a *access.Actor) error {
	if a.IsStaff() {
		return nil
	}
	if err := store.LockWriter(ctx, tx, a.UserID); err != nil {
		return err
	}
	return l.Check(ctx, tx, a)
}
