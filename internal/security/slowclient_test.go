package security_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 10, info: a client that subscribes and never reads was closed only by
// the read deadline (no pong for 2.5 pings, ~60 s) instead of with 4008 when
// its queue filled. With the server's defaults (512 frames, pings every 25 s)
// and chat flowing, it must be gone well before the read deadline.
func TestSlowClientIsDroppedBeforeReadDeadline(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRevRoom(t, env)
	sender := env.Login(env.NewUser(model.RoleStaff)).DialWS()

	stalled, _, err := env.Login(r.member).DialRawWS(env.URL, 4<<10)
	if err != nil {
		t.Fatal(err)
	}
	if err := stalled.WriteJSON(map[string]any{"type": "subscribe", "topic": r.topic, "since_seq": 0}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(revWait); slowConns(t, env) != 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stalled client's connection is not counted")
		}
	}
	start := time.Now()
	readDeadline := env.Config.WSPingInterval * 5 / 2
	limit := readDeadline / 2
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for time.Since(start) < limit {
			if slowConns(t, env) == 2 { // the moderator's and the sender's
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// Chat flows as in a busy meeting (twenty messages a second of 1 KB,
	// far too little to fill megabytes of kernel buffers within a minute)
	// until the stalled client is gone.
	body := strings.Repeat("Dużo tekstu o sieci szkół. ", 38)
	pace := time.NewTicker(50 * time.Millisecond)
	defer pace.Stop()
	for sent := 0; ; sent++ {
		select {
		case <-gone:
			t.Logf("stalled client dropped after %s and %d messages", time.Since(start).Round(time.Millisecond), sent)
			if slowConns(t, env) != 2 {
				t.Fatalf("stalled client still connected after %s (the read deadline is %s)", limit, readDeadline)
			}
			// Reading now, it finds what was in flight, then the end.
			_ = stalled.SetReadDeadline(time.Now().Add(revWait))
			for err == nil {
				_, _, err = stalled.ReadMessage()
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || (ce.Code != 4008 && ce.Code != websocket.CloseAbnormalClosure) {
				t.Errorf("stalled client ended with %v, want close 4008 or 1006", err)
			}
			return
		case <-pace.C:
		}
		sender.Send(map[string]any{"type": "chat.send", "meeting_id": r.meetingID, "client_id": uuid.NewString(), "body": body})
		sender.Expect("chat.ack", revWait)
	}
}

// slowConns reads the open websocket connections from /metrics.
func slowConns(t *testing.T, env *testkit.Env) int {
	resp := env.Anonymous().Get("/metrics")
	if resp.Status != http.StatusOK {
		t.Errorf("/metrics = %d", resp.Status)
		return -1
	}
	for _, line := range strings.Split(string(resp.Body), "\n") {
		if v, ok := strings.CutPrefix(line, "forumjst_live_connections "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}
