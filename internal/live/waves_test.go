package live_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A fan-out larger than one wave of writers (startWriters starts 64 at a
// time) reaches every subscriber: each of 150 connections gets every
// message, once, in seq order, and the sender its acks.
func TestFanOutBeyondOneWaveReachesEverySubscriber(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	observer := env.Login(r.observer)
	subs := make([]*testkit.WS, 150)
	for i := range subs {
		subs[i] = observer.DialWS()
		subscribe(t, subs[i], r.topic(), 0)
	}
	sender := env.Login(r.member).DialWS()
	subscribe(t, sender, r.topic(), 0)
	const n = 5
	for i := 1; i <= n; i++ {
		chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("Wiadomość %d", i))
	}
	for i := 1; i <= n; i++ {
		if f := sender.Expect("chat.ack", wait); f.Int("seq") != int64(i) {
			t.Fatalf("ack %d has seq %d", i, f.Int("seq"))
		}
	}
	for k, ws := range subs {
		for i := 1; i <= n; i++ {
			if m := ws.Expect("chat.message", wait).Message(); m.Seq != int64(i) {
				t.Fatalf("subscriber %d got seq %d, want %d", k, m.Seq, i)
			}
		}
	}
}
