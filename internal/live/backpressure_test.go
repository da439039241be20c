package live_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A subscriber that stops reading is closed with 4008 once its bounded queue
// fills, while the others keep receiving everything; the server holds at most
// the queue's frames for it, not the whole backlog.
func TestSlowSubscriberIsClosedWith4008(t *testing.T) {
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.WSQueueFrames = 64 })
	r := newRoom(t, env)
	sender := env.Login(env.NewUser(model.RoleStaff)).DialWS()
	reader := env.Login(r.moderator).DialWS()
	subscribe(t, reader, r.topic(), 0)

	// The stalled client: subscribes, then never reads again.
	stalled := rawDial(t, env.Login(r.member), env.URL)
	if err := stalled.WriteJSON(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0}); err != nil {
		t.Fatal(err)
	}
	conns := func() float64 { return gauge(t, env, "forumjst_live_connections") }
	waitFor(t, func() bool { return conns() == 3 })

	// Big messages fill the kernel's socket buffers quickly; after that the
	// server-side queue fills and the connection must be dropped.
	body := strings.Repeat("Dużo tekstu o sieci szkół. ", 140)
	const n = 900
	for i := 0; i < n; i++ {
		chatSend(sender, r.meetingID, uuid.NewString(), body)
		sender.Expect("chat.ack", wait)
	}
	// Generous: on a loaded machine the last frames take a while to queue.
	waitForWithin(t, 20*time.Second, func() bool { return conns() == 2 })
	if v := gauge(t, env, "forumjst_live_slow_closes_total"); v != 1 {
		t.Errorf("slow closes = %v, want 1", v)
	}
	// Reading now, the stalled client finds the frames that were in flight,
	// then the end: a 4008 close frame when its socket still had room for it,
	// else an abnormal closure. Either way it reconnects with since_seq.
	_ = stalled.SetReadDeadline(time.Now().Add(wait))
	var err error
	for err == nil {
		_, _, err = stalled.ReadMessage()
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || (ce.Code != 4008 && ce.Code != websocket.CloseAbnormalClosure) {
		t.Errorf("stalled client ended with %v, want close 4008 or 1006", err)
	}
	// The healthy reader got every message, in order.
	for want := int64(1); want <= n; want++ {
		if m := reader.Expect("chat.message", wait).Message(); m.Seq != want {
			t.Fatalf("reader got seq %d, want %d", m.Seq, want)
		}
	}
}

func rawDial(t *testing.T, c *testkit.Client, base string) *websocket.Conn {
	t.Helper()
	conn, _, err := c.DialRawWS(base, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// gauge reads one unlabelled metric from /metrics.
func gauge(t *testing.T, env *testkit.Env, name string) float64 {
	t.Helper()
	resp := env.Anonymous().Get("/metrics")
	if resp.Status != http.StatusOK {
		t.Fatalf("/metrics = %d", resp.Status)
	}
	for _, line := range strings.Split(string(resp.Body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}
