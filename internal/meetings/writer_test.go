package meetings_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// recorder is the live layer as the service sees it: it keeps the chat
// messages announced, in the order they were. While hold is set (before the
// room is used), announcing waits until it is closed, as a long fan-out would.
type recorder struct {
	hold chan struct{}
	mu   sync.Mutex
	msgs []meetings.Message
}

func (r *recorder) Announce(context.Context, topic.Events) {}

func (r *recorder) ChatMessages(_ context.Context, ms []meetings.Message) {
	if r.hold != nil {
		<-r.hold
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, ms...)
}

// chatRoom is a live meeting with two authors: staff (no rate limit) and a
// member of the meeting's group.
type chatRoom struct {
	db            *sqlx.DB
	svc           *meetings.Service
	rec           *recorder
	meetingID     int64
	staff, member *access.Actor
}

func newChatRoom(t *testing.T) *chatRoom {
	t.Helper()
	ctx := context.Background()
	db := testkit.Open(t, dbURL)
	g := testkit.NewGroup(t, db, model.KindRural)
	staff, member := testkit.NewUser(t, db, model.RoleStaff), testkit.NewUser(t, db, model.RoleMember)
	if _, err := store.PutMembership(ctx, db, member.ID, g.ID, model.GroupMember); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m, err := store.CreateMeeting(ctx, db, store.NewMeeting{GroupID: g.ID, Title: "Sesja robocza", StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: staff.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetMeetingStatus(ctx, db, m.ID, "live"); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	return &chatRoom{db: db, svc: meetings.New(db, rec, markup.New(), meetings.Settings{}), rec: rec, meetingID: m.ID,
		staff:  access.NewActor(staff.User, nil),
		member: access.NewActor(member.User, []model.Membership{{GroupID: g.ID, Role: model.GroupMember}})}
}

// answer is what a send was answered with, and whether its message was
// already visible to others (committed) when the answer came.
type answer struct {
	msg       meetings.Message
	err       error
	committed bool
}

// conn sends runs as one websocket connection does: each run with
// SendBatch (a run of one goes SendThen's way), the next only once the
// previous one is answered. Answers are kept by client id.
type conn struct {
	r       *chatRoom
	a       *access.Actor
	mu      sync.Mutex
	answers map[string][]answer
	order   []string // client ids in the order answered
}

func (r *chatRoom) conn(a *access.Actor) *conn {
	return &conn{r: r, a: a, answers: map[string][]answer{}}
}

func (c *conn) send(t *testing.T, clientIDs ...string) {
	items := make([]meetings.Outgoing, len(clientIDs))
	for i, cid := range clientIDs {
		items[i] = meetings.Outgoing{ClientID: cid, Body: "wiadomość " + cid[:8]}
	}
	c.r.svc.SendBatch(context.Background(), c.a, c.r.meetingID, items, func(i int, m meetings.Message, err error) {
		// Read from another connection: the message is there once committed.
		var n int
		if qerr := c.r.db.Get(&n, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1 AND client_id = $2`, c.r.meetingID, clientIDs[i]); qerr != nil {
			t.Error(qerr)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.answers[clientIDs[i]] = append(c.answers[clientIDs[i]], answer{msg: m, err: err, committed: n == 1})
		c.order = append(c.order, clientIDs[i])
	})
}

// sendAsync sends a run on its own goroutine; wg tells when it is answered.
func (c *conn) sendAsync(t *testing.T, wg *sync.WaitGroup, clientIDs ...string) {
	wg.Add(1)
	go func() { defer wg.Done(); c.send(t, clientIDs...) }()
}

func (c *conn) answered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

func (c *conn) only(t *testing.T, cid string) answer {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers[cid]) != 1 {
		t.Fatalf("%s answered %d times, want once", cid, len(c.answers[cid]))
	}
	return c.answers[cid][0]
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = uuid.NewString()
	}
	return out
}

// holdLock takes the meeting row's lock in a transaction of the test's, as a
// concurrent writer (another instance) would: the writer's statement waits.
func (r *chatRoom) holdLock(t *testing.T) *sqlx.Tx {
	t.Helper()
	tx, err := r.db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.Exec(`SELECT 1 FROM meetings WHERE id = $1 FOR UPDATE`, r.meetingID); err != nil {
		t.Fatal(err)
	}
	return tx
}

// blocked is a writer's statement waiting for the meeting row's lock.
type blocked struct {
	PID   int       `db:"pid"`
	Since time.Time `db:"query_start"`
}

// blockedStatement finds the writer's statement waiting for the meeting
// row's lock (PID 0 while there is none).
func (r *chatRoom) blockedStatement(t *testing.T) blocked {
	t.Helper()
	var b []blocked
	err := r.db.Select(&b, `SELECT pid, query_start FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO chat_messages%'`)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1 {
		return blocked{}
	}
	return b[0]
}

// waitFor polls cond until it holds (a condition, not a timing: the bound
// only keeps a broken build from hanging).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// queue sends a run and returns once it waits for the meeting's writer, so
// the runs queued one after the other arrive in that order.
func (r *chatRoom) queue(t *testing.T, wg *sync.WaitGroup, c *conn, clientIDs ...string) {
	t.Helper()
	before := meetings.Waiting(r.svc, r.meetingID)
	c.sendAsync(t, wg, clientIDs...)
	waitFor(t, "the run to wait for the writer", func() bool { return meetings.Waiting(r.svc, r.meetingID) == before+1 })
}

func (r *chatRoom) lastSeq(t *testing.T) int64 {
	t.Helper()
	var last int64
	if err := r.db.Get(&last, `SELECT last_seq FROM meetings WHERE id = $1`, r.meetingID); err != nil {
		t.Fatal(err)
	}
	return last
}

// Sends of several connections and authors that arrive while the meeting's
// writer stores are stored together by its next statement, in the order they
// arrived: each connection's messages in its order, an author's message sent
// later on another connection after the earlier one; every answer comes
// after the commit, acks before the messages are announced, and the
// announcements are in seq order.
func TestWriterStoresWaitingSendsTogetherInOrder(t *testing.T) {
	r := newChatRoom(t)
	tx := r.holdLock(t)
	var wg sync.WaitGroup
	first, a1, b, a2, api := r.conn(r.staff), r.conn(r.staff), r.conn(r.member), r.conn(r.staff), r.conn(r.member)
	cid := ids(8)
	first.sendAsync(t, &wg, cid[0])
	waitFor(t, "the first statement to wait for the lock", func() bool { return r.blockedStatement(t).PID != 0 })
	r.queue(t, &wg, a1, cid[1], cid[2], cid[3]) // the staff author, connection 1
	r.queue(t, &wg, b, cid[4], cid[5])          // the member
	r.queue(t, &wg, a2, cid[6])                 // the staff author again, connection 2
	r.queue(t, &wg, api, cid[7])                // the member through SendThen (one message)
	for _, c := range []*conn{first, a1, b, a2, api} {
		if n := c.answered(); n != 0 {
			t.Fatalf("%d answers before anything was committed", n)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	want := map[string]struct {
		c   *conn
		seq int64
	}{cid[0]: {first, 1}, cid[1]: {a1, 2}, cid[2]: {a1, 3}, cid[3]: {a1, 4}, cid[4]: {b, 5}, cid[5]: {b, 6}, cid[6]: {a2, 7}, cid[7]: {api, 8}}
	for id, w := range want {
		got := w.c.only(t, id)
		if got.err != nil || got.msg.Seq != w.seq || got.msg.ClientID != id || got.msg.Author.ID != w.c.a.UserID {
			t.Errorf("%s answered %+v, %v; want seq %d by %d", id, got.msg, got.err, w.seq, w.c.a.UserID)
		}
		if !got.committed {
			t.Errorf("%s answered before its message was committed", id)
		}
	}
	var statements int
	if err := r.db.Get(&statements, `SELECT count(DISTINCT xmin::text) FROM chat_messages WHERE meeting_id = $1 AND seq > 1`, r.meetingID); err != nil || statements != 1 {
		t.Errorf("the waiting sends were stored by %d transactions (err %v), want 1", statements, err)
	}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for i, m := range r.rec.msgs {
		if m.Seq != int64(i+1) {
			t.Fatalf("announced seq %d as number %d", m.Seq, i+1)
		}
	}
	if len(r.rec.msgs) != 8 || r.lastSeq(t) != 8 {
		t.Errorf("announced %d messages, last_seq %d; want 8", len(r.rec.msgs), r.lastSeq(t))
	}
}

// A statement that fails stores none of the sends it carried, and each send
// gets the answer it would have had alone: meeting_not_live when the
// meeting ended while they waited, the stored message for a client id that
// two connections sent at once (the other connections' messages stored), an
// internal error when the database failed the statement.
func TestWriterFailedStatementFailsEachSend(t *testing.T) {
	t.Run("meeting ended", func(t *testing.T) {
		r := newChatRoom(t)
		tx := r.holdLock(t)
		var wg sync.WaitGroup
		first, a, b := r.conn(r.staff), r.conn(r.staff), r.conn(r.member)
		cid := ids(4)
		first.sendAsync(t, &wg, cid[0])
		waitFor(t, "the first statement to wait for the lock", func() bool { return r.blockedStatement(t).PID != 0 })
		r.queue(t, &wg, a, cid[1], cid[2])
		r.queue(t, &wg, b, cid[3])
		if _, err := tx.Exec(`UPDATE meetings SET status = 'ended' WHERE id = $1`, r.meetingID); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		for i, c := range []*conn{first, a, a, b} {
			if got := c.only(t, cid[i]); !errors.Is(got.err, meetings.ErrNotLive) {
				t.Errorf("send %d answered %+v, %v; want meeting_not_live", i, got.msg, got.err)
			}
		}
		if r.lastSeq(t) != 0 {
			t.Errorf("last_seq %d after an ended meeting, want 0", r.lastSeq(t))
		}
	})

	t.Run("client id sent twice", func(t *testing.T) {
		r := newChatRoom(t)
		tx := r.holdLock(t)
		var wg sync.WaitGroup
		first, tab1, tab2, b := r.conn(r.staff), r.conn(r.staff), r.conn(r.staff), r.conn(r.member)
		cid := ids(4)
		first.sendAsync(t, &wg, cid[0])
		waitFor(t, "the first statement to wait for the lock", func() bool { return r.blockedStatement(t).PID != 0 })
		r.queue(t, &wg, tab1, cid[1], cid[2])
		r.queue(t, &wg, tab2, cid[1]) // the same message resent from another tab
		r.queue(t, &wg, b, cid[3])
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		one, again := tab1.only(t, cid[1]), tab2.only(t, cid[1])
		if one.err != nil || again.err != nil || one.msg.Seq != 2 || again.msg.Seq != 2 || again.msg.ID != one.msg.ID {
			t.Errorf("the repeated client id answered %+v, %v and %+v, %v; want seq 2 twice", one.msg, one.err, again.msg, again.err)
		}
		if got := tab1.only(t, cid[2]); got.err != nil || got.msg.Seq != 3 {
			t.Errorf("the message after it answered %+v, %v; want seq 3", got.msg, got.err)
		}
		if got := b.only(t, cid[3]); got.err != nil || got.msg.Seq != 4 {
			t.Errorf("another author's message answered %+v, %v; want seq 4", got.msg, got.err)
		}
		var stored int
		if err := r.db.Get(&stored, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, r.meetingID); err != nil || stored != 4 || r.lastSeq(t) != 4 {
			t.Errorf("stored %d messages, last_seq %d (err %v); want 4 and 4", stored, r.lastSeq(t), err)
		}
	})

	t.Run("database failure", func(t *testing.T) {
		r := newChatRoom(t)
		tx := r.holdLock(t)
		var wg sync.WaitGroup
		first, a, b := r.conn(r.staff), r.conn(r.staff), r.conn(r.member)
		cid := ids(5)
		var last blocked
		cancelBlocked := func() {
			t.Helper()
			waitFor(t, "a new statement waiting for the lock", func() bool {
				b := r.blockedStatement(t)
				if b.PID == 0 || b == last {
					return false
				}
				last = b
				return true
			})
			if _, err := r.db.Exec(`SELECT pg_cancel_backend($1)`, last.PID); err != nil {
				t.Fatal(err)
			}
		}
		first.sendAsync(t, &wg, cid[0])
		waitFor(t, "the first statement to wait for the lock", func() bool { return r.blockedStatement(t).PID != 0 })
		r.queue(t, &wg, a, cid[1], cid[2])
		r.queue(t, &wg, b, cid[3])
		cancelBlocked() // the first statement
		cancelBlocked() // the one carrying both waiting runs
		wg.Wait()
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		for i, c := range []*conn{first, a, a, b} {
			if got := c.only(t, cid[i]); got.err == nil || isServiceRefusal(got.err) {
				t.Errorf("send %d answered %+v, %v; want the database's error", i, got.msg, got.err)
			}
		}
		if r.lastSeq(t) != 0 {
			t.Errorf("last_seq %d after failed statements, want 0", r.lastSeq(t))
		}
		// The writer goes on with the next send.
		c := r.conn(r.member)
		c.send(t, cid[4])
		if got := c.only(t, cid[4]); got.err != nil || got.msg.Seq != 1 {
			t.Errorf("the next send answered %+v, %v; want seq 1", got.msg, got.err)
		}
	})
}

// isServiceRefusal tells the service's own answers (not live, forbidden,
// rate limited, invalid) from a failure to store.
func isServiceRefusal(err error) bool {
	var denied *apperr.Denied
	var limited *apperr.RateLimited
	var invalid *apperr.Validation
	return errors.As(err, &denied) || errors.As(err, &limited) || errors.As(err, &invalid) ||
		errors.Is(err, apperr.ErrNotFound) || errors.Is(err, apperr.ErrForbidden)
}
