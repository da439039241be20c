// Package batch runs concurrent look-ups of the same kind as one statement
// (issue 16: a burst of 1,000 websocket connects was 2,000 statements, each a
// round trip with its own wake-ups on both sides). A key asked for while a
// statement runs waits for the next one, which carries every key that arrived
// meanwhile — the group commit of reads. So every answer is read by a
// statement that started after its question was asked: a batch never answers
// from an older snapshot than a statement of its own would have, and a
// session ended or a right withdrawn before the question is always seen. A
// lone look-up goes out at once, as before.
package batch

import (
	"context"
	"sync"
	"time"
)

// Fetch reads the values of keys with one statement. A key it has no value
// for is left out of the map (not found).
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader coalesces Load calls into Fetch calls, one at a time.
type Loader[K comparable, V any] struct {
	fetch   Fetch[K, V]
	max     int
	timeout time.Duration

	mu      sync.Mutex
	waiting map[K][]chan answer[V] // keys not yet sent, with who waits for them
	order   []K                    // those keys in arrival order
	running bool
}

type answer[V any] struct {
	v   V
	ok  bool
	err error
}

// New returns a Loader that sends at most max keys per statement and gives
// each statement timeout (the statement serves many callers, so it runs on a
// context of its own rather than on the first caller's).
func New[K comparable, V any](fetch Fetch[K, V], max int, timeout time.Duration) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, max: max, timeout: timeout, waiting: map[K][]chan answer[V]{}}
}

// Load returns k's value, ok false when the statement found none. A caller
// whose ctx ends stops waiting; the statement still serves the others.
func (l *Loader[K, V]) Load(ctx context.Context, k K) (V, bool, error) {
	ch := make(chan answer[V], 1)
	l.mu.Lock()
	if _, queued := l.waiting[k]; !queued {
		l.order = append(l.order, k)
	}
	l.waiting[k] = append(l.waiting[k], ch)
	start := !l.running
	l.running = true
	l.mu.Unlock()
	if start {
		go l.run()
	}
	select {
	case a := <-ch:
		return a.v, a.ok, a.err
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
}

// run sends what waits, statement after statement, until nothing does.
func (l *Loader[K, V]) run() {
	for {
		keys, waiters := l.take()
		if keys == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		vals, err := l.fetch(ctx, keys)
		cancel()
		for k, chs := range waiters {
			v, ok := vals[k]
			for _, ch := range chs {
				ch <- answer[V]{v: v, ok: ok && err == nil, err: err}
			}
		}
	}
}

// take removes up to max waiting keys, oldest first; nil when none wait (and
// then the runner is marked stopped under the same lock, so a Load racing
// with the end starts a new one).
func (l *Loader[K, V]) take() ([]K, map[K][]chan answer[V]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.order) == 0 {
		l.running = false
		l.order = nil // let a burst's backing array go
		return nil, nil
	}
	n := min(len(l.order), l.max)
	keys := make([]K, n)
	copy(keys, l.order)
	l.order = l.order[n:]
	waiters := make(map[K][]chan answer[V], n)
	for _, k := range keys {
		waiters[k] = l.waiting[k]
		delete(l.waiting, k)
	}
	return keys, waiters
}
