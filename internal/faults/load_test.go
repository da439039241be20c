package faults

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/live"
)

// Shape of the load in both scenarios: 4 staff senders (2 preferring each
// instance) writing 150 messages each, one every 30 ms, and 4 receivers (2 per
// instance); ~130 msg/s in all while nothing fails.
const (
	sendersPerRoom   = 4
	receiversPerRoom = 4
	messagesEach     = 150
	messageEvery     = 30 * time.Millisecond
	// Each sender's connection drops right after every 40th message: the
	// lost-ack case, three times per sender and run.
	cutEvery = 40
)

// chatLoad is the set of clients of one scenario.
type chatLoad struct {
	room    *room
	clients []*chatClient
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	begun   time.Time
}

// startChat puts senders and receivers on instances a and b (half on each,
// each falling back to the other) and starts them.
func startChat(ctx context.Context, r *room, a, b *instance) *chatLoad {
	l := &chatLoad{room: r, begun: time.Now()}
	pair := func(i int) (home, other *instance) {
		if i%2 == 0 {
			return a, b
		}
		return b, a
	}
	for i, acct := range r.senders {
		home, other := pair(i)
		c := newChatClient(fmt.Sprintf("sender-%d@%s", i+1, home.name), acct, home.base, other.base, r.meetingID, messagesEach, messageEvery)
		c.cutEvery = cutEvery
		l.clients = append(l.clients, c)
	}
	for i, acct := range r.receivers {
		home, other := pair(i)
		l.clients = append(l.clients, newChatClient(fmt.Sprintf("receiver-%d@%s", i+1, home.name), acct, home.base, other.base, r.meetingID, 0, 0))
	}
	ctx, l.cancel = context.WithCancel(ctx)
	for _, c := range l.clients {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); c.run(ctx) }()
	}
	return l
}

func (l *chatLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *chatLoad) total() int { return sendersPerRoom * messagesEach }

func (l *chatLoad) acked() int {
	n := 0
	for _, c := range l.clients {
		n += c.progress().acked
	}
	return n
}

func (l *chatLoad) sendersDone() bool {
	for _, c := range l.clients {
		if !c.progress().done {
			return false
		}
	}
	return true
}

func (l *chatLoad) caughtUp(n int64) bool {
	for _, c := range l.clients {
		if c.progress().lastSeq < n {
			return false
		}
	}
	return true
}

// killWhenBusy waits (briefly) until a chat.send is in flight on the instance
// and then kills it, so that some transaction or ack is cut short: the
// interesting moment of a crash. It returns how many were in flight.
func (l *chatLoad) killWhenBusy(in *instance) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := 0
		for _, c := range l.clients {
			n += c.inFlight(in.base)
		}
		if n > 0 || time.Now().After(deadline) {
			in.kill()
			return n
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func (l *chatLoad) receivers(base string) []*chatClient {
	var out []*chatClient
	for _, c := range l.clients {
		if c.toSend == 0 && c.home == base {
			out = append(out, c)
		}
	}
	return out
}

// describe is the state of every client, for a timeout's message.
func (l *chatLoad) describe() string {
	var b strings.Builder
	for _, c := range l.clients {
		p := c.progress()
		c.mu.Lock()
		fmt.Fprintf(&b, "\n  %-18s created %3d acked %3d last seq %4d subscribed %-5v connects %d dial failures %v topic errors %v send errors %v",
			c.name, p.created, p.acked, p.lastSeq, c.subscribed, c.st.connects, c.st.dialStatus, c.st.topicErrors, c.st.sendErrors)
		for _, e := range c.events {
			fmt.Fprintf(&b, "\n      %s %s %s %v", e.at.Format("15:04:05.000"), e.kind, e.base, e.err)
		}
		c.mu.Unlock()
	}
	return b.String()
}

// finish waits until every message was acknowledged and every client has
// seen all of them, then stops the clients. It returns N, the last seq.
func (l *chatLoad) finish(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	if err := waitFor(ctx, 45*time.Second, "every message acknowledged", l.sendersDone); err != nil {
		l.stop()
		t.Fatalf("%v:%s", err, l.describe())
	}
	var n int64
	if err := l.room.db.GetContext(ctx, &n, `SELECT COALESCE(max(seq), 0) FROM chat_messages WHERE meeting_id = $1`, l.room.meetingID); err != nil {
		l.stop()
		t.Fatal(err)
	}
	// Delivery of the last messages may lag their acks a little (other
	// instance: a NOTIFY round trip); 15 s is far more than that, and less
	// than the hub's 30 s safety poll, so a lost hint fails here.
	caught := time.Now()
	if err := waitFor(ctx, 15*time.Second, fmt.Sprintf("every client to see seq %d", n), func() bool { return l.caughtUp(n) }); err != nil {
		l.stop()
		t.Fatalf("%v:%s", err, l.describe())
	}
	t.Logf("all %d clients had seq %d %s after the last ack was awaited", len(l.clients), n, time.Since(caught).Round(time.Millisecond))
	l.stop()
	return n
}

type archiveRow struct {
	ID        int64     `db:"id"`
	Seq       int64     `db:"seq"`
	AuthorID  int64     `db:"author_id"`
	ClientID  string    `db:"client_id"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// verify is the point of it all (SPEC §7 "Nothing lost", §5 delivery): the
// archive holds every acknowledged message exactly once, as acknowledged, with
// seqs 1..N and nothing else; every client saw 1..N once each, in order; the
// HTTP archive agrees.
func (l *chatLoad) verify(t *testing.T, ctx context.Context, n int64, base string) (deduplicated int) {
	t.Helper()
	var rows []archiveRow
	if err := l.room.db.SelectContext(ctx, &rows, `
		SELECT id, seq, author_id, client_id::text AS client_id, body, created_at FROM chat_messages
		WHERE meeting_id = $1 ORDER BY seq`, l.room.meetingID); err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)) != n {
		t.Errorf("archive has %d rows, max seq %d", len(rows), n)
	}
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Errorf("archive seqs are not 1..N: position %d holds seq %d", i+1, r.Seq)
			break
		}
	}
	var distinct int
	if err := l.room.db.GetContext(ctx, &distinct, `
		SELECT count(DISTINCT (author_id, client_id)) FROM chat_messages WHERE meeting_id = $1`, l.room.meetingID); err != nil {
		t.Fatal(err)
	}
	if distinct != len(rows) {
		t.Errorf("archive has %d rows but %d distinct (author, client_id): duplicates stored", len(rows), distinct)
	}
	byClientID := map[string]archiveRow{}
	for _, r := range rows {
		if _, dup := byClientID[r.ClientID]; dup {
			t.Errorf("client_id %s stored twice", r.ClientID)
		}
		byClientID[r.ClientID] = r
	}

	// Every message written was acknowledged (finish waited for it) and is
	// stored exactly as acknowledged; nothing else is stored.
	written := map[string]bool{}
	for _, c := range l.clients {
		c.mu.Lock()
		for _, id := range c.order {
			m := c.out[id]
			written[id] = true
			r, ok := byClientID[id]
			switch {
			case !m.acked:
				t.Errorf("%s: message %s never acknowledged", c.name, id)
			case !ok:
				t.Errorf("%s: acknowledged message %s (id %d seq %d) is not in the archive", c.name, id, m.id, m.seq)
			case r.ID != m.id || r.Seq != m.seq:
				t.Errorf("%s: message %s acknowledged as id %d seq %d, stored as id %d seq %d", c.name, id, m.id, m.seq, r.ID, r.Seq)
			case r.AuthorID != c.acct.id || r.Body != m.body:
				t.Errorf("%s: message %s stored as author %d %q, sent by %d as %q", c.name, id, r.AuthorID, r.Body, c.acct.id, m.body)
			case m.sends > 1 && r.CreatedAt.Before(m.sentAt):
				// Stored before its last transmission (same host, same
				// clock): an earlier attempt committed and its ack was
				// lost; the resend was answered from the archive.
				deduplicated++
			}
		}
		c.mu.Unlock()
	}
	for _, r := range rows {
		if !written[r.ClientID] {
			t.Errorf("archive seq %d (client_id %s) was never written by a client", r.Seq, r.ClientID)
		}
	}

	// Every client saw exactly the archive, in order, once.
	for _, c := range l.clients {
		c.mu.Lock()
		got := slices.Clone(c.got)
		problems := slices.Clone(c.problems)
		c.mu.Unlock()
		for _, p := range problems {
			t.Errorf("%s: %s", c.name, p)
		}
		if len(got) != len(rows) {
			t.Errorf("%s received %d messages, the archive has %d", c.name, len(got), len(rows))
		}
		for i := 0; i < min(len(got), len(rows)); i++ {
			if g, r := got[i], rows[i]; g.seq != r.Seq || g.id != r.ID || g.clientID != r.ClientID {
				t.Errorf("%s: delivery %d was seq %d id %d %s, the archive has seq %d id %d %s", c.name, i+1, g.seq, g.id, g.clientID, r.Seq, r.ID, r.ClientID)
				break
			}
		}
	}

	// The archive as readers get it over HTTP (the fallback of clients
	// without a websocket, and the ended meeting's archive).
	api := l.room.receivers[0]
	var viaAPI []archiveRow
	for after := int64(0); ; {
		var page struct {
			Items []struct {
				ID       int64  `json:"id"`
				Seq      int64  `json:"seq"`
				ClientID string `json:"client_id"`
			} `json:"items"`
			HasMore bool `json:"has_more"`
		}
		if err := apiJSON(ctx, base, api, "", "GET", fmt.Sprintf("/api/v1/meetings/%d/messages?after_seq=%d&limit=200", l.room.meetingID, after), nil, http.StatusOK, &page); err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			viaAPI = append(viaAPI, archiveRow{ID: m.ID, Seq: m.Seq, ClientID: m.ClientID})
			after = m.Seq
		}
		if !page.HasMore || len(page.Items) == 0 {
			break
		}
	}
	if len(viaAPI) != len(rows) {
		t.Errorf("HTTP archive lists %d messages, the table has %d", len(viaAPI), len(rows))
	}
	for i := 0; i < min(len(viaAPI), len(rows)); i++ {
		if a, r := viaAPI[i], rows[i]; a.ID != r.ID || a.Seq != r.Seq || a.ClientID != r.ClientID {
			t.Errorf("HTTP archive item %d is seq %d id %d, the table has seq %d id %d", i+1, a.Seq, a.ID, r.Seq, r.ID)
			break
		}
	}
	return deduplicated
}

// totals sums the clients' counters for the report.
type totals struct {
	written, acked, frames, resends, timeouts, dupAcks int
	connects, dialFailures, subscribes, dups, gaps     int
	cuts                                               int
	sendErrors, topicErrors                            map[string]int
	dialStatus                                         map[int]int
}

func (l *chatLoad) totals() totals {
	t := totals{sendErrors: map[string]int{}, topicErrors: map[string]int{}, dialStatus: map[int]int{}}
	for _, c := range l.clients {
		c.mu.Lock()
		t.written += len(c.order)
		t.acked += c.acked
		t.frames += c.st.frames
		t.resends += c.st.resends
		t.timeouts += c.st.timeouts
		t.dupAcks += c.st.dupAcks
		t.cuts += c.st.cuts
		t.connects += c.st.connects
		t.dialFailures += c.st.dialFailures
		t.subscribes += c.st.subscribes
		t.dups += c.st.dups
		t.gaps += c.st.gaps
		for k, v := range c.st.sendErrors {
			t.sendErrors[k] += v
		}
		for k, v := range c.st.topicErrors {
			t.topicErrors[k] += v
		}
		for k, v := range c.st.dialStatus {
			t.dialStatus[k] += v
		}
		c.mu.Unlock()
	}
	return t
}

func (l *chatLoad) report(t *testing.T, n int64, deduplicated int) {
	t.Helper()
	s := l.totals()
	t.Logf("messages: %d written, %d acknowledged, %d in the archive (seq 1..%d); chat.send frames %d, of which resends %d (after an ack timeout: %d; answered with a message an earlier attempt had stored: %d); duplicate acks %d",
		s.written, s.acked, n, n, s.frames, s.resends, s.timeouts, deduplicated, s.dupAcks)
	t.Logf("clients: %d connections (%d cut right after a send, %d handshakes failed, by status %v), %d subscribes; send errors %v, topic errors %v; deliveries duplicated %d, skipped %d",
		s.connects, s.cuts, s.dialFailures, s.dialStatus, s.subscribes, s.sendErrors, s.topicErrors, s.dups, s.gaps)
}

// resumed reports, for a fault at `at`, which clients lost their connection
// to it (within half a second: a SIGKILL or a drop ends sockets at once), how
// long the slowest took to follow the room again, and where they did.
func (l *chatLoad) resumed(at time.Time) (clients int, slowest time.Duration, on map[string]int) {
	on = map[string]int{}
	for _, c := range l.clients {
		c.mu.Lock()
		var lost time.Time
		for _, e := range c.events {
			if e.at.Before(at) {
				continue
			}
			if e.kind == "lost" && lost.IsZero() && e.at.Sub(at) < 500*time.Millisecond {
				lost = e.at
			}
			if e.kind == "subscribed" && !lost.IsZero() {
				clients++
				slowest = max(slowest, e.at.Sub(at))
				on[e.base]++
				break
			}
		}
		c.mu.Unlock()
	}
	return clients, slowest, on
}

// ackGap finds the longest stretch without any acknowledgement in [from, to]:
// how long sending was out of order as clients saw it.
func (l *chatLoad) ackGap(from, to time.Time) (gap time.Duration, start, end time.Time) {
	var times []time.Time
	for _, c := range l.clients {
		c.mu.Lock()
		times = append(times, c.ackTimes...)
		c.mu.Unlock()
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := 1; i < len(times); i++ {
		if times[i].Before(from) || times[i-1].After(to) {
			continue
		}
		// Clipped to the window: a stretch running into the next fault
		// belongs to that one.
		s, e := times[i-1], times[i]
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if d := e.Sub(s); d > gap {
			gap, start, end = d, s, e
		}
	}
	return gap, start, end
}

// firstAckAfter is when the first acknowledgement after t arrived (zero: none).
func (l *chatLoad) firstAckAfter(t time.Time) time.Time {
	var first time.Time
	for _, c := range l.clients {
		c.mu.Lock()
		for _, at := range c.ackTimes {
			if at.After(t) && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		c.mu.Unlock()
	}
	return first
}

// listeners counts the LISTEN connections of the servers on this database.
func (r *room) listeners(ctx context.Context) int {
	var n int
	if err := r.db.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, live.ListenerAppName); err != nil {
		return -1 // the database is away
	}
	return n
}
