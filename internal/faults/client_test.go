package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
)

// sessionCookie is the session cookie's name over plain http (SPEC §7).
const sessionCookie = "forumjst_session"

const (
	// ackTimeout: a chat.send unanswered this long on a live connection is
	// sent again (same client_id). Generous: the server's own statement
	// deadline is 10 s, and an early resend would only add duplicate acks.
	ackTimeout = 8 * time.Second
	// subscribeTimeout: a subscribe unanswered this long means a stuck
	// server; the client reconnects (and the test reports it).
	subscribeTimeout = 10 * time.Second
	writeTimeout     = 3 * time.Second
	backoffBase      = 100 * time.Millisecond
	backoffCap       = 1500 * time.Millisecond
)

// account is a fixture user with a session; the token may be rotated by the
// server on any request, so it is shared by everything acting as that user.
type account struct {
	id    int64
	email string
	mu    sync.Mutex
	token string
}

func (a *account) cookie() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return sessionCookie + "=" + a.token
}

// takeCookies keeps a rotated session token from a response.
func (a *account) takeCookies(resp *http.Response) {
	if resp == nil {
		return
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			a.mu.Lock()
			a.token = ck.Value
			a.mu.Unlock()
		}
	}
}

// chatClient behaves like a correct chat client as SPEC §5 and issue 5 item
// 10 describe it: it follows one meeting, resubscribes after every reconnect
// with since_seq = the last seq it saw, keeps every message it wrote pending
// until acknowledged and sends it again, with the same client_id, after a
// reconnect, an "internal" error or a long silence. It never gives up: a
// topic error is retried too, and counted.
//
// run is its only goroutine; the test reads its state under mu.
type chatClient struct {
	name    string
	acct    *account
	home    string // base URL it prefers
	other   string // the instance it falls back to on every third attempt
	meeting int64
	topic   string
	toSend  int           // messages it writes (0: a pure receiver)
	every   time.Duration // one new message per interval, whether connected or not
	// cutEvery > 0: the connection drops right after every cutEvery-th new
	// message is sent, as a flaky network would. The server has read the
	// frame: it stores the message and its ack is lost, so the resend must
	// be answered from the archive. Kills hit that window only by chance.
	cutEvery int

	conn atomic.Pointer[websocket.Conn] // current connection, for drop()

	mu         sync.Mutex
	started    time.Time
	connBase   string // the instance of the current connection ("" between connections)
	subscribed bool
	lastSeq    int64
	got        []delivered
	out        map[string]*outMsg
	order      []string
	acked      int
	ackTimes   []time.Time
	st         clientStats
	problems   []string // protocol violations: each one fails the test
	events     []connEvent
}

type delivered struct {
	seq, id  int64
	clientID string
}

type outMsg struct {
	clientID, body string
	sends          int
	failures       int // "internal" answers in a row: the retry backs off
	inFlight       bool
	sentAt         time.Time
	retryAt        time.Time
	acked          bool
	failed         bool
	id, seq        int64
}

type clientStats struct {
	connects, dialFailures, subscribes int
	frames, resends, timeouts, dupAcks int
	cuts                               int
	dups, gaps                         int
	sendErrors, topicErrors            map[string]int
	dialStatus                         map[int]int
}

// connEvent marks when a connection ended and when the next one was following
// the topic again: their distance is how long the client was cut off.
type connEvent struct {
	at   time.Time
	kind string // "lost" or "subscribed"
	base string
	err  error // why it was lost
}

func newChatClient(name string, acct *account, home, other string, meeting int64, toSend int, every time.Duration) *chatClient {
	return &chatClient{name: name, acct: acct, home: home, other: other, meeting: meeting,
		topic: fmt.Sprintf("meeting:%d", meeting), toSend: toSend, every: every, out: map[string]*outMsg{},
		st: clientStats{sendErrors: map[string]int{}, topicErrors: map[string]int{}, dialStatus: map[int]int{}}}
}

// run connects, and reconnects with exponential backoff and jitter, until ctx ends.
func (c *chatClient) run(ctx context.Context) {
	c.mu.Lock()
	c.started = time.Now()
	c.mu.Unlock()
	attempt := 0
	for ctx.Err() == nil {
		base := c.home
		if attempt%3 == 2 && c.other != "" {
			base = c.other
		}
		stable, err := c.session(ctx, base)
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.subscribed, c.connBase = false, ""
		c.events = append(c.events, connEvent{at: time.Now(), kind: "lost", base: base, err: err})
		// Whatever was in flight on that connection may or may not have
		// been stored: it goes out again, with the same client_id.
		for _, m := range c.out {
			m.inFlight = false
		}
		c.mu.Unlock()
		if stable {
			attempt = 0
		} else {
			attempt++
		}
		ceiling := min(backoffCap, backoffBase<<min(attempt, 10))
		wait := ceiling/2 + rand.N(ceiling/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// drop cuts the current connection as a network failure would.
func (c *chatClient) drop() {
	if conn := c.conn.Load(); conn != nil {
		_ = conn.Close()
	}
}

type serverFrame struct {
	Type       string `json:"type"`
	Topic      string `json:"topic"`
	Seq        int64  `json:"seq"`
	ClientID   string `json:"client_id"`
	ID         int64  `json:"id"`
	Code       string `json:"code"`
	Ref        string `json:"ref"`
	RetryAfter int    `json:"retry_after"`
	// Message is chat.message's object, but an error frame's text: decoded
	// by type.
	Message json.RawMessage `json:"message"`
}

type chatMessage struct {
	ID        int64  `json:"id"`
	Seq       int64  `json:"seq"`
	MeetingID int64  `json:"meeting_id"`
	ClientID  string `json:"client_id"`
}

func (c *chatClient) dial(ctx context.Context, base string) (*websocket.Conn, error) {
	h := http.Header{}
	h.Set("Origin", base)
	h.Set("Cookie", c.acct.cookie())
	d := websocket.Dialer{HandshakeTimeout: 3 * time.Second}
	conn, resp, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	c.acct.takeCookies(resp)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		c.mu.Lock()
		c.st.dialFailures++
		c.st.dialStatus[status]++
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			// The session lives in the database: no fault may end it.
			c.problems = append(c.problems, fmt.Sprintf("handshake on %s refused with %d", base, status))
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("dial %s: %w (status %d)", base, err, status)
	}
	return conn, nil
}

// session runs one connection until it ends. stable reports that it got as
// far as following the topic (the backoff starts over).
func (c *chatClient) session(ctx context.Context, base string) (stable bool, err error) {
	conn, err := c.dial(ctx, base)
	if err != nil {
		return false, err
	}
	c.conn.Store(conn)
	frames := make(chan serverFrame, 1024)
	readErr := make(chan error, 1)
	go func() {
		defer close(frames)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				readErr <- err
				return
			}
			var f serverFrame
			if err := json.Unmarshal(data, &f); err != nil {
				readErr <- fmt.Errorf("bad frame %q: %w", data, err)
				return
			}
			frames <- f
		}
	}()
	defer func() {
		c.conn.CompareAndSwap(conn, nil)
		_ = conn.Close()
		for range frames { // let the reader finish
		}
	}()

	c.mu.Lock()
	c.st.connects++
	c.connBase = base
	subSent := time.Now()
	err = c.subscribeLocked(conn)
	c.mu.Unlock()
	if err != nil {
		return false, err
	}
	var subRetry time.Time
	var tick <-chan time.Time
	if c.toSend > 0 {
		t := time.NewTicker(c.every)
		defer t.Stop()
		tick = t.C
	}
	check := time.NewTicker(50 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return stable, ctx.Err()
		case f, ok := <-frames:
			if !ok {
				return stable, <-readErr
			}
			c.mu.Lock()
			err := c.handleLocked(conn, base, f, &subRetry)
			if c.subscribed {
				stable = true
			}
			c.mu.Unlock()
			if err != nil {
				return stable, err
			}
		case <-tick:
			c.mu.Lock()
			err := c.writeNewLocked(conn)
			c.mu.Unlock()
			if err != nil {
				return stable, err
			}
		case now := <-check.C:
			c.mu.Lock()
			err := func() error {
				if !c.subscribed {
					if !subRetry.IsZero() && now.After(subRetry) {
						subRetry, subSent = time.Time{}, now
						return c.subscribeLocked(conn)
					}
					if subRetry.IsZero() && now.Sub(subSent) > subscribeTimeout {
						c.problems = append(c.problems, fmt.Sprintf("no answer to subscribe on %s within %s", base, subscribeTimeout))
						return fmt.Errorf("subscribe timed out")
					}
					return nil
				}
				return c.resendLocked(conn, now)
			}()
			c.mu.Unlock()
			if err != nil {
				return stable, err
			}
		}
	}
}

func (c *chatClient) subscribeLocked(conn *websocket.Conn) error {
	c.st.subscribes++
	return c.writeLocked(conn, map[string]any{"type": "subscribe", "topic": c.topic, "since_seq": c.lastSeq})
}

func (c *chatClient) writeLocked(conn *websocket.Conn, v any) error {
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return conn.WriteJSON(v)
}

// writeNewLocked creates the messages "typed" since the start (a steady pace,
// connected or not) and sends them if the topic is followed.
func (c *chatClient) writeNewLocked(conn *websocket.Conn) error {
	due := min(c.toSend, int(time.Since(c.started)/c.every)+1)
	for len(c.order) < due {
		m := &outMsg{clientID: uuid.NewString(), body: fmt.Sprintf("%s: wiadomość %d", c.name, len(c.order)+1)}
		c.out[m.clientID] = m
		c.order = append(c.order, m.clientID)
		if c.subscribed {
			if err := c.transmitLocked(conn, m); err != nil {
				return err
			}
			if c.cutEvery > 0 && len(c.order)%c.cutEvery == 0 {
				c.st.cuts++
				_ = conn.Close()
				return fmt.Errorf("connection cut after sending %s", m.clientID)
			}
		}
	}
	return nil
}

// resendLocked sends what is pending: never sent on this connection, failed
// with a retryable error, or unanswered for too long.
func (c *chatClient) resendLocked(conn *websocket.Conn, now time.Time) error {
	for _, id := range c.order {
		m := c.out[id]
		if m.acked || m.failed {
			continue
		}
		switch {
		case m.inFlight && now.Sub(m.sentAt) > ackTimeout:
			c.st.timeouts++
		case !m.inFlight && !now.Before(m.retryAt):
		default:
			continue
		}
		if err := c.transmitLocked(conn, m); err != nil {
			return err
		}
	}
	return nil
}

func (c *chatClient) transmitLocked(conn *websocket.Conn, m *outMsg) error {
	m.sends++
	if m.sends > 1 {
		c.st.resends++
	}
	c.st.frames++
	m.inFlight, m.sentAt = true, time.Now()
	return c.writeLocked(conn, map[string]any{"type": "chat.send", "meeting_id": c.meeting, "client_id": m.clientID, "body": m.body})
}

func (c *chatClient) handleLocked(conn *websocket.Conn, base string, f serverFrame, subRetry *time.Time) error {
	now := time.Now()
	switch f.Type {
	case "chat.message":
		var m chatMessage
		if err := json.Unmarshal(f.Message, &m); err != nil {
			c.problems = append(c.problems, fmt.Sprintf("bad chat.message %s: %v", f.Message, err))
			return nil
		}
		if m.MeetingID != c.meeting {
			c.problems = append(c.problems, fmt.Sprintf("message of meeting %d on %s", m.MeetingID, c.topic))
			return nil
		}
		switch {
		case m.Seq <= c.lastSeq:
			c.st.dups++
			if c.st.dups <= 5 {
				c.problems = append(c.problems, fmt.Sprintf("duplicate delivery of seq %d (last seen %d) on %s", m.Seq, c.lastSeq, base))
			}
			return nil
		case m.Seq > c.lastSeq+1:
			c.st.gaps++
			if c.st.gaps <= 5 {
				c.problems = append(c.problems, fmt.Sprintf("gap: seq %d after %d on %s", m.Seq, c.lastSeq, base))
			}
		}
		c.got = append(c.got, delivered{seq: m.Seq, id: m.ID, clientID: m.ClientID})
		c.lastSeq = m.Seq
	case "subscribed":
		if f.Topic != c.topic {
			return nil
		}
		// The replay ends exactly where the live stream begins (SPEC §5).
		if f.Seq != c.lastSeq {
			c.problems = append(c.problems, fmt.Sprintf("subscribed at seq %d on %s, but the last seq delivered is %d", f.Seq, base, c.lastSeq))
		}
		c.subscribed = true
		c.events = append(c.events, connEvent{at: now, kind: "subscribed", base: base})
		return c.resendLocked(conn, now)
	case "chat.ack":
		m := c.out[f.ClientID]
		switch {
		case m == nil:
			c.problems = append(c.problems, fmt.Sprintf("ack for a client_id never sent: %s", f.ClientID))
		case m.acked:
			c.st.dupAcks++
			if f.ID != m.id || f.Seq != m.seq {
				c.problems = append(c.problems, fmt.Sprintf("client_id %s acknowledged as id %d seq %d, earlier as id %d seq %d", f.ClientID, f.ID, f.Seq, m.id, m.seq))
			}
		default:
			m.acked, m.id, m.seq = true, f.ID, f.Seq
			c.acked++
			c.ackTimes = append(c.ackTimes, now)
		}
		if m != nil {
			m.inFlight = false
		}
	case "error":
		if f.Ref == c.topic {
			// e.g. "internal" (replay failed: subscribe again). A correct
			// client retries; the code is counted and reported.
			c.st.topicErrors[f.Code]++
			c.subscribed = false
			*subRetry = now.Add(300 * time.Millisecond)
			return nil
		}
		m := c.out[f.Ref]
		if m == nil {
			c.problems = append(c.problems, fmt.Sprintf("unexpected error frame: code %s ref %q", f.Code, f.Ref))
			return nil
		}
		c.st.sendErrors[f.Code]++
		m.inFlight = false
		switch f.Code {
		case "internal": // not stored: send again, backing off while the database is away
			m.failures++
			m.retryAt = now.Add(min(2*time.Second, 100*time.Millisecond<<min(m.failures, 5)))
		case "rate_limited":
			m.retryAt = now.Add(time.Duration(max(1, f.RetryAfter)) * time.Second)
		default:
			m.failed = true
			c.problems = append(c.problems, fmt.Sprintf("message %s refused for good: %s", m.clientID, f.Code))
		}
	}
	return nil
}

// progress is what the test waits on.
type progress struct {
	created, acked int
	lastSeq        int64
	done           bool // a sender that wrote and got acknowledged everything
}

// inFlight counts messages sent on a connection to base and not yet answered.
func (c *chatClient) inFlight(base string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connBase != base {
		return 0
	}
	n := 0
	for _, m := range c.out {
		if m.inFlight {
			n++
		}
	}
	return n
}

func (c *chatClient) progress() progress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return progress{created: len(c.order), acked: c.acked, lastSeq: c.lastSeq, done: c.acked == c.toSend}
}
