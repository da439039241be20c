package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/gwd-jst/forumjst/internal/benchlive"
)

// chain is one member's view of the meeting's log across all of its
// connections: the seq it started at (the "subscribed" frame of its first
// connection, which came without since_seq) and the last seq it holds. Each
// reconnect subscribes with since_seq = last, so the chat.message frames a
// member receives over its whole life must be exactly first+1, first+2, …
// with no gap and no repeat. It is touched only by its slot's goroutine.
type chain struct {
	started bool
	first   int64
	last    int64
	gaps    int64 // times a seq skipped ahead
	missing int64 // seqs skipped
	dups    int64 // a seq at or below one already held
	bad     int64 // a chat.message before the chain started, or unparsable
}

// accept records one chat.message seq.
func (c *chain) accept(seq int64) {
	switch {
	case !c.started:
		c.bad++
	case seq == c.last+1:
		c.last = seq
	case seq <= c.last:
		c.dups++
	default:
		c.gaps++
		c.missing += seq - c.last - 1
		c.last = seq
	}
}

// start begins the chain at the seq of a first "subscribed" frame.
func (c *chain) start(seq int64) {
	if !c.started {
		c.started, c.first, c.last = true, seq, seq
	}
}

// lostAt is what the chain lacks of 1…head: the seqs it skipped and those
// after its last. A chain that never started lacks nothing it was promised.
func (c *chain) lostAt(head int64) int64 {
	if !c.started {
		return 0
	}
	return c.missing + max(head-c.last, 0)
}

// slot is one member: a websocket connection to one instance at a time,
// closed by the churn after a random lifetime and reopened after a random
// pause on the other instance, resuming with since_seq.
type slot struct {
	id     int
	cookie string
	inst   int // instance of the current (or next) connection
	ch     chain

	conn      atomic.Pointer[websocket.Conn]
	connected atomic.Bool // subscribed on the current connection
	last      atomic.Int64

	// Touched only by the slot's goroutine until it ended.
	connects     int64
	dialErrors   int64
	firstDialErr string
	serverCloses map[string]int64
	replayed     int64
}

// subscribers is the whole population of slots.
type subscribers struct {
	r      *runner
	slots  []*slot
	wg     sync.WaitGroup
	churn  atomic.Bool   // closing connections by lifetime is on
	stop   chan struct{} // closed to end every slot
	dialer websocket.Dialer

	reconnects   atomic.Int64 // planned leaves that came back
	serverCloses atomic.Int64 // connections the server ended
	gapsSoFar    atomic.Int64 // seqs skipped so far (all slots)
	dupsSoFar    atomic.Int64
	errorFrames  atomic.Int64
	resubscribes atomic.Int64 // subscribes repeated after an error frame for the topic
	ref          []byte       // "ref":"meeting:ID", how an error frame names the topic
	firstErrMu   sync.Mutex
	firstErr     string
}

func newSubscribers(r *runner) *subscribers {
	s := &subscribers{r: r, stop: make(chan struct{}),
		dialer: websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 512}}
	for i := range r.set.Subscribers {
		s.slots = append(s.slots, &slot{id: i, cookie: r.setup.Receivers[i%len(r.setup.Receivers)].Cookie,
			inst: i % len(r.insts), serverCloses: map[string]int64{}})
	}
	s.churn.Store(r.set.Lifetime > 0)
	s.ref = fmt.Appendf(nil, `"ref":"meeting:%d"`, r.setup.MeetingID)
	return s
}

func (s *subscribers) noteErr(msg string) {
	s.firstErrMu.Lock()
	if s.firstErr == "" {
		s.firstErr = msg
	}
	s.firstErrMu.Unlock()
}

// start launches every slot, spread over spreadOver so that the instances
// do not take 500 handshakes in the same millisecond.
func (s *subscribers) start(ctx context.Context, spreadOver time.Duration) {
	for i, sl := range s.slots {
		delay := spreadOver * time.Duration(i) / time.Duration(max(len(s.slots), 1))
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if !s.pause(ctx, delay) {
				return
			}
			s.run(ctx, sl)
		}()
	}
}

// pause waits d unless the run stops first; false when it stopped.
func (s *subscribers) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *subscribers) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// run is one slot's life: connect, read until the connection ends, then
// come back (after a pause if the churn closed it) until the run stops.
func (s *subscribers) run(ctx context.Context, sl *slot) {
	rng := rand.New(rand.NewPCG(uint64(sl.id), uint64(time.Now().UnixNano())))
	for !s.stopping() && ctx.Err() == nil {
		conn, err := s.dial(ctx, sl)
		if err != nil {
			sl.dialErrors++
			if sl.firstDialErr == "" {
				sl.firstDialErr = err.Error()
			}
			if !s.pause(ctx, time.Second) {
				return
			}
			continue
		}
		sl.connects++
		sl.conn.Store(conn)
		if s.stopping() { // closeAll may have looked before the Store
			conn.Close()
		}
		var ours atomic.Bool
		var timer *time.Timer
		if s.churn.Load() {
			life := time.Duration(rng.ExpFloat64() * float64(s.r.set.Lifetime))
			life = max(life, time.Second)
			timer = time.AfterFunc(life, func() {
				if s.churn.Load() {
					ours.Store(true)
					conn.Close()
				}
			})
		}
		err = s.read(sl, conn)
		if timer != nil {
			timer.Stop()
		}
		sl.connected.Store(false)
		conn.Close()
		if s.stopping() {
			return
		}
		away := time.Duration(0)
		if ours.Load() {
			s.reconnects.Add(1)
			if s.r.set.Away > 0 {
				away = time.Duration(rng.Int64N(int64(s.r.set.Away)))
			}
		} else {
			s.serverCloses.Add(1)
			reason := "connection ended"
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				reason = "close " + strconv.Itoa(ce.Code)
			}
			sl.serverCloses[reason]++
			s.noteErr(fmt.Sprintf("subscriber %d on %s: %v", sl.id, s.r.insts[sl.inst].Name, err))
			away = 200 * time.Millisecond
		}
		// A member comes back on the other instance: every reconnect
		// crosses instances, so the resume is read from the database the
		// other instance wrote to as often as from its own.
		sl.inst = (sl.inst + 1) % len(s.r.insts)
		if away > 0 && !s.pause(ctx, away) {
			return
		}
	}
}

func (s *subscribers) dial(ctx context.Context, sl *slot) (*websocket.Conn, error) {
	inst := s.r.insts[sl.inst]
	h := http.Header{}
	h.Set("Origin", inst.Base)
	h.Set("Cookie", sl.cookie)
	conn, resp, err := s.dialer.DialContext(ctx, "ws"+strings.TrimPrefix(inst.Base, "http")+"/ws", h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (status %d)", inst.Name, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", inst.Name, err)
	}
	conn.SetReadLimit(1 << 20)
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, s.subscribeFrame(sl)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribe on %s: %w", inst.Name, err)
	}
	return conn, nil
}

// subscribeFrame is the slot's subscribe: the first connection joins at the
// live edge (no since_seq); every later one resumes after the last seq it
// holds.
func (s *subscribers) subscribeFrame(sl *slot) []byte {
	if sl.ch.started {
		return fmt.Appendf(nil, `{"type":"subscribe","topic":"meeting:%d","since_seq":%d}`, s.r.setup.MeetingID, sl.ch.last)
	}
	return fmt.Appendf(nil, `{"type":"subscribe","topic":"meeting:%d"}`, s.r.setup.MeetingID)
}

var (
	keySeq   = []byte(`"seq":`)
	keyTopic = []byte(`"topic":"meeting:`)
)

// read handles one connection's frames until it ends.
func (s *subscribers) read(sl *slot, conn *websocket.Conn) error {
	live := false // after this connection's "subscribed" frame
	st := s.r.stats[sl.inst]
	for {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		switch string(benchlive.FrameType(frame)) {
		case "chat.message":
			seq, sentAt, ok := benchlive.ParseChat(frame)
			if !ok {
				sl.ch.bad++
				continue
			}
			gaps, dups := sl.ch.missing, sl.ch.dups
			sl.ch.accept(seq)
			if d := sl.ch.missing - gaps; d > 0 {
				s.gapsSoFar.Add(d)
			}
			if d := sl.ch.dups - dups; d > 0 {
				s.dupsSoFar.Add(d)
			}
			sl.last.Store(sl.ch.last)
			if live {
				st.deliveries.Add(1)
				st.lat.observe(time.Duration(now - sentAt))
			} else {
				sl.replayed++
			}
		case "subscribed":
			if id, ok := benchlive.IntAfter(frame, keyTopic); !ok || id != s.r.setup.MeetingID {
				continue
			}
			seq, _ := benchlive.IntAfter(frame, keySeq)
			sl.ch.start(seq)
			sl.last.Store(sl.ch.last)
			live = true
			sl.connected.Store(true)
		case "error":
			s.errorFrames.Add(1)
			s.noteErr(fmt.Sprintf("subscriber %d on %s: error frame %.200s", sl.id, s.r.insts[sl.inst].Name, frame))
			if !bytes.Contains(frame, s.ref) {
				continue
			}
			// The subscription failed (a replay that could not read the
			// database answers "subscribe again"): do as a client does and
			// subscribe again from the last seq held. This goroutine is the
			// connection's only writer once the read loop runs.
			live = false
			sl.connected.Store(false)
			s.resubscribes.Add(1)
			if !s.pause(context.Background(), 200*time.Millisecond) {
				return errors.New("stopping")
			}
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, s.subscribeFrame(sl)); err != nil {
				return err
			}
		}
	}
}

// quiesce turns the churn off: connections stay open from now on.
func (s *subscribers) quiesce() { s.churn.Store(false) }

// caughtUp reports how many slots are subscribed and hold head.
func (s *subscribers) caughtUp(head int64) (n int) {
	for _, sl := range s.slots {
		if sl.connected.Load() && sl.last.Load() >= head {
			n++
		}
	}
	return n
}

// connectedNow counts slots subscribed at this moment.
func (s *subscribers) connectedNow() (n int) {
	for _, sl := range s.slots {
		if sl.connected.Load() {
			n++
		}
	}
	return n
}

// closeAll ends every slot and waits for their goroutines.
func (s *subscribers) closeAll() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	for _, sl := range s.slots {
		if c := sl.conn.Load(); c != nil {
			c.Close()
		}
	}
	s.wg.Wait()
}
