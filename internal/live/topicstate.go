package live

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
)

// topicState is one topic this instance follows. Two loops feed it: the log
// loop delivers a meeting's chat in seq order as hints arrive; the state loop
// re-reads the topic's state (status, presence, post count…) and announces
// what changed. Both deliver under mu, which also guards subscribers joining.
type topicState struct {
	h    *Hub
	name string
	kind string
	id   int64
	feed feed

	refs int // guarded by h.mu

	ready   chan struct{} // closed when the first head read is done
	initErr error

	mu    sync.Mutex
	seq   int64 // last log seq delivered to subscribers
	state any   // last state announced
	ring  []logFrame
	subs  map[*Conn]*subscription

	latest   atomic.Int64 // mirror of seq, read without the lock by hint()
	logWake  chan struct{}
	stWake   chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// subscription is one connection's position in a topic's log.
type subscription struct {
	cursor int64 // highest seq queued to the connection
}

type logFrame struct {
	seq   int64
	frame []byte
}

func newTopic(h *Hub, name, kind string, id int64, f feed) *topicState {
	return &topicState{h: h, name: name, kind: kind, id: id, feed: f,
		ready: make(chan struct{}), subs: map[*Conn]*subscription{},
		logWake: make(chan struct{}, 1), stWake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (t *topicState) start() {
	go t.run()
}

func (t *topicState) stop() { t.stopOnce.Do(func() { close(t.done) }) }

func (t *topicState) wakeLog() {
	select {
	case t.logWake <- struct{}{}:
	default: // a wake is already pending; one read covers both hints
	}
}

func (t *topicState) wakeState() {
	select {
	case t.stWake <- struct{}{}:
	default:
	}
}

func (t *topicState) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.h.ctx, 10*time.Second)
}

// run loads the head, then serves both loops until the last subscriber leaves.
func (t *topicState) run() {
	ctx, cancel := t.ctx()
	seq, st, err := t.feed.head(ctx, t.id)
	cancel()
	t.seq, t.state, t.initErr = seq, st, err
	t.latest.Store(seq)
	close(t.ready)
	if err != nil {
		t.h.log.Warn("live topic head", "topic", t.name, "err", err)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); t.stateLoop() }()
	t.logLoop()
	wg.Wait()
}

func (t *topicState) logLoop() {
	if _, ok := t.feed.(logFeed); !ok {
		return
	}
	for {
		select {
		case <-t.done:
			return
		case <-t.logWake:
		}
		t.pollLog()
	}
}

// stateLoop re-reads state at most every 200 ms: a burst of presence changes
// (a room filling up) becomes a few announcements, not one per person.
func (t *topicState) stateLoop() {
	for {
		select {
		case <-t.done:
			return
		case <-t.stWake:
		}
		t.pollState()
		select {
		case <-t.done:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// logPage is how many log entries one read fetches (replays use it too).
const logPage = 500

// livePage bounds what one poll delivers at once: a burst larger than a
// quarter of a connection's queue would close healthy subscribers that merely
// had not been scheduled yet. The next page follows at once.
func (t *topicState) livePage() int { return max(1, min(logPage, t.h.set.QueueFrames/4)) }

// pollLog delivers every committed log entry after the last delivered one.
func (t *topicState) pollLog() {
	lf := t.feed.(logFeed)
	page := t.livePage()
	for {
		t.mu.Lock()
		after := t.seq // deliverCommitted moves it too
		t.mu.Unlock()
		t.h.traced(stageRead, t.name, after)
		ctx, cancel := t.ctx()
		entries, err := lf.log(ctx, t.name, t.id, after, page)
		cancel()
		t.h.metrics.logReads.Inc()
		if err != nil {
			t.h.log.Warn("live topic log", "topic", t.name, "err", err)
			return // the next hint or the safety poll retries
		}
		frames := make([]logFrame, len(entries))
		for i, e := range entries {
			frames[i] = logFrame{seq: e.seq, frame: encode(e.frame)}
		}
		if len(entries) > 0 {
			t.h.traced(stageReadDone, t.name, entries[len(entries)-1].seq)
		}
		t.mu.Lock()
		for len(frames) > 0 && frames[0].seq <= t.seq {
			frames = frames[1:] // delivered meanwhile by deliverCommitted
		}
		starts := t.appendLocked(frames)
		t.mu.Unlock()
		fanOut(starts)
		if len(entries) > 0 {
			t.h.traced(stageDelivered, t.name, entries[len(entries)-1].seq)
		}
		if len(entries) < page {
			return
		}
		runtime.Gosched() // let the writers drain before the next page
	}
}

// delivered is the last log seq delivered to the topic's subscribers.
func (t *topicState) delivered() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// appendLocked delivers log entries that follow t.seq, in seq order, and
// keeps them in the ring for subscribers joining. Each subscriber gets its
// share with one offer per live page (see deliverLogLocked and livePage);
// the caller passes the result to fanOut once t.mu is released.
func (t *topicState) appendLocked(fs []logFrame) (starts []*Conn) {
	if len(fs) == 0 {
		return nil
	}
	for rest, page := fs, t.livePage(); len(rest) > 0; {
		n := min(len(rest), page)
		starts = t.deliverLogLocked(rest[:n], starts)
		rest = rest[n:]
	}
	t.seq = fs[len(fs)-1].seq
	t.ring = append(t.ring, fs...)
	// The ring keeps at least RingFrames entries; trimming only once it holds
	// twice that copies it once per RingFrames entries, not on every one.
	if keep := t.h.set.RingFrames; len(t.ring) >= 2*keep {
		t.ring = append(t.ring[:0:0], t.ring[len(t.ring)-keep:]...)
	}
	t.latest.Store(t.seq)
	return starts
}

// deliverCommitted delivers log entries committed on this instance (in seq
// order, consecutive), if they follow on from what was delivered; false
// means there is a gap the database must fill first. Entries already
// delivered are skipped (true).
func (t *topicState) deliverCommitted(fs []logFrame) bool {
	select {
	case <-t.ready:
	default:
		return false // the head is still being read: the log loop will see it
	}
	if t.initErr != nil {
		return true // a dead topic: nothing to deliver to
	}
	t.mu.Lock()
	for len(fs) > 0 && fs[0].seq <= t.seq {
		fs = fs[1:]
	}
	n := 0 // the entries that follow on from t.seq without a gap
	for n < len(fs) && fs[n].seq == t.seq+int64(n)+1 {
		n++
	}
	starts := t.appendLocked(fs[:n])
	t.mu.Unlock()
	fanOut(starts)
	return n == len(fs)
}

// pollState announces what changed in the topic's state since the last read.
func (t *topicState) pollState() {
	ctx, cancel := t.ctx()
	_, st, err := t.feed.head(ctx, t.id)
	cancel()
	if err != nil {
		t.h.log.Warn("live topic state", "topic", t.name, "err", err)
		return
	}
	t.mu.Lock()
	frames, recheck := t.feed.diff(t.name, t.id, t.state, st)
	before := t.state
	t.state = st
	if !recheck {
		var starts []*Conn
		for _, f := range frames {
			starts = t.deliverLocked(encode(f), starts)
		}
		t.mu.Unlock()
		fanOut(starts)
		return
	}
	subs := make([]*Conn, 0, len(t.subs))
	for c := range t.subs {
		subs = append(subs, c)
	}
	t.mu.Unlock()
	// A thread that was hidden, moved or merged may now be out of some
	// subscribers' reach, and a merge target may be a thread some of them may
	// not read. Each subscriber gets the update as the feed words it for them
	// (never naming another group's thread or group: SPEC §3), and those who
	// lost the topic lose the subscription.
	r, _ := t.feed.(redactor)
	type delivery struct {
		c      *Conn
		lost   bool
		frames [][]byte
	}
	out := make([]delivery, 0, len(subs))
	for _, c := range subs {
		ctx, cancel := t.ctx()
		a := c.actor()
		d := delivery{c: c, lost: lostAccess(t.feed.authorize(ctx, a, t.id))}
		for _, f := range frames {
			switch {
			case r != nil:
				if rf, keep := r.redact(ctx, a, d.lost, before, f); keep {
					d.frames = append(d.frames, encode(rf))
				}
			case !d.lost:
				d.frames = append(d.frames, encode(f))
			}
		}
		cancel()
		out = append(out, d)
	}
	t.mu.Lock()
	for _, d := range out {
		if _, still := t.subs[d.c]; !still {
			continue
		}
		for _, f := range d.frames {
			if !d.c.offer(f) {
				delete(t.subs, d.c)
				d.c.close(closeTooSlow, "too slow")
				break
			}
		}
	}
	t.mu.Unlock()
	for _, d := range out {
		if d.lost {
			d.c.drop(t.name)
		}
	}
}

// redactor is a feed whose state frames may tell a subscriber more than they
// may know: redact returns the frame as that subscriber gets it (keep false:
// nothing). lost says the subscriber may no longer read the topic; old is the
// state before the change.
type redactor interface {
	redact(ctx context.Context, a *access.Actor, lost bool, old any, frame any) (redacted any, keep bool)
}

// deliverLocked queues a state frame (not a log entry) to every subscriber;
// the connections whose writer role the offers took are appended to starts,
// for fanOut to write once t.mu is released (as a log delivery's).
func (t *topicState) deliverLocked(frame []byte, starts []*Conn) []*Conn {
	for c := range t.subs {
		starts = t.offerLocked(c, starts, frame)
	}
	return starts
}

// offerLocked queues frames to subscriber c with one offer: a subscriber
// whose queue is full is dropped and closed as too slow, and one whose writer
// role the offer took is appended to starts (for fanOut).
func (t *topicState) offerLocked(c *Conn, starts []*Conn, frames ...[]byte) []*Conn {
	ok, start := c.offerHeld(frames...)
	if !ok {
		delete(t.subs, c)
		c.close(closeTooSlow, "too slow")
	}
	if start {
		starts = append(starts, c)
	}
	return starts
}

// deliverLogLocked queues log entries (consecutive, in seq order) to every
// subscriber, each the entries after its cursor (a replayed entry is never
// repeated), with one offer: a subscriber's writer then wakes once and writes
// them with one call. The connections whose writer role the offers took are
// appended to starts, for fanOut to write once t.mu is released.
func (t *topicState) deliverLogLocked(fs []logFrame, starts []*Conn) []*Conn {
	frames := make([][]byte, len(fs))
	for i, f := range fs {
		frames[i] = f.frame
	}
	last := fs[len(fs)-1].seq
	for c, s := range t.subs {
		if last <= s.cursor {
			continue
		}
		from := 0
		for fs[from].seq <= s.cursor {
			from++
		}
		s.cursor = last
		starts = t.offerLocked(c, starts, frames[from:]...)
	}
	return starts
}

// ringSince returns the buffered frames after seq, or false when the ring no
// longer reaches back that far.
func (t *topicState) ringSince(seq int64) ([]logFrame, bool) {
	if seq >= t.seq {
		return nil, true
	}
	if len(t.ring) == 0 || t.ring[0].seq > seq+1 {
		return nil, false
	}
	for i, f := range t.ring {
		if f.seq > seq {
			return t.ring[i:], true
		}
	}
	return nil, true
}
