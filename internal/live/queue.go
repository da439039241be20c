package live

import "sync"

// queue is a connection's bounded outgoing queue. It holds references to
// frames shared by every subscriber (encoded once), and allocates nothing
// while the connection is idle: an idle connection costs a few words here,
// not a preallocated channel buffer.
type queue struct {
	mu     sync.Mutex
	frames [][]byte
	spare  [][]byte // the writer's previous batch, reused
	limit  int
	ready  chan struct{} // a token when frames are waiting
	room   chan struct{} // a token when the writer took a batch
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// offer appends a frame unless the queue is full.
func (q *queue) offer(frame []byte) bool {
	q.mu.Lock()
	if len(q.frames) >= q.limit {
		q.mu.Unlock()
		return false
	}
	q.frames = append(q.frames, frame)
	q.mu.Unlock()
	signal(q.ready)
	return true
}

// take hands the writer everything queued. The batch it returned last time is
// recycled, so a busy connection stops allocating.
func (q *queue) take(done [][]byte) [][]byte {
	clear(done) // drop references to sent frames
	q.mu.Lock()
	batch := q.frames
	q.frames = q.spare[:0]
	q.spare = nil
	if cap(done) > 0 && cap(done) <= q.limit {
		q.spare = done[:0]
	}
	q.mu.Unlock()
	signal(q.room)
	return batch
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a token is already waiting
	}
}
