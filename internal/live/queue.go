package live

import "sync"

// queue is a connection's bounded outgoing queue. It holds references to
// frames shared by every subscriber (encoded once), and allocates nothing
// while the connection is idle: an idle connection costs a few words here,
// not a preallocated channel buffer.
//
// It also hands out the writer role (see Conn.write): one goroutine at a
// time writes to the socket, started when there is something to write and
// gone when there is not, so an idle connection has no writer goroutine.
type queue struct {
	mu      sync.Mutex
	frames  [][]byte
	spare   [][]byte // the writer's previous batch, reused
	limit   int
	writing bool // a goroutine holds the writer role
	pingDue bool // a ping waits for the writer
	pongDue bool // a pong (payload pongData) waits for the writer
	// pongData is the payload of the latest ping to answer (RFC 6455 §5.5.3
	// lets a pong answer only the most recent ping).
	pongData []byte
	room     chan struct{} // a token when the writer took a batch
}

func newQueue(limit int) *queue {
	return &queue{limit: limit, room: make(chan struct{}, 1)}
}

// offer appends frames unless the queue has no room for all of them (ok
// false). start means the caller took the writer role: it must run the
// writer.
func (q *queue) offer(frames ...[]byte) (ok, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames)+len(frames) > q.limit {
		return false, false
	}
	q.frames = append(q.frames, frames...)
	return true, q.claimLocked()
}

// ping asks the writer for a ping; start as in offer.
func (q *queue) ping() (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pingDue = true
	return q.claimLocked()
}

// pong asks the writer to answer a ping with payload; start as in offer.
// Pongs go through the writer like every other frame: the fan-out may leave
// part of a frame unwritten for the writer to finish (see Conn.tryWrite), and
// a pong written by the reader meanwhile would land inside it.
func (q *queue) pong(payload []byte) (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pongDue, q.pongData = true, payload
	return q.claimLocked()
}

// claim takes the writer role unless a goroutine holds it.
func (q *queue) claim() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claimLocked()
}

func (q *queue) claimLocked() bool {
	if q.writing {
		return false
	}
	q.writing = true
	return true
}

// work is what the writer takes from the queue in one go.
type work struct {
	frames  [][]byte // text frames, in order
	ping    bool     // a ping is due
	pong    []byte   // a pong's payload, when pongDue
	pongDue bool
}

// take hands the writer everything queued, and a due ping and pong. The
// batch it returned last time (done) is recycled, so a busy connection stops
// allocating. With nothing to do, the writer gives up its role (ok false).
func (q *queue) take(done [][]byte) (w work, ok bool) {
	clear(done) // drop references to sent frames
	q.mu.Lock()
	if len(q.frames) == 0 && !q.pingDue && !q.pongDue {
		q.writing = false
		if q.spare == nil {
			q.recycle(done)
		}
		q.mu.Unlock()
		return work{}, false
	}
	w = work{frames: q.frames, ping: q.pingDue, pong: q.pongData, pongDue: q.pongDue}
	q.frames, q.pingDue, q.pongDue, q.pongData = q.spare[:0], false, false, nil
	q.spare = nil
	q.recycle(done)
	q.mu.Unlock()
	signal(q.room)
	return w, true
}

// recycle keeps a sent batch as the next one's backing array, unless it
// grew past the queue's limit (a burst is not kept for an idle connection).
func (q *queue) recycle(done [][]byte) {
	if cap(done) > 0 && cap(done) <= q.limit {
		q.spare = done[:0]
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a token is already waiting
	}
}
