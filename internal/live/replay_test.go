package live_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The race of SPEC §5 / issue 5 item 4: subscribers join with since_seq while
// several connections send. Each subscriber must see every seq after its
// since_seq exactly once and in order, whether the message reached it through
// the replay, the ring that bridges replay and live, or the live stream.
func TestSubscribeDuringSendsHasNoGapAndNoDuplicate(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	const senders, perSender = 4, 60
	total := int64(senders * perSender)
	staff := make([]*testkit.WS, senders)
	for i := range staff {
		u := env.NewUser(model.RoleStaff) // staff are not rate limited
		staff[i] = env.Login(u).DialWS()
	}
	// Some history before anyone subscribes.
	for i := 0; i < 20; i++ {
		chatSend(staff[0], r.meetingID, uuid.NewString(), fmt.Sprintf("przed %d", i))
		staff[0].Expect("chat.ack", wait)
	}
	total += 20

	var wg sync.WaitGroup
	for i, ws := range staff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perSender; k++ {
				ws.Send(map[string]any{"type": "chat.send", "meeting_id": r.meetingID, "client_id": uuid.NewString(), "body": fmt.Sprintf("nadawca %d, wiadomość %d", i, k)})
				if k%10 == 0 {
					time.Sleep(2 * time.Millisecond) // spread the sends over the subscriptions
				}
			}
		}()
	}
	// Subscribers join at different moments during the sending, each from a
	// different since_seq, some from the start.
	type result struct {
		since int64
		seqs  []int64
	}
	results := make([]result, 12)
	// One login, twelve tabs: logging in (argon2id) in the middle of the
	// sending would only measure how fast 2 cores hash passwords.
	member := env.Login(r.member)
	var subs sync.WaitGroup
	for i := range results {
		subs.Add(1)
		go func() {
			defer subs.Done()
			time.Sleep(time.Duration(i) * 7 * time.Millisecond)
			ws := member.DialWS()
			since := int64(i * 3)
			results[i].since = since
			ws.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": since})
			deadline := time.After(20 * time.Second)
			for {
				select {
				case f, ok := <-ws.Frames():
					if !ok {
						t.Errorf("subscriber %d: connection closed: %v", i, ws.Err())
						return
					}
					if f.Type == "chat.message" {
						results[i].seqs = append(results[i].seqs, f.Message().Seq)
						if f.Message().Seq == total {
							return
						}
					}
				case <-deadline:
					t.Errorf("subscriber %d: timed out after %d messages", i, len(results[i].seqs))
					return
				}
			}
		}()
	}
	wg.Wait()
	subs.Wait()
	for i, res := range results {
		want := res.since + 1
		for _, s := range res.seqs {
			if s != want {
				t.Fatalf("subscriber %d (since %d): got seq %d, want %d (seqs %v)", i, res.since, s, want, res.seqs)
			}
			want++
		}
		if want != total+1 {
			t.Errorf("subscriber %d (since %d) ended at %d, want %d", i, res.since, want-1, total)
		}
	}
}

// The window between a subscriber's replay and its joining the live stream,
// held open on purpose: messages committed meanwhile reach the subscriber
// exactly once, from the topic's ring when it reaches back far enough and from
// a second replay when it does not.
func TestMessagesCommittedDuringReplayArriveOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ring   int
		during int
	}{{"bridged by the ring", 256, 5}, {"ring outrun, replayed again", 3, 12}} {
		t.Run(tc.name, func(t *testing.T) {
			env := testkit.Start(t, dbURL)
			r := newRoom(t, env)
			live.SetRingFrames(env.App.Live, tc.ring)
			sender := env.Login(env.NewUser(model.RoleStaff)).DialWS()
			// A first subscriber keeps the topic active so its loop delivers
			// (and fills the ring) while the second one is paused.
			subscribe(t, env.Login(r.moderator).DialWS(), r.topic(), 0)
			for i := 0; i < 3; i++ {
				chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("przed %d", i))
				sender.Expect("chat.ack", wait)
			}
			paused, resume := make(chan struct{}), make(chan struct{})
			var once sync.Once
			live.PauseAfterReplay(env.App.Live, func(string) {
				once.Do(func() { close(paused); <-resume })
			})
			ws := env.Login(r.member).DialWS()
			ws.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 1})
			<-paused
			for i := 0; i < tc.during; i++ {
				chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("w trakcie %d", i))
				sender.Expect("chat.ack", wait)
			}
			// Let the topic loop deliver them to the ring before resuming.
			waitFor(t, func() bool { return live.TopicSeq(env.App.Live, r.topic()) == int64(3+tc.during) })
			close(resume)
			var seqs []int64
			for int64(len(seqs)) < int64(2+tc.during) {
				f := ws.Next(wait)
				switch f.Type {
				case "chat.message":
					seqs = append(seqs, f.Message().Seq)
				case "subscribed":
					if f.Int("seq") != int64(3+tc.during) {
						t.Errorf("subscribed at seq %d, want %d", f.Int("seq"), 3+tc.during)
					}
				}
			}
			for i, s := range seqs {
				if s != int64(i+2) {
					t.Fatalf("seqs after since_seq 1 = %v, want 2..%d once each", seqs, 3+tc.during)
				}
			}
			chatSend(sender, r.meetingID, uuid.NewString(), "po")
			if m := ws.Expect("chat.message", wait).Message(); m.Seq != int64(4+tc.during) {
				t.Errorf("next live message has seq %d, want %d", m.Seq, 4+tc.during)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	waitForWithin(t, wait, cond)
}

func waitForWithin(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A subscriber whose since_seq already reaches the topic's last message (a
// reconnect that missed nothing; join then skips the database replay) gets
// nothing old and every later message, in order.
func TestSubscribeAtTheLiveEdgeGetsOnlyLaterMessages(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	sender := env.Login(r.moderator).DialWS()
	subscribe(t, sender, r.topic(), 0)
	for i := 1; i <= 3; i++ {
		chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("przed %d", i))
		sender.Expect("chat.ack", wait)
		if m := sender.Expect("chat.message", wait).Message(); m.Seq != int64(i) {
			t.Fatalf("sender saw seq %d, want %d", m.Seq, i)
		}
	}
	reader := env.Login(r.member).DialWS()
	if f := subscribe(t, reader, r.topic(), 3); f.Int("seq") != 3 {
		t.Fatalf("subscribed = %s, want seq 3", f.Raw)
	}
	for i := 4; i <= 5; i++ {
		chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("po %d", i))
		sender.Expect("chat.ack", wait)
		if m := reader.Expect("chat.message", wait).Message(); m.Seq != int64(i) {
			t.Fatalf("reader got seq %d, want %d", m.Seq, i)
		}
	}
}
