package faults

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// The scenarios above hit the narrow windows of a fault only by chance. These
// tests put the server in exactly the state such a window leaves behind.

// wsFor opens /ws on base as acct with testkit's synchronous client.
func wsFor(t *testing.T, base string, acct *account) *testkit.WS {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	acct.mu.Lock()
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: acct.token, Path: "/"}})
	acct.mu.Unlock()
	c := &testkit.Client{T: t, Base: base, HTTP: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	return c.DialWS()
}

// within returns the next frame of type typ, or false after timeout (where
// testkit's Expect would end the test without saying why it matters).
func within(ws *testkit.WS, typ string, timeout time.Duration) (testkit.Frame, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-ws.Frames():
			if !ok {
				return testkit.Frame{}, false
			}
			if f.Type == typ {
				return f, true
			}
		case <-deadline:
			return testkit.Frame{}, false
		}
	}
}

func subscribeWS(t *testing.T, ws *testkit.WS, topic string, since, latest int64) {
	t.Helper()
	ws.Send(map[string]any{"type": "subscribe", "topic": topic, "since_seq": since})
	if f := ws.Expect("subscribed", 10*time.Second); f.Int("seq") != latest {
		t.Fatalf("subscribed = %s, want seq %d", f.Raw, latest)
	}
}

func chatSend(ws *testkit.WS, meetingID int64, clientID, body string) {
	ws.Send(map[string]any{"type": "chat.send", "meeting_id": meetingID, "client_id": clientID, "body": body})
}

// storeOrphan does what an instance killed between COMMIT and its NOTIFY
// leaves behind: the message is stored (under the meeting lock, with the next
// seq, as meetings.Service.Send stores it) and nobody was told, not even the
// client, which got no ack.
func storeOrphan(t *testing.T, ctx context.Context, db *sqlx.DB, meetingID, authorID int64, clientID, body string) (id, seq int64) {
	t.Helper()
	// An orphan is by definition announced to nobody: a quiet unit of work.
	err := store.InTx(ctx, store.NewDB(db, topic.Discard{}), func(tx *store.Tx) error {
		tx.Quiet()
		if _, err := store.LockMeetingRow(ctx, tx, meetingID); err != nil {
			return err
		}
		m, err := store.InsertChatMessage(ctx, tx, store.NewChatMessage{MeetingID: meetingID, AuthorID: authorID,
			ClientID: clientID, Body: body, BodyHTML: "<p>" + body + "</p>\n"})
		id, seq = m.ID, m.Seq
		return err
	})
	if err != nil {
		t.Fatalf("store the orphaned message: %v", err)
	}
	return id, seq
}

// A SIGKILL between a chat message's COMMIT and the NOTIFY (and ack) that
// follow it leaves a stored message nobody was told about. Its client resends
// it with the same client_id, to the restarted instance or another one, and
// gets the stored id and seq back. Every subscriber must then receive it at
// once — not only when an unrelated message's hint or the hub's 30 s safety
// poll makes the instance read the topic again.
func TestResentMessageOrphanedByACrashReachesSubscribers(t *testing.T) {
	requireSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dbURL := newDatabase(t, ctx)
	b := newInstance(t, "B", dbURL)
	if err := b.start(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRoom(t, ctx, dbURL, b.base, 1, 1)
	sender, receiver := wsFor(t, b.base, r.senders[0]), wsFor(t, b.base, r.receivers[0])
	subscribeWS(t, sender, r.topic, 0, 0)
	subscribeWS(t, receiver, r.topic, 0, 0)

	// Instance A committed the sender's message and died. (No message goes
	// round first: its hints, local and then the NOTIFY echo, could still
	// wake the topic after the orphan is stored and hide the bug. The topic
	// is live on B all the same: subscribing read its head.)
	cid := uuid.NewString()
	id, seq := storeOrphan(t, ctx, r.db, r.meetingID, r.senders[0].id, cid, "Czy wszyscy mnie słyszą?")

	// The sender's client reconnected to B and sends it again.
	chatSend(sender, r.meetingID, cid, "Czy wszyscy mnie słyszą?")
	ack := sender.Expect("chat.ack", 10*time.Second)
	if ack.Int("id") != id || ack.Int("seq") != seq {
		t.Fatalf("resend acknowledged as %s, want the stored id %d seq %d", ack.Raw, id, seq)
	}
	const deadline = 5 * time.Second
	acked := time.Now()
	for _, c := range []struct {
		name string
		ws   *testkit.WS
	}{{"receiver", receiver}, {"sender", sender}} {
		f, ok := within(c.ws, "chat.message", deadline)
		if !ok {
			// Say whether it is late or lost: the hub re-reads every topic
			// every 30 s.
			late := "and not within 35 s either"
			if f, ok = within(c.ws, "chat.message", 35*time.Second-time.Since(acked)); ok {
				late = fmt.Sprintf("it came %s after the ack", time.Since(acked).Round(100*time.Millisecond))
			}
			t.Errorf("%s: stored message seq %d (acknowledged to its resend) not delivered within %s (%s): "+
				"meetings.Service.Send announces a message only when it inserts it (created), so a message "+
				"whose instance died between COMMIT and NOTIFY waits for another message's hint or the 30 s safety poll",
				c.name, seq, deadline, late)
			if !ok {
				continue
			}
		}
		if m := f.Message(); m.Seq != seq || m.ID != id || m.ClientID != cid {
			t.Errorf("%s: got %s, want seq %d id %d", c.name, f.Raw, seq, id)
		}
	}
}

// A client that (re)subscribes while the database is unreachable must be told
// to try again ("internal", as a failed replay already answers), not
// "not_found": SPEC §5 keeps not_found for topics the user may not read, and a
// client takes it as final (chat.js shows the room as gone and stops
// following it), so a reconnect that meets a database outage would never
// resume. Sends during the outage answer "internal" and succeed when resent.
func TestSubscribeWhileDatabaseIsDownIsRetryable(t *testing.T) {
	requireSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dbURL := newDatabase(t, ctx)
	a := newInstance(t, "A", dbURL)
	if err := a.start(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRoom(t, ctx, dbURL, a.base, 1, 1)
	// Both sockets are open before the outage (the handshake needs the
	// session, from the database); the receiver has not subscribed yet.
	sender, receiver := wsFor(t, a.base, r.senders[0]), wsFor(t, a.base, r.receivers[0])
	subscribeWS(t, sender, r.topic, 0, 0)

	if err := suite.cluster.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		if down { // the next tests need the cluster
			if err := suite.cluster.Start(context.Background()); err != nil {
				t.Errorf("start the cluster again: %v", err)
			}
		}
	})

	cid := uuid.NewString()
	chatSend(sender, r.meetingID, cid, "Wysłane w czasie awarii bazy")
	if f := sender.Expect("error", 15*time.Second); f.Str("code") != "internal" || f.Str("ref") != cid {
		t.Errorf("send while the database is down answered %s, want code internal ref %s", f.Raw, cid)
	}
	receiver.Send(map[string]any{"type": "subscribe", "topic": r.topic, "since_seq": 0})
	topicErr := receiver.Expect("error", 15*time.Second)
	if topicErr.Str("ref") != r.topic || topicErr.Str("code") != "internal" {
		t.Errorf("subscribe while the database is down answered %s, want code internal (try again): "+
			"live.Conn.subscribe answers not_found to any error of the feed's authorize (and of the topic's first head read), "+
			"so a client told that takes the room for gone", topicErr.Raw)
	}

	if err := suite.cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	down = false
	// Back: the resend is stored once, the subscription works, the receiver
	// gets the message.
	// The pool's connections died with the server: the first sends may
	// still fail with "internal" and are resent, as a client does.
	var ack testkit.Frame
	if err := waitFor(ctx, 15*time.Second, "the resend to be acknowledged", func() bool {
		chatSend(sender, r.meetingID, cid, "Wysłane w czasie awarii bazy")
		for {
			select {
			case f := <-sender.Frames():
				switch {
				case f.Type == "chat.ack" && f.Str("client_id") == cid:
					ack = f
					return true
				case f.Type == "error" && f.Str("ref") == cid:
					return false
				}
			case <-time.After(5 * time.Second):
				return false
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if ack.Int("seq") != 1 {
		t.Errorf("ack = %s, want seq 1", ack.Raw)
	}
	receiver.Send(map[string]any{"type": "subscribe", "topic": r.topic, "since_seq": 0})
	if f, ok := within(receiver, "chat.message", 10*time.Second); !ok || f.Message().ClientID != cid {
		t.Errorf("after the outage the receiver got %s (ok %v), want the resent message", f.Raw, ok)
	}
	var stored int
	if err := r.db.GetContext(ctx, &stored, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, r.meetingID); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("%d messages stored, want 1", stored)
	}
}
