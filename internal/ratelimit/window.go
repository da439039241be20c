package ratelimit

import (
	"sync"
	"time"

	"github.com/gwd-jst/forumjst/internal/apperr"
)

// Window allows Limit requests per Per and account, counted in this process
// only: for cheap lookups (the mention completion) where a few more across
// several instances cost nothing, and a database write per keystroke would
// cost more than the lookup itself. Safe for concurrent use.
type Window struct {
	Limit int
	Per   time.Duration
	Now   func() time.Time

	mu   sync.Mutex
	seen map[int64]*windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// maxTracked bounds the map: past it, expired windows are dropped.
const maxTracked = 10000

// Allow counts one request of userID and refuses it past the limit.
func (w *Window) Allow(userID int64) error {
	now := w.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[int64]*windowCount{}
	}
	c := w.seen[userID]
	if c == nil || now.Sub(c.start) >= w.Per {
		if c == nil && len(w.seen) >= maxTracked {
			for id, old := range w.seen {
				if now.Sub(old.start) >= w.Per {
					delete(w.seen, id)
				}
			}
		}
		c = &windowCount{start: now}
		w.seen[userID] = c
	}
	if c.n >= w.Limit {
		return &apperr.RateLimited{RetryAfter: c.start.Add(w.Per).Sub(now)}
	}
	c.n++
	return nil
}
