package live_test

import (
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// An idle subscribed connection keeps one goroutine (its reader): the writer
// runs only while there is something to write (issue 16).
func TestIdleConnectionsKeepOneGoroutine(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	goroutines := func() float64 { return gauge(t, env, "go_goroutines") }
	const n = 20
	before := goroutines()
	member := env.Login(r.member)
	for range n {
		conn := rawDial(t, member, env.URL)
		defer conn.Close()
		if err := conn.WriteJSON(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0}); err != nil {
			t.Fatal(err)
		}
		readUntil(t, conn, "subscribed")
	}
	// The last answers' writers end on their own; a writer per connection
	// would leave 2n.
	waitFor(t, func() bool { return goroutines()-before <= n+n/4 })
}

// An idle connection is still pinged, and kept while it answers: the ping is
// a timer that starts a writer, not a writer waiting on a ticker.
func TestIdleConnectionIsPinged(t *testing.T) {
	const every = 50 * time.Millisecond
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.WSPingInterval = every })
	r := newRoom(t, env)
	conn := rawDial(t, env.Login(r.member), env.URL)
	defer conn.Close()
	pings := make(chan struct{}, 100)
	conn.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(wait))
	})
	ended := make(chan error, 1)
	go func() { // reading runs the ping handler
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		_, _, err := conn.ReadMessage()
		ended <- err
	}()
	// 10 pings span 4× the 2.5 intervals a silent peer is given: the pongs
	// keep the connection.
	for i := 0; i < 10; i++ {
		select {
		case <-pings:
		case err := <-ended:
			t.Fatalf("connection ended after %d pings: %v", i, err)
		case <-time.After(wait):
			t.Fatalf("%d pings, want 10", i)
		}
	}
}

// readUntil reads frames until one of type typ.
func readUntil(t *testing.T, conn *websocket.Conn, typ string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for {
		var f struct{ Type string }
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == typ {
			return
		}
	}
}
