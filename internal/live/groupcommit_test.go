package live_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Each instance's meeting writer stores the sends of all its connections
// together (issue 16); two instances' writers take the meeting row's lock in
// turn. Connections of two authors on both instances send bursts at once:
// every message is acknowledged once, each connection's messages in the
// order it sent them, the seqs are gap-free, every message is stored once,
// and subscribers on both instances get every seq once, in order, with the
// acknowledged message.
func TestGroupCommitAcrossConnectionsAndInstances(t *testing.T) {
	a := testkit.Start(t, dbURL)
	b := testkit.Start(t, dbURL)
	r := newRoom(t, a)
	// Staff are not rate limited; each author has connections on both instances.
	authors := []testkit.User{a.NewUser(model.RoleStaff), a.NewUser(model.RoleStaff)}
	var senders []*testkit.WS
	for _, u := range authors {
		ca, cb := a.Login(u), b.Login(u)
		senders = append(senders, ca.DialWS(), ca.DialWS(), cb.DialWS())
	}
	onA, onB := a.Login(r.member).DialWS(), b.Login(r.moderator).DialWS()
	subscribe(t, onA, r.topic(), 0)
	subscribe(t, onB, r.topic(), 0)
	waitFor(t, func() bool { return listeners(t, a) == 2 })

	const perConn = 12
	sent := make([][]string, len(senders))
	var wg sync.WaitGroup
	for i, ws := range senders {
		sent[i] = make([]string, perConn)
		for k := range sent[i] {
			sent[i][k] = uuid.NewString()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k, cid := range sent[i] {
				chatSend(ws, r.meetingID, cid, fmt.Sprintf("połączenie %d, wiadomość %d", i, k))
			}
		}()
	}
	wg.Wait()

	total := int64(len(senders) * perConn)
	ackedBy := map[int64]string{} // seq → client id
	for i, ws := range senders {
		var last int64
		for k, cid := range sent[i] {
			f := ws.Expect("chat.ack", wait)
			seq := f.Int("seq")
			if f.Str("client_id") != cid || seq <= last {
				t.Fatalf("connection %d: ack %d is %s after seq %d, want %s with a later seq", i, k, f.Raw, last, cid)
			}
			if other, dup := ackedBy[seq]; dup {
				t.Fatalf("seq %d acked for %s and %s", seq, other, cid)
			}
			ackedBy[seq], last = cid, seq
		}
	}
	for seq := int64(1); seq <= total; seq++ {
		if ackedBy[seq] == "" {
			t.Fatalf("no message acked with seq %d of %d", seq, total)
		}
	}
	for _, ws := range []*testkit.WS{onA, onB} {
		for seq := int64(1); seq <= total; seq++ {
			if m := ws.Expect("chat.message", wait).Message(); m.Seq != seq || m.ClientID != ackedBy[seq] {
				t.Fatalf("delivered seq %d (%s), want %d (%s)", m.Seq, m.ClientID, seq, ackedBy[seq])
			}
		}
	}
	var stored []string
	if err := a.DB.Select(&stored, `SELECT client_id::text FROM chat_messages WHERE meeting_id = $1 ORDER BY seq`, r.meetingID); err != nil {
		t.Fatal(err)
	}
	if int64(len(stored)) != total {
		t.Fatalf("stored %d messages, want %d", len(stored), total)
	}
	for i, cid := range stored {
		if cid != ackedBy[int64(i+1)] {
			t.Errorf("stored seq %d is %s, acked as %s", i+1, cid, ackedBy[int64(i+1)])
		}
	}
}
