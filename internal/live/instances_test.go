package live_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 5 item 7: two instances on one database. Messages sent on one arrive on
// the other in order, also those sent while the listener connections are
// being killed: after lib/pq reconnects (a nil notification) the instance
// re-reads every active topic.
func TestTwoInstancesDeliverAcrossAndSurviveListenerLoss(t *testing.T) {
	a := testkit.Start(t, dbURL)
	b := testkit.Start(t, dbURL)
	r := newRoom(t, a)
	sender := a.Login(a.NewUser(model.RoleStaff)).DialWS()
	onA := a.Login(r.member).DialWS()
	onB := b.Login(r.moderator).DialWS()
	subscribe(t, onA, r.topic(), 0)
	subscribe(t, onB, r.topic(), 0)
	waitFor(t, func() bool { return listeners(t, a) == 2 })

	next := int64(1)
	sendAndCheck := func(n int, during func(i int)) {
		t.Helper()
		for i := 0; i < n; i++ {
			if during != nil {
				during(i)
			}
			chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("wiadomość %d", next+int64(i)))
			sender.Expect("chat.ack", wait)
		}
		for _, ws := range []*testkit.WS{onA, onB} {
			for want := next; want < next+int64(n); want++ {
				if m := ws.Expect("chat.message", wait).Message(); m.Seq != want {
					t.Fatalf("got seq %d, want %d", m.Seq, want)
				}
			}
		}
		next += int64(n)
	}
	sendAndCheck(20, nil)

	// Kill both instances' LISTEN connections, then keep sending while they
	// reconnect: those hints are lost, the re-read after reconnecting is not.
	killed := 0
	sendAndCheck(30, func(i int) {
		if i == 0 || i == 15 {
			killed += killListeners(t, a)
		}
	})
	if killed < 2 {
		t.Errorf("killed %d listener connections, want at least 2", killed)
	}
	waitFor(t, func() bool { return listeners(t, a) == 2 })
	sendAndCheck(10, nil)

	// The last messages go out while the listeners are down and nothing is
	// sent after them: only the re-read on reconnect can deliver them on B.
	sendAndCheck(5, func(i int) {
		if i == 0 {
			killed += killListeners(t, a)
		}
	})
}

func listeners(t *testing.T, env *testkit.Env) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, live.ListenerAppName); err != nil {
		t.Fatal(err)
	}
	return n
}

func killListeners(t *testing.T, env *testkit.Env) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, `
		SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()) AS k`, live.ListenerAppName); err != nil {
		t.Fatal(err)
	}
	return n
}
