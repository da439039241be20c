package live_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
	return backends(t, env, live.ListenerAppName)
}

func killListeners(t *testing.T, env *testkit.Env) int {
	t.Helper()
	return killBackends(t, env, live.ListenerAppName)
}

// The NOTIFY statements go through a connection of their own. When it dies
// mid-chat, the hint that found it dead is sent again on a new connection:
// the last message of a burst reaches the other instance at once, not at its
// safety poll (30 s, longer than this test waits).
func TestNotifyConnectionLossLosesNoHint(t *testing.T) {
	a := testkit.Start(t, dbURL)
	b := testkit.Start(t, dbURL)
	r := newRoom(t, a)
	sender := a.Login(a.NewUser(model.RoleStaff)).DialWS()
	onB := b.Login(r.moderator).DialWS()
	subscribe(t, onB, r.topic(), 0)
	waitFor(t, func() bool { return listeners(t, a) == 2 })

	next := int64(1)
	send := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("wiadomość %d", next+int64(i)))
			sender.Expect("chat.ack", wait)
		}
		for want := next; want < next+int64(n); want++ {
			if m := onB.Expect("chat.message", wait).Message(); m.Seq != want {
				t.Fatalf("got seq %d on B, want %d", m.Seq, want)
			}
		}
		next += int64(n)
	}
	send(5)
	for round := 0; round < 3; round++ {
		if n := killNotifiers(t, a); n < 1 {
			t.Fatalf("round %d: killed %d notify connections, want at least 1", round, n)
		}
		// One message, nothing after it: the hint must not die with the
		// connection.
		send(1)
		send(3)
	}

	// Now no new connection can be opened for a while: the hint that found
	// its connection gone waits and is sent once the database lets it in.
	var dbName string
	if err := a.DB.Get(&dbName, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	// A database cannot close its own doors: the statement goes through the
	// server's maintenance database.
	admin := adminDB(t)
	allow := func(on bool) {
		if _, err := admin.Exec(fmt.Sprintf(`ALTER DATABASE %s WITH ALLOW_CONNECTIONS %t`, pq.QuoteIdentifier(dbName), on)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { allow(true) })
	allow(false)
	killNotifiers(t, a)
	chatSend(sender, r.meetingID, uuid.NewString(), fmt.Sprintf("wiadomość %d", next))
	sender.Expect("chat.ack", wait)
	time.Sleep(300 * time.Millisecond) // several attempts fail meanwhile
	allow(true)
	if m := onB.Expect("chat.message", wait).Message(); m.Seq != next {
		t.Fatalf("got seq %d on B, want %d", m.Seq, next)
	}
	next++
	send(2)
}

func backends(t *testing.T, env *testkit.Env, app string) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, app); err != nil {
		t.Fatal(err)
	}
	return n
}

func killBackends(t *testing.T, env *testkit.Env, app string) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, `
		SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()) AS k`, app); err != nil {
		t.Fatal(err)
	}
	return n
}

// killNotifiers ends the notify connections of the instances on env's
// database and waits until those backends are gone; it returns how many it
// ended. It waits for their pids, not for no notify connection at all: the
// other instance (or this one) may open a new one at once for a presence
// hint, which made a wait for none fail under load.
func killNotifiers(t *testing.T, env *testkit.Env) int {
	t.Helper()
	var pids []int64
	if err := env.DB.Select(&pids, `
		SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
		live.NotifierAppName); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Exec(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, pq.Array(pids)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var left int
		if err := env.DB.Get(&left, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])`, pq.Array(pids)); err != nil {
			t.Fatal(err)
		}
		return left == 0
	})
	return len(pids)
}

// adminDB connects to the server's "postgres" database.
func adminDB(t *testing.T) *sqlx.DB {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres"
	db, err := sqlx.Connect("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
