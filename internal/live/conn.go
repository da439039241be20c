package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Close codes beyond RFC 6455's.
const (
	closeNormal     = websocket.CloseNormalClosure
	closeGoingAway  = websocket.CloseGoingAway
	closeSessionEnd = 4001 // the session was ended or expired: log in again
	closeTooSlow    = 4008 // the queue filled up: reconnect and resume with since_seq
)

const (
	// ReadLimit is the largest frame a client may send (SPEC §5).
	ReadLimit    = 16 << 10
	writeTimeout = 10 * time.Second
	closeGrace   = time.Second // for the close frame before the socket is closed
	// sendBuffer pins the kernel's send buffer of each socket. Left to
	// autotuning it grows to megabytes (net.ipv4.tcp_wmem), which a client
	// that never reads fills at chat speed only after minutes: its queue
	// never filled, and only the read deadline (~60 s) ended it, while the
	// kernel held megabytes for it. 64 KiB (the kernel doubles it) is many
	// chat frames, and is writeTimeout's worth of data at 13 KB/s.
	sendBuffer = 64 << 10
	maxTopics  = 50 // per connection
)

// Session re-validates a connection's session; it returns the actor as of now,
// or apperr.ErrUnauthenticated once the session is gone.
type Session func(ctx context.Context) (*access.Actor, error)

// Conn is one websocket connection. Its reader goroutine (Serve's caller)
// handles client frames; one writer at a time writes to the socket, started
// when there is something to write (see write).
type Conn struct {
	h   *Hub
	ws  *websocket.Conn
	raw net.Conn // the TCP connection itself (see hardClose)
	// rc writes to raw's socket without waiting (see tryWrite); nil when
	// raw has no file descriptor (then the writer goroutine does it all).
	rc      syscall.RawConn
	who     atomic.Pointer[access.Actor]
	session Session

	out      *queue
	done     chan struct{} // closed by close(): the writer sends the close frame
	written  chan struct{} // closed when the writer is done for good
	finished chan struct{} // closed when Serve has returned

	// The connection's timers (see arm), re-armed by their own callbacks.
	timerMu   sync.Mutex
	pinger    *time.Timer // pings the peer
	rechecker *time.Timer // re-checks the session
	stopped   bool        // the writer is done for good: arm no more

	closeOnce sync.Once
	closeCode int
	closeText string

	mu     sync.Mutex
	topics map[string]*topicState
	listed map[string]bool // topics with presence that list this connection

	// revoked counts the revocations that reached this connection; checked
	// is the count the latest completed re-check had seen. While checked is
	// behind, the reader re-checks (or waits for the re-check under way)
	// before acting on the old rights: a send right after a demotion is
	// refused. A flag cleared when a re-check starts would let a send slip
	// through while that re-check is still reading the database.
	revoked, checked atomic.Int64
	// recheckMu orders session re-checks (the periodic one, revocations): a
	// check that read the database before a change must not store its
	// actor after one that read it since.
	recheckMu sync.Mutex

	// The connection's chat sends, pipelined (see queueSend): the reader
	// queues them and reads on; one sender goroutine, started when a send
	// arrives and gone when the queue is empty, checks each run of them
	// with one query and hands it to the meeting's writer, in order.
	sendMu   sync.Mutex
	sendCond *sync.Cond // signals room in sendQ and the sender's end
	sendQ    []clientFrame
	sending  bool

	// self is how the user appears in presence lists; loaded by the reader
	// goroutine before its first meeting subscription, read under topic locks.
	self *store.PresentUser
}

func (c *Conn) actor() *access.Actor { return c.who.Load() }

// Serve runs a connection until it ends. The caller (the web layer) has checked
// the session and the Origin before upgrading.
func (h *Hub) Serve(ws *websocket.Conn, a *access.Actor, session Session) {
	c := &Conn{h: h, ws: ws, raw: rawConn(ws), session: session, out: newQueue(h.set.QueueFrames),
		done: make(chan struct{}), written: make(chan struct{}), finished: make(chan struct{}), topics: map[string]*topicState{}, listed: map[string]bool{}}
	c.sendCond = sync.NewCond(&c.sendMu)
	c.who.Store(a)
	if tc, ok := c.raw.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	if sc, ok := c.raw.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	// The library would answer pings and close frames itself, writing from
	// the reader goroutine; the writer does it instead, in turn with
	// everything else (see appendWork).
	ws.SetPingHandler(func(payload string) error {
		if c.out.pong([]byte(payload)) {
			go c.write()
		}
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		c.shut(code, "") // echo the peer's code, as the library's own handler does
		return nil
	})
	defer close(c.finished)
	if !h.register(c) {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = ws.Close()
		return
	}
	c.arm(&c.pinger, h.set.PingEvery, c.pingTimer)
	c.arm(&c.rechecker, h.set.RecheckSession, c.recheckTimer)
	c.readLoop()
	c.close(closeNormal, "")
	c.waitSends()
	<-c.written
	c.mu.Lock()
	names := make([]string, 0, len(c.topics))
	for name := range c.topics {
		names = append(names, name)
	}
	c.mu.Unlock()
	for _, name := range names {
		c.unsubscribe(name)
	}
	h.unregister(c)
}

// close asks the writer to send a close frame and end the connection. Safe to
// call from anywhere, any number of times; the first code wins.
func (c *Conn) close(code int, text string) {
	c.closeOnce.Do(func() {
		if code == closeTooSlow {
			c.h.metrics.slowCloses.Inc()
		}
		c.closing(code, text)
	})
}

// shut is close without counting anything: the peer's own close code is
// echoed through it (a peer's 4008 is not a slow close of ours).
func (c *Conn) shut(code int, text string) {
	c.closeOnce.Do(func() { c.closing(code, text) })
}

// closing is close's work, run once (under closeOnce).
func (c *Conn) closing(code int, text string) {
	c.closeCode, c.closeText = code, text
	close(c.done)
	// The writer sends the close frame: this goroutine becomes it, or
	// the one writing now does (see write).
	if c.out.claim() {
		go c.write()
	}
	// The writer may be blocked writing to a peer that stopped reading
	// (its socket buffer full): the close frame gets a moment, then the
	// socket is closed under the blocked write. A stalled peer usually
	// sees the connection end without the frame; it resumes all the same.
	time.AfterFunc(closeGrace, c.hardClose)
}

// offer queues frames without waiting, all or none; false means the queue
// has no room for them.
func (c *Conn) offer(frames ...[]byte) bool {
	ok, start := c.offerHeld(frames...)
	if start {
		go c.write()
	}
	return ok
}

// send queues a frame for the reader goroutine's own answers (replays, acks):
// it waits for room, since the reader is this connection's alone to block.
func (c *Conn) send(frame []byte) bool {
	for {
		ok, start := c.out.offer(frame)
		if ok {
			c.queued(1, start)
			return true
		}
		select {
		case <-c.out.room:
		case <-c.done:
			return false
		}
	}
}

// queued counts n queued frames and starts the writer if their offer took
// the writer role.
func (c *Conn) queued(n int, start bool) {
	c.h.metrics.frames.Add(float64(n))
	if start {
		go c.write()
	}
}

// offerHeld is offer for a fan-out that writes itself (see fanOut): start
// means the caller took the writer role for c and must write (offer starts
// the writer at once; a fan-out passes c to fanOut).
func (c *Conn) offerHeld(frames ...[]byte) (ok, start bool) {
	select {
	case <-c.done:
		return true, false // closing: nothing more will be written anyway
	default:
	}
	ok, start = c.out.offer(frames...)
	if ok {
		c.h.metrics.frames.Add(float64(len(frames)))
	}
	return ok, start
}

// writerWave bounds the writer goroutines a fan-out makes runnable at once:
// well below a P's local run queue (256), so that none spill into the
// global queue and a P that runs out of its own polls the network before
// it steals.
const writerWave = 64

// fanOut writes what a fan-out queued to the connections whose writer role
// offerHeld took, from the fan-out's own goroutine, each with one
// non-blocking write (see tryWrite); only a connection whose socket would
// block (its kernel buffer full: a slow or stalled peer) gets a writer
// goroutine, which finishes the write and whatever follows. Before, every
// delivery started a writer goroutine (1,000 per message at 1,000
// subscribers, in waves of 64): the runtime's queues, the goroutines'
// stacks and a wake-up per socket for what one system call does when the
// socket has room, as it nearly always has (issue 16).
//
// A large fan-out is split over the Ps (GOMAXPROCS), a part of at least
// fanOutPart connections each, the first written by the caller: one
// goroutine writing 1,000 sockets one after another (~5–15 µs of CPU each,
// nearly all the kernel's delivery over loopback) would keep the fan-out on
// one core while another idles. A part's goroutine is not waited for: a connection's order is
// its queue's, whoever writes it.
func fanOut(cs []*Conn) {
	parts := min(runtime.GOMAXPROCS(0), len(cs)/fanOutPart)
	if parts > 1 {
		per := (len(cs) + parts - 1) / parts
		for rest := cs[per:]; len(rest) > 0; {
			part := rest[:min(per, len(rest))]
			rest = rest[len(part):]
			go writeDirect(part)
		}
		cs = cs[:per]
	}
	writeDirect(cs)
}

// fanOutPart is the fewest connections a part of a split fan-out has.
const fanOutPart = 128

// writeDirect is fanOut's work for one part of the connections.
func writeDirect(cs []*Conn) {
	if len(cs) == 0 {
		return
	}
	w := nonBlocking{}
	w.fn = w.write // one closure per fan-out, not one per socket
	bp := batchBuffers.Get().(*[]byte)
	var blocked []stalledWrite
	direct := 0
	for _, c := range cs {
		rest, writes, handOff := c.tryWrite(&w, bp)
		direct += writes
		if handOff {
			blocked = append(blocked, stalledWrite{c, rest})
		}
	}
	putBatchBuffer(bp)
	m := cs[0].h.metrics
	m.directWrites.Add(float64(direct))
	m.handOffs.Add(float64(len(blocked)))
	startWriters(blocked)
}

// stalledWrite is a connection whose writer must go on where a fan-out's
// non-blocking write stopped: rest is the part of the frames not written.
type stalledWrite struct {
	c    *Conn
	rest []byte
}

// startWriters runs the writers of connections the fan-out could not finish
// in waves, each once the previous wave's goroutines have all run. Started
// all at once, 1,000 writers filled the run queues, and Go polls the
// network only when a P runs out of goroutines (or every 10 ms), so every
// database answer the chat's next message waited for — the check, the
// commit — waited for the whole fan-out (issue 16: check queries of
// sub-millisecond took 8–13 ms p50, 36–73 ms p99 under the fan-out; in
// waves 6–8 and 26). A wave waits only for its goroutines to start, never
// for a write: a stalled socket does not hold up the others.
func startWriters(ws []stalledWrite) {
	for len(ws) > 0 {
		n := min(len(ws), writerWave)
		var left atomic.Int32
		left.Store(int32(n))
		ran := make(chan struct{})
		for _, w := range ws[:n] {
			go func() {
				if left.Add(-1) == 0 {
					close(ran)
				}
				w.c.writeRest(w.rest)
			}()
		}
		<-ran
		ws = ws[n:]
	}
}

// maxDirectRounds bounds how often a fan-out writes one connection again
// for frames queued while it was writing, before it leaves what keeps
// coming to a writer goroutine.
const maxDirectRounds = 2

// tryWrite is the fan-out's write to c, whose writer role the caller holds
// (writes counts its complete system calls):
// it frames what is queued (text frames, a due ping or pong) into *bp and
// writes it with one non-blocking system call. Written whole, the role is
// given up when nothing more is queued (or written once more); otherwise
// handOff says a writer goroutine must take over, writing rest first (the
// part of a frame the kernel did not take, which must go out before
// anything else on the socket). A closing connection, or one without a raw
// socket (a test's pipe), is always handed off.
func (c *Conn) tryWrite(w *nonBlocking, bp *[]byte) (rest []byte, writes int, handOff bool) {
	if c.rc == nil {
		return nil, 0, true
	}
	var batch [][]byte
	for round := 0; ; round++ {
		select {
		case <-c.done:
			return nil, writes, true // the writer sends the close frame
		default:
		}
		job, ok := c.out.take(batch)
		if !ok {
			// Nothing left: the role is given up. A close that found the
			// role held left the close frame to its holder (see write).
			select {
			case <-c.done:
				if c.out.claim() {
					return nil, writes, true
				}
			default:
			}
			return nil, writes, false
		}
		batch = job.frames
		*bp = appendWork((*bp)[:0], job)
		if round == maxDirectRounds {
			// Frames keep coming: a writer goroutine takes this
			// connection, so the others are not kept waiting.
			clear(batch)
			return append([]byte(nil), *bp...), writes, true
		}
		n, err := w.try(c.rc, *bp)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The deadline of the writer goroutine's last blocking write
			// (writeRaw) has passed: it was that write's, not this one's,
			// which never waits. The role is ours, so is the deadline.
			_ = c.raw.SetWriteDeadline(time.Time{})
			n, err = w.try(c.rc, *bp)
		}
		if err != nil || n < len(*bp) {
			clear(batch)
			return append([]byte(nil), (*bp)[n:]...), writes, true
		}
		writes++
	}
}

// nonBlocking writes once to a socket without waiting for room (see
// tryWrite); its fields carry the call's arguments and results so that fn,
// made once per fan-out, allocates nothing per socket.
type nonBlocking struct {
	buf []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// write is RawConn.Write's callback: one write(2), done whatever it
// returned (true), so the caller never waits for the socket to drain.
func (w *nonBlocking) write(fd uintptr) bool {
	w.n, w.err = syscall.Write(int(fd), w.buf)
	if w.n < 0 {
		w.n = 0
	}
	return true
}

// try writes buf once; n is what the kernel took. An error (EAGAIN: the
// socket buffer is full; a closed or reset socket) leaves the rest to the
// writer goroutine, whose blocking write waits or reports it.
func (w *nonBlocking) try(rc syscall.RawConn, buf []byte) (int, error) {
	w.buf, w.n, w.err = buf, 0, nil
	err := rc.Write(w.fn)
	w.buf = nil
	if err == nil {
		err = w.err
	}
	return w.n, err
}

func (c *Conn) sendJSON(v any) bool { return c.send(encode(v)) }

// write holds the writer role (see queue): it writes what is queued and a
// due ping until nothing is left, then gives the role up; the next frame,
// ping or close starts a writer again. An idle connection thus keeps no
// writer goroutine and its stack (issue 16: one goroutine per idle socket,
// the reader, instead of two). Once the connection closes, the writer that
// sees it sends the close frame, keeps the role for good and closes the
// socket, which ends the reader's blocked read.
func (c *Conn) write() {
	var batch [][]byte
	for {
		select {
		case <-c.done:
			msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			c.stopWriting()
			return
		default:
		}
		job, ok := c.out.take(batch)
		batch = job.frames
		if !ok {
			// A close that found this writer running left the close
			// frame to it: the role was given up since, so take it back.
			select {
			case <-c.done:
				if c.out.claim() {
					continue
				}
			default:
			}
			return
		}
		if err := c.writeWork(job); err != nil {
			c.writeFailed(err)
			return
		}
	}
}

// writeRest is the writer taking over from a fan-out that could not write
// all of rest without waiting: rest goes out first, then what is queued.
func (c *Conn) writeRest(rest []byte) {
	if len(rest) > 0 {
		if err := c.writeRaw(rest); err != nil {
			c.writeFailed(err)
			return
		}
	}
	c.write()
}

// writeFailed ends the connection after a failed write. A peer that took
// nothing for writeTimeout stopped reading: too slow, like one whose queue
// filled (the close frame cannot follow a failed write, though).
func (c *Conn) writeFailed(err error) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.close(closeTooSlow, "too slow")
	} else {
		c.close(closeNormal, "")
	}
	c.stopWriting()
}

// writeWork writes what take handed the writer: its frames, then a due
// ping and pong, with one system call per 64 KiB.
func (c *Conn) writeWork(job work) error {
	bp := batchBuffers.Get().(*[]byte)
	defer putBatchBuffer(bp)
	frames := job.frames
	for {
		buf := (*bp)[:0]
		n := 0
		for n < len(frames) && (n == 0 || len(buf)+len(frames[n]) <= coalesced) {
			buf = appendTextFrame(buf, frames[n])
			n++
		}
		frames = frames[n:]
		if len(frames) == 0 {
			buf = appendControls(buf, job)
		}
		*bp = buf
		if err := c.writeRaw(buf); err != nil {
			return err
		}
		if len(frames) == 0 {
			return nil
		}
	}
}

// writeRaw writes bytes already framed, waiting up to writeTimeout.
func (c *Conn) writeRaw(b []byte) error {
	_ = c.raw.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := c.raw.Write(b)
	return err
}

// stopWriting ends the connection's writing for good: the writer keeps its
// role, so no other starts.
func (c *Conn) stopWriting() {
	c.timerMu.Lock()
	c.stopped = true
	for _, t := range []*time.Timer{c.pinger, c.rechecker} {
		if t != nil { // nil: closed before Serve armed it
			t.Stop()
		}
	}
	c.timerMu.Unlock()
	c.hardClose() // ends the reader's blocked read
	close(c.written)
}

// arm starts the timer *t, or starts it again, unless writing has stopped.
// Timers instead of the writer's tickers: an idle connection has no writer.
func (c *Conn) arm(t **time.Timer, d time.Duration, f func()) {
	c.timerMu.Lock()
	defer c.timerMu.Unlock()
	switch {
	case c.stopped:
	case *t == nil:
		*t = time.AfterFunc(d, f)
	default:
		(*t).Reset(d)
	}
}

// pingTimer pings the peer every PingEvery: it has the writer send a ping,
// becoming the writer when none is running.
func (c *Conn) pingTimer() {
	c.arm(&c.pinger, c.h.set.PingEvery, c.pingTimer)
	if c.out.ping() {
		c.write()
	}
}

// recheckTimer re-checks the session every RecheckSession, on the timer's own
// goroutine.
func (c *Conn) recheckTimer() {
	select {
	case <-c.done:
		return
	default:
	}
	c.recheckSession(false)
	c.arm(&c.rechecker, c.h.set.RecheckSession, c.recheckTimer)
}

// coalesced bounds the bytes written by one system call of writeWork.
const coalesced = 64 << 10

// batchBuffers hold the frames a writer or a fan-out sends together: shared,
// so an idle connection keeps none.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

func putBatchBuffer(bp *[]byte) {
	if cap(*bp) <= coalesced+ReadLimit {
		*bp = (*bp)[:0]
		batchBuffers.Put(bp)
	}
}

// Every frame is framed here and written to the socket directly, several
// with one system call (a connection behind a fan-out: issue 16, the
// fan-out's CPU was nearly all write calls), never through the websocket
// library's writer: the fan-out may leave part of a frame for the writer
// goroutine (see tryWrite), and nothing may be written between the two
// parts. So the library writes nothing of its own while the connection
// runs: pings and pongs are queued for the writer (see Serve), and the
// close frame is the writer's last write.

// appendWork appends a writer's batch: its text frames, then a due ping and
// pong.
func appendWork(b []byte, job work) []byte {
	for _, f := range job.frames {
		b = appendTextFrame(b, f)
	}
	return appendControls(b, job)
}

// appendControls appends a due ping and pong (RFC 6455 §5.5.2, §5.5.3;
// a pong's payload is at most 125 bytes, as the ping's was).
func appendControls(b []byte, job work) []byte {
	if job.ping {
		b = append(b, 0x89, 0)
	}
	if job.pongDue {
		b = append(b, 0x8a, byte(len(job.pong)))
		b = append(b, job.pong...)
	}
	return b
}

// appendTextFrame appends a final, unmasked text frame (RFC 6455 §5.2: a
// server never masks) carrying payload.
func appendTextFrame(b, payload []byte) []byte {
	const finText = 0x81
	switch n := len(payload); {
	case n < 126:
		b = append(b, finText, byte(n))
	case n <= 0xffff:
		b = append(b, finText, 126, byte(n>>8), byte(n))
	default:
		b = append(b, finText, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// hardClose closes the TCP connection, ending any blocked read or write.
// fasthttp's hijacked connection ignores Close (fasthttp closes the socket when
// the handler returns, and pools the wrapper), so this holds the socket itself,
// taken at the start. Closing it twice is harmless.
func (c *Conn) hardClose() { _ = c.raw.Close() }

// rawConn unwraps fasthttp's hijacked connection.
func rawConn(ws *websocket.Conn) net.Conn {
	nc := ws.UnderlyingConn()
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// recheckSession ends the connection when its session is gone and refreshes
// the actor otherwise (memberships may have changed), dropping topics it may
// no longer read. sessionsEnded (a revocation said every session of the user
// ended) closes the connection even when the database cannot be asked.
func (c *Conn) recheckSession(sessionsEnded bool) { c.recheck(sessionsEnded, true) }

// recheck is recheckSession; unless always, it does nothing when a re-check
// that saw every revocation so far has completed (while this one waited for
// it, say).
func (c *Conn) recheck(sessionsEnded, always bool) {
	c.recheckMu.Lock()
	defer c.recheckMu.Unlock()
	select {
	case <-c.done:
		return
	default:
	}
	gen := c.revoked.Load() // revocations from here on need another re-check
	if !always && c.checked.Load() >= gen {
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 5*time.Second)
	defer cancel()
	a, err := c.session(ctx)
	if errors.Is(err, apperr.ErrUnauthenticated) || (err != nil && sessionsEnded) {
		c.close(closeSessionEnd, "session ended")
		return
	}
	if err != nil {
		return // the database is away; try again next time
	}
	c.who.Store(a)
	c.checked.Store(gen)
	c.mu.Lock()
	ts := make([]*topicState, 0, len(c.topics))
	for _, t := range c.topics {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		c.recheckTopic(ctx, a, t)
	}
}

// recheckTopic drops a subscription a may no longer read, and lists or
// unlists the connection on a topic with presence as a's rights now say (an
// editor made observer leaves a note's editors).
func (c *Conn) recheckTopic(ctx context.Context, a *access.Actor, t *topicState) {
	err := t.feed.authorize(ctx, a, t.id)
	if lostAccess(err) {
		c.drop(t.name)
		return
	}
	pf, tracked := t.feed.(presenceFeed)
	if err != nil || !tracked {
		return
	}
	listed, err := pf.lists(ctx, a, t.id)
	if err != nil {
		return // the database is away: the listing stays as it was
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.topics[t.name] != t || c.listed[t.name] == listed {
		return // unsubscribed meanwhile, or nothing changed
	}
	if listed {
		if c.self == nil {
			return // never loaded (not listed anywhere yet): the next subscribe lists it
		}
		c.listed[t.name] = true
		c.h.joined(t.name, a.UserID)
	} else {
		delete(c.listed, t.name)
		c.h.left(t.name, a.UserID)
	}
}

// current applies a revocation that arrived but whose re-check has not read
// the database yet, so the reader never acts on rights already taken away;
// false means the connection is closing.
func (c *Conn) current() bool {
	if c.checked.Load() < c.revoked.Load() {
		c.recheck(false, false)
	}
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// lostAccess tells a refusal (the topic is out of the user's reach) from a
// failure to check (the database is away), which must not end a subscription.
func lostAccess(err error) bool {
	return errors.Is(err, apperr.ErrNotFound) || errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrUnauthenticated)
}

// topicError answers a subscribe that failed. not_found is final for a client
// (SPEC §5 keeps it for topics the user may not read); anything else, such as
// a database outage, is "internal": subscribe again.
func topicError(name string, err error) errorFrame {
	if lostAccess(err) {
		return errorFrame{Type: "error", Code: "not_found", Ref: name}
	}
	return errorFrame{Type: "error", Code: "internal", Ref: name, Message: "the topic could not be read; subscribe again"}
}

// drop ends a subscription the connection may no longer read, telling it so.
func (c *Conn) drop(name string) {
	c.unsubscribe(name)
	c.offer(encode(errorFrame{Type: "error", Code: "not_found", Ref: name, Message: "this topic is no longer available"}))
}

func (c *Conn) readLoop() {
	pongWait := c.h.set.PingEvery * 5 / 2
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := c.readMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.close(websocket.CloseMessageTooBig, "frame larger than 16 KiB")
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if kind != websocket.TextMessage {
			c.sendJSON(errorFrame{Type: "error", Code: "bad_request", Message: "text frames of JSON only"})
			continue
		}
		onFreshStack(func() { c.handle(data) })
		select {
		case <-c.done:
			return
		default:
		}
	}
}

// readMessage reads the next message, at most ReadLimit bytes of it
// (websocket.ErrReadLimit beyond). The limit is not the library's
// SetReadLimit: the library answers an oversized message with a close frame
// written from the reader, which could land inside a frame the fan-out left
// half written (see tryWrite); here the writer sends the 1009.
func (c *Conn) readMessage() (kind int, data []byte, err error) {
	kind, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	data, err = io.ReadAll(io.LimitReader(r, ReadLimit+1))
	if err != nil {
		return 0, nil, err
	}
	if len(data) > ReadLimit {
		return 0, nil, websocket.ErrReadLimit
	}
	return kind, data, nil
}

// onFreshStack runs f on a goroutine of its own and waits for it (a panic
// goes on in the caller). What a frame does (database queries, JSON) grows a
// goroutine's stack to 8–16 KiB, and a goroutine keeps a grown stack until
// garbage collections shrink it, which a server of idle sockets seldom runs:
// run on the reader, that work would leave every idle connection's one
// long-lived goroutine holding a grown stack (issue 16: stacks were 12.7 KB
// per idle connection at 10,000, two goroutines; 4.8 KB now). A short-lived
// goroutine's stack goes back to the runtime's cache for the next one; the
// session re-check runs on its timer's goroutine for the same reason.
func onFreshStack(f func()) {
	done := make(chan struct{})
	var panicked any
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		f()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Ref     string `json:"ref,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryAfter is set on rate_limited: seconds until a send may succeed.
	RetryAfter int `json:"retry_after,omitempty"`
}

type ackFrame struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	ID       int64  `json:"id"`
	Seq      int64  `json:"seq"`
}

type subscribedFrame struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
	Seq   int64  `json:"seq"`
	State any    `json:"state,omitempty"`
}

func (c *Conn) handle(data []byte) {
	f, bad := decodeFrame(data)
	if bad != nil {
		c.waitSends()
		c.sendJSON(*bad)
		return
	}
	if f.Type == "chat.send" {
		c.queueSend(f)
		return
	}
	// Anything else is answered after the sends before it: the client sees
	// its answers in the order of its frames, as when sends were handled
	// one at a time.
	c.waitSends()
	switch f.Type {
	case "ping":
		c.sendJSON(map[string]string{"type": "pong"})
	case "subscribe":
		c.subscribe(f.Topic, f.SinceSeq)
	case "unsubscribe":
		c.unsubscribe(f.Topic)
	}
}

const (
	// maxQueuedSends bounds the sends a connection may have waiting; the
	// reader stops reading while it is reached.
	maxQueuedSends = 64
	// maxSendBatch bounds the messages stored by one statement.
	maxSendBatch = 32
)

// queueSend hands a chat.send to the connection's sender goroutine, starting
// it if none runs. A client sending faster than one round trip per message
// no longer waits for each: what queued meanwhile is stored together (issue
// 16), in order, each message acknowledged only after its commit.
func (c *Conn) queueSend(f clientFrame) {
	c.sendMu.Lock()
	for len(c.sendQ) >= maxQueuedSends {
		c.sendCond.Wait()
	}
	c.sendQ = append(c.sendQ, f)
	start := !c.sending
	c.sending = true
	c.sendMu.Unlock()
	if start {
		go c.sendLoop()
	}
}

// waitSends returns once every queued send was answered and its message
// announced.
func (c *Conn) waitSends() {
	c.sendMu.Lock()
	for c.sending {
		c.sendCond.Wait()
	}
	c.sendMu.Unlock()
}

// sendLoop is the sender goroutine: it takes what is queued, stores each run
// of sends to the same meeting as a batch, and ends when the queue is empty
// and what it stored is announced. A run waits for the previous run's commit
// (its checks count that run's messages), not for its fan-out: the
// announcements are waited for once the queue is empty, so that waitSends
// still means "answered and announced".
func (c *Conn) sendLoop() {
	var ann meetings.Announcements
	for {
		c.sendMu.Lock()
		q := c.sendQ
		c.sendQ = nil
		if len(q) == 0 && ann.None() {
			c.sending = false
		}
		c.sendCond.Broadcast()
		c.sendMu.Unlock()
		if len(q) == 0 {
			if ann.None() {
				return
			}
			ann.Wait() // then look again: sends may have come meanwhile
			continue
		}
		for len(q) > 0 {
			n := 1
			for n < len(q) && n < maxSendBatch && q[n].MeetingID == q[0].MeetingID {
				n++
			}
			c.chatSend(q[:n], &ann)
			q = q[n:]
		}
	}
}

// chatSend sends a run of messages to one meeting; the announcement of what
// it stored goes to ann.
func (c *Conn) chatSend(fs []clientFrame, ann *meetings.Announcements) {
	if !c.current() {
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 10*time.Second)
	defer cancel()
	items := make([]meetings.Outgoing, len(fs))
	for i, f := range fs {
		items[i] = meetings.Outgoing{ClientID: f.ClientID, Body: f.Body}
	}
	// Each ack is queued once its message is committed (it is durable) and
	// before the message is delivered, to this connection too.
	c.h.meetings.SendBatchThen(ctx, c.actor(), fs[0].MeetingID, items, func(i int, msg meetings.Message, err error) {
		if err == nil {
			c.answer(ackFrame{Type: "chat.ack", ClientID: msg.ClientID, ID: msg.ID, Seq: msg.Seq})
			return
		}
		e := sendError(err, fs[i].ClientID)
		c.answer(e)
		if e.Code == "internal" {
			c.h.log.Error("chat send over websocket", "meeting", fs[i].MeetingID, "err", err)
		}
	}, ann)
}

// answer queues the answer to a send without waiting for room: the
// meeting's writer queues the acks of every connection that sent to it right
// after their commit, and one connection that stopped reading must not hold
// up the meeting's chat. A full queue closes the connection as it closes a
// subscriber that fell behind (4008); its client resends what got no ack and
// is answered with the stored message.
func (c *Conn) answer(v any) {
	if !c.offer(encode(v)) {
		c.close(closeTooSlow, "too slow")
	}
}

// sendError maps a service error onto SPEC §5's error codes.
func sendError(err error, ref string) errorFrame {
	e := errorFrame{Type: "error", Ref: ref}
	var denied *apperr.Denied
	var limited *apperr.RateLimited
	var invalid *apperr.Validation
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		e.Code, e.Message = "not_found", "no such meeting"
	case errors.As(err, &denied) && denied.Code == meetings.ErrNotLive.Code:
		e.Code, e.Message = "meeting_not_live", denied.Message
	case errors.As(err, &denied): // muted, for one
		e.Code, e.Message = "forbidden", denied.Message
	case errors.Is(err, apperr.ErrForbidden), errors.Is(err, apperr.ErrUnauthenticated):
		e.Code, e.Message = "forbidden", "you may not write in this meeting"
	case errors.As(err, &limited):
		e.Code, e.Message = "rate_limited", "too many messages; wait a moment"
		e.RetryAfter = int((limited.RetryAfter + time.Second - 1) / time.Second)
	case errors.Is(err, meetings.ErrTooLong):
		e.Code, e.Message = "too_long", "a message has 1 to 4,000 characters"
	case errors.As(err, &invalid):
		e.Code, e.Message = "bad_request", "meeting_id and a UUID client_id are required"
	default:
		e.Code, e.Message = "internal", "the message was not stored; send it again"
	}
	return e
}

// subscribe replays a topic's log after since_seq from the database, then joins
// the live stream at exactly the point the replay reached: no gap, no repeat.
func (c *Conn) subscribe(name string, since *int64) {
	kind, id, err := topic.Parse(name)
	if err != nil || kind == topic.User {
		c.sendJSON(errorFrame{Type: "error", Code: "bad_request", Ref: name, Message: "topics are meeting:ID, thread:ID or group:ID"})
		return
	}
	if !c.current() {
		return
	}
	ctx, cancel := context.WithTimeout(c.h.ctx, 30*time.Second)
	defer cancel()
	f := c.h.feeds[kind]
	if f == nil { // a kind this hub was built without
		c.sendJSON(errorFrame{Type: "error", Code: "bad_request", Ref: name, Message: "topics are meeting:ID, thread:ID or group:ID"})
		return
	}
	who := c.actor()
	if err := f.authorize(ctx, who, id); err != nil {
		c.sendJSON(topicError(name, err))
		return
	}
	c.unsubscribe(name) // a second subscribe restarts from its since_seq
	c.mu.Lock()
	n := len(c.topics)
	c.mu.Unlock()
	if n >= maxTopics {
		c.sendJSON(errorFrame{Type: "error", Code: "bad_request", Ref: name, Message: fmt.Sprintf("at most %d topics per connection", maxTopics)})
		return
	}
	pf, tracked := f.(presenceFeed)
	if tracked {
		if tracked, err = pf.lists(ctx, who, id); err != nil {
			c.sendJSON(topicError(name, err))
			return
		}
	}
	if tracked && c.self == nil {
		// As the session check read the user (no query of its own).
		me := store.PresentUser{ID: who.UserID, Name: who.Name, JST: who.JST}
		c.mu.Lock() // recheckTopic reads it from other goroutines
		c.self = &me
		c.mu.Unlock()
	}
	t := c.h.acquire(name, kind, id)
	select {
	case <-t.ready:
	case <-ctx.Done():
		c.h.release(t)
		return
	}
	if t.initErr != nil {
		c.h.release(t)
		c.sendJSON(topicError(name, t.initErr))
		return
	}
	var self *store.PresentUser
	if tracked {
		self = c.self
	}
	if !c.join(ctx, t, since, self) {
		c.h.release(t)
		return
	}
	c.mu.Lock()
	c.topics[name] = t
	if tracked {
		// Under c.mu, so that a re-check changing the listing and an
		// unsubscribe count this connection in and out in order.
		c.listed[name] = true
		c.h.joined(name, who.UserID)
	}
	c.mu.Unlock()
	// A revocation that re-checked this connection's topics while this one
	// was being joined did not see it: check it against the new rights.
	if now := c.actor(); now != who {
		c.recheckTopic(ctx, now, t)
	}
}

// join replays and then adds the connection to the topic's subscribers.
func (c *Conn) join(ctx context.Context, t *topicState, since *int64, self *store.PresentUser) bool {
	lf, hasLog := t.feed.(logFeed)
	cursor := int64(-1) // no since_seq: start at the live edge, no replay
	if since != nil && hasLog {
		cursor = max(*since, 0)
	}
	for {
		// 1. Replay from the database, outside the topic's lock — unless the
		// subscriber already has everything the topic has delivered (a fresh
		// meeting, a reconnect that missed nothing): then the database has at
		// most entries whose notice is still on its way, which reach this
		// subscriber live like every other's, in order, once it is listed. This
		// saves a statement per connection on the connect path.
		for cursor >= 0 && cursor < t.delivered() {
			entries, err := lf.log(ctx, t.name, t.id, cursor, logPage)
			if err != nil {
				c.h.log.Warn("live replay", "topic", t.name, "err", err)
				c.sendJSON(errorFrame{Type: "error", Code: "internal", Ref: t.name, Message: "replay failed; subscribe again"})
				return false
			}
			for _, e := range entries {
				if !c.send(encode(e.frame)) {
					return false
				}
				cursor = e.seq
			}
			if len(entries) < logPage {
				break
			}
		}
		if c.h.afterReplay != nil {
			c.h.afterReplay(t.name)
		}
		// 2. Under the lock, bridge what the topic delivered meanwhile from
		// its ring; if the ring no longer reaches back, replay again.
		t.mu.Lock()
		if cursor < 0 {
			cursor = t.seq
		}
		missed, ok := t.ringSince(cursor)
		if !ok {
			t.mu.Unlock()
			continue
		}
		for _, f := range missed {
			if !c.offer(f.frame) {
				t.mu.Unlock()
				c.close(closeTooSlow, "too slow")
				return false
			}
		}
		cursor = max(cursor, t.seq)
		t.subs[c] = &subscription{cursor: cursor}
		summary, extra := t.feed.greeting(t.name, t.id, t.state, self)
		ok = c.offer(encode(subscribedFrame{Type: "subscribed", Topic: t.name, Seq: cursor, State: summary}))
		for _, f := range extra {
			ok = ok && c.offer(encode(f))
		}
		t.mu.Unlock()
		if !ok {
			c.close(closeTooSlow, "too slow")
			return false
		}
		return true
	}
}

func (c *Conn) unsubscribe(name string) {
	c.mu.Lock()
	t := c.topics[name]
	delete(c.topics, name)
	if c.listed[name] {
		delete(c.listed, name)
		c.h.left(name, c.actor().UserID)
	}
	c.mu.Unlock()
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.subs, c)
	t.mu.Unlock()
	c.h.release(t)
}
