package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/benchlive"
)

// senders send the chat: a few connections per instance as the staff sender
// (exempt from the chat rate limit), paced together at the run's rate, round
// robin. A connection that ends is dialled again and what it had not had
// answered is sent again with the same client_id: the server answers a
// repeat with the original id and seq and stores nothing new, as a real
// client's retry would.
type senders struct {
	r      *runner
	conns  []*sendConn
	dialer websocket.Dialer

	mu        sync.Mutex
	sent      int64
	acked     map[string]int64 // client_id → seq
	errs      map[string]int64 // error code → count
	firstErr  string
	maxSeq    int64
	redials   int64
	readersWG sync.WaitGroup
}

type sendConn struct {
	inst    int
	conn    *websocket.Conn
	dead    chan struct{} // closed when the reader ended
	pending map[string][]byte
	sentAt  map[string]int64
}

func newSenders(r *runner) *senders {
	return &senders{r: r, acked: map[string]int64{}, errs: map[string]int64{},
		dialer: websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}}
}

func (s *senders) noteErr(code, msg string) {
	s.mu.Lock()
	s.errs[code]++
	if s.firstErr == "" {
		s.firstErr = msg
	}
	s.mu.Unlock()
}

// open dials Senders connections on every instance.
func (s *senders) open(ctx context.Context) error {
	for i := range s.r.insts {
		for range s.r.set.Senders {
			sc := &sendConn{inst: i, pending: map[string][]byte{}, sentAt: map[string]int64{}}
			if err := s.dial(ctx, sc); err != nil {
				return err
			}
			s.conns = append(s.conns, sc)
		}
	}
	return nil
}

func (s *senders) dial(ctx context.Context, sc *sendConn) error {
	inst := s.r.insts[sc.inst]
	h := http.Header{}
	h.Set("Origin", inst.Base)
	h.Set("Cookie", s.r.setup.Sender.Cookie)
	conn, resp, err := s.dialer.DialContext(ctx, "ws"+strings.TrimPrefix(inst.Base, "http")+"/ws", h)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial sender on %s: %w (status %d)", inst.Name, err, resp.StatusCode)
		}
		return fmt.Errorf("dial sender on %s: %w", inst.Name, err)
	}
	sc.conn, sc.dead = conn, make(chan struct{})
	s.readersWG.Add(1)
	go func() {
		defer s.readersWG.Done()
		defer close(sc.dead)
		s.readAcks(sc, conn)
	}()
	return nil
}

// readAcks reads one connection's answers.
func (s *senders) readAcks(sc *sendConn, conn *websocket.Conn) {
	st := s.r.stats[sc.inst]
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		f, ok := benchlive.ParseAnswer(data)
		if !ok {
			continue
		}
		switch f.Type {
		case "chat.ack":
			s.mu.Lock()
			if _, ok := sc.pending[f.ClientID]; ok {
				delete(sc.pending, f.ClientID)
				st.ackLat.observe(time.Duration(now - sc.sentAt[f.ClientID]))
				delete(sc.sentAt, f.ClientID)
				s.acked[f.ClientID] = f.Seq
				s.maxSeq = max(s.maxSeq, f.Seq)
				st.acks.Add(1)
			}
			s.mu.Unlock()
		case "error":
			s.mu.Lock()
			_, ok := sc.pending[f.Ref]
			if ok {
				delete(sc.pending, f.Ref)
				delete(sc.sentAt, f.Ref)
			}
			s.mu.Unlock()
			if ok {
				s.noteErr(f.Code, fmt.Sprintf("chat.send on %s: %s", s.r.insts[sc.inst].Name, data))
			}
		}
	}
}

// run sends at the run's rate until until, paced by schedule (a late send is
// followed by the next at once, so the offered rate holds).
func (s *senders) run(ctx context.Context, until time.Time) error {
	interval := time.Second / time.Duration(s.r.set.Rate)
	start := time.Now()
	for k := 0; ; k++ {
		due := start.Add(time.Duration(k) * interval)
		if !due.Before(until) {
			return nil
		}
		if err := sleep(ctx, time.Until(due)); err != nil {
			return err
		}
		sc := s.conns[k%len(s.conns)]
		if err := s.send(ctx, sc, k); err != nil {
			return err
		}
	}
}

func (s *senders) send(ctx context.Context, sc *sendConn, k int) error {
	select {
	case <-sc.dead:
		if err := s.redial(ctx, sc); err != nil {
			return err
		}
	default:
	}
	cid := uuid.NewString()
	ts := time.Now().UnixNano()
	frame, _ := json.Marshal(map[string]any{"type": "chat.send", "meeting_id": s.r.setup.MeetingID, "client_id": cid,
		"body": "t=" + strconv.FormatInt(ts, 10) + " #" + strconv.Itoa(k)})
	s.mu.Lock()
	sc.pending[cid] = frame
	sc.sentAt[cid] = ts
	s.sent++
	s.mu.Unlock()
	_ = sc.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := sc.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		// The reader sees the failure too; the next send on this connection
		// dials again and repeats what is pending, this frame included.
		sc.conn.Close()
	}
	return nil
}

// redial replaces an ended connection and repeats its unanswered sends.
func (s *senders) redial(ctx context.Context, sc *sendConn) error {
	sc.conn.Close()
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		if err = s.dial(ctx, sc); err == nil {
			break
		}
		if serr := sleep(ctx, time.Second); serr != nil {
			return serr
		}
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.redials++
	frames := make([][]byte, 0, len(sc.pending))
	for _, f := range sc.pending {
		frames = append(frames, f)
	}
	s.mu.Unlock()
	for _, f := range frames {
		_ = sc.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := sc.conn.WriteMessage(websocket.TextMessage, f); err != nil {
			sc.conn.Close()
			return nil
		}
	}
	return nil
}

// unanswered counts sends with neither an ack nor an error.
func (s *senders) unanswered() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, sc := range s.conns {
		n += int64(len(sc.pending))
	}
	return n
}

// settle repeats what ended connections left unanswered, once each.
func (s *senders) settle(ctx context.Context) error {
	for _, sc := range s.conns {
		select {
		case <-sc.dead:
			s.mu.Lock()
			n := len(sc.pending)
			s.mu.Unlock()
			if n > 0 {
				if err := s.redial(ctx, sc); err != nil {
					return err
				}
			}
		default:
		}
	}
	return nil
}

func (s *senders) head() (acked int64, maxSeq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.acked)), s.maxSeq
}

func (s *senders) close() {
	for _, sc := range s.conns {
		if sc.conn != nil {
			sc.conn.Close()
		}
	}
	s.readersWG.Wait()
}
