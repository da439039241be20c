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

	"github.com/gwd-jst/forumjst/internal/testkit"
)

const wait = 10 * time.Second

// The basic exchange of SPEC §5: subscribe, send, ack after commit, the message
// to every subscriber, ping/pong.
func TestChatOverWebsocket(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	a, b := env.Login(r.member).DialWS(), env.Login(r.moderator).DialWS()
	for _, ws := range []*testkit.WS{a, b} {
		ws.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0})
		if f := ws.Expect("subscribed", wait); f.Int("seq") != 0 || f.Str("topic") != r.topic() {
			t.Fatalf("subscribed = %s", f.Raw)
		}
	}
	cid := uuid.NewString()
	a.Send(map[string]any{"type": "chat.send", "meeting_id": r.meetingID, "client_id": cid, "body": "Dzień dobry, **wszystkim**!"})
	ack := a.Expect("chat.ack", wait)
	if ack.Str("client_id") != cid || ack.Int("seq") != 1 || ack.Int("id") == 0 {
		t.Fatalf("ack = %s", ack.Raw)
	}
	for _, ws := range []*testkit.WS{a, b} {
		m := ws.Expect("chat.message", wait).Message()
		if m.Seq != 1 || m.ID != ack.Int("id") || m.ClientID != cid || m.BodyHTML != "<p>Dzień dobry, <strong>wszystkim</strong>!</p>\n" || m.Author.ID != r.member.ID {
			t.Errorf("message = %+v", m)
		}
	}
	a.Send(map[string]any{"type": "ping"})
	a.Expect("pong", wait)
}

func subscribe(t *testing.T, ws *testkit.WS, topic string, since int64) testkit.Frame {
	t.Helper()
	ws.Send(map[string]any{"type": "subscribe", "topic": topic, "since_seq": since})
	f := ws.Expect("subscribed", wait)
	if f.Str("topic") != topic {
		t.Fatalf("subscribed to %s, want %s", f.Raw, topic)
	}
	return f
}

func chatSend(ws *testkit.WS, meetingID int64, clientID, body string) {
	ws.Send(map[string]any{"type": "chat.send", "meeting_id": meetingID, "client_id": clientID, "body": body})
}

// Every failure of SPEC §5 answers with its error code and leaves the
// connection open; a resend of a client_id answers with the stored message.
func TestChatErrorsKeepTheConnection(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	member := env.Login(r.member).DialWS()
	observer := env.Login(r.observer).DialWS()
	outsider := env.Login(r.outsider).DialWS()
	scheduled := createMeeting(t, env.Login(r.moderator), r.group.ID, false)

	expectError := func(ws *testkit.WS, code, ref string) {
		t.Helper()
		f := ws.Expect("error", wait)
		if f.Str("code") != code || f.Str("ref") != ref {
			t.Errorf("error frame = %s, want code %s ref %s", f.Raw, code, ref)
		}
	}
	outsider.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0})
	expectError(outsider, "not_found", r.topic())
	outsider.Send(map[string]any{"type": "subscribe", "topic": "meeting:999999999", "since_seq": 0})
	expectError(outsider, "not_found", "meeting:999999999")
	outsider.Send(map[string]any{"type": "subscribe", "topic": "user:1"})
	expectError(outsider, "bad_request", "user:1")

	cid := uuid.NewString()
	chatSend(outsider, r.meetingID, cid, "hej")
	expectError(outsider, "not_found", cid)
	chatSend(observer, r.meetingID, cid, "hej")
	expectError(observer, "forbidden", cid)
	chatSend(member, scheduled, cid, "hej")
	expectError(member, "meeting_not_live", cid)
	chatSend(member, r.meetingID, cid, strings.Repeat("ż", 4001))
	expectError(member, "too_long", cid)
	chatSend(member, r.meetingID, cid, "   ")
	expectError(member, "too_long", cid)
	chatSend(member, r.meetingID, "not-a-uuid", "hej")
	expectError(member, "bad_request", "not-a-uuid")
	member.Send(map[string]any{"type": "dance"})
	expectError(member, "bad_request", "dance")
	if err := member.Conn.WriteMessage(1, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	expectError(member, "bad_request", "")

	// The same client_id twice: one stored message, the same ack.
	chatSend(member, r.meetingID, cid, "pierwsza")
	first := member.Expect("chat.ack", wait)
	chatSend(member, r.meetingID, cid, "pierwsza (ponownie)")
	again := member.Expect("chat.ack", wait)
	if first.Int("id") != again.Int("id") || first.Int("seq") != again.Int("seq") {
		t.Errorf("resend acked %s, first %s", again.Raw, first.Raw)
	}
	var rows int
	if err := env.DB.Get(&rows, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, r.meetingID); err != nil || rows != 1 {
		t.Errorf("stored %d messages (err %v), want 1", rows, err)
	}

	// The rate limit (10 per 10 s per account) answers rate_limited with a
	// retry hint, and the connection stays usable.
	limited := false
	for i := 0; i < 12 && !limited; i++ {
		id := uuid.NewString()
		chatSend(member, r.meetingID, id, fmt.Sprintf("wiadomość %d", i))
		// Only the answer to this send counts: the member's own notifications
		// (the meeting scheduled above) arrive unasked, at any moment.
		f := member.Next(wait)
		for f.Type != "chat.ack" && f.Type != "error" {
			f = member.Next(wait)
		}
		if f.Type == "chat.ack" && f.Str("client_id") != id {
			t.Fatalf("ack for %s answered the send of %s", f.Raw, id)
		}
		if f.Type == "error" {
			if f.Str("code") != "rate_limited" || f.Str("ref") != id || f.Int("retry_after") < 1 {
				t.Fatalf("over the limit: %s", f.Raw)
			}
			limited = true
		}
	}
	if !limited {
		t.Fatal("12 messages in a row were never rate limited")
	}
	member.Send(map[string]any{"type": "ping"})
	member.Expect("pong", wait)
}

// The handshake refuses other origins, visitors without a session and plain
// requests, before any upgrade.
func TestHandshakeChecks(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	member := env.Login(r.member)
	if _, resp, err := member.TryDialWS("https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: err %v resp %v, want 403", err, resp)
	}
	if _, resp, err := member.TryDialWS(""); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("no origin: err %v, want 403", err)
	}
	if _, resp, err := env.Anonymous().TryDialWS(env.URL); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: err %v, want 401", err)
	}
	if resp := member.Get("/ws"); resp.Status != http.StatusUpgradeRequired {
		t.Errorf("plain GET /ws = %d, want 426", resp.Status)
	}
	// A frame over 16 KiB ends the connection with 1009.
	ws := member.DialWS()
	if err := ws.Conn.WriteMessage(1, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 17<<10)+`"}`)); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if err := ws.Closed(wait); !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("oversized frame closed with %v, want 1009", err)
	}
}

// A message sent on this instance reaches this instance's subscribers without
// a read back from the database (the send hands the committed message to the
// hub): under a fan-out every round trip waits behind the writers. Sequential
// sends never leave a gap, so none of them needs the log read.
func TestLocalMessagesAreDeliveredWithoutReadingBack(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	a, b := env.Login(r.member).DialWS(), env.Login(r.moderator).DialWS()
	subscribe(t, a, r.topic(), 0)
	subscribe(t, b, r.topic(), 0)
	before := gauge(t, env, "forumjst_live_log_reads_total")
	const n = 10 // the chat's rate limit for members
	for i := 1; i <= n; i++ {
		chatSend(a, r.meetingID, uuid.NewString(), fmt.Sprintf("Wiadomość %d", i))
		// The sender hears its ack before its own copy of the message.
		f := a.Next(wait)
		for f.Type == "presence" { // b's arrival may still be announced
			f = a.Next(wait)
		}
		if f.Type != "chat.ack" || f.Int("seq") != int64(i) {
			t.Fatalf("sender's next frame = %s, want chat.ack seq %d", f.Raw, i)
		}
		if m := a.Expect("chat.message", wait).Message(); m.Seq != int64(i) {
			t.Fatalf("sender got seq %d, want %d", m.Seq, i)
		}
		if m := b.Expect("chat.message", wait).Message(); m.Seq != int64(i) {
			t.Fatalf("subscriber got seq %d, want %d", m.Seq, i)
		}
	}
	// A stray read (a listener reconnect re-reads every topic) is allowed;
	// one per message is what reading back would cost.
	if reads := gauge(t, env, "forumjst_live_log_reads_total") - before; reads > 2 {
		t.Errorf("%v log reads for %d messages sent on this instance, want none", reads, n)
	}
}

// The server answers a websocket ping with a pong carrying its payload, and
// a client's close frame with a close frame of the same code. Both go
// through the connection's writer, not the library's writes from the reader
// (which could land inside a frame the fan-out left half written): a pong
// and a close reply are framed like the rest.
func TestPingAndCloseAreAnsweredThroughTheWriter(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	conn := rawDial(t, env.Login(r.member), env.URL)
	pongs := make(chan string, 4)
	conn.SetPongHandler(func(p string) error { pongs <- p; return nil })
	if err := conn.WriteControl(websocket.PingMessage, []byte("czy-jesteś"), time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	// The pong is processed while the client reads a data frame, so ask
	// for text pongs until it has come: the writer may put the text pong
	// answering the frame right after the ping before the pong, never the
	// one answering a frame sent after that text pong arrived.
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	for i := 0; i < 2 && len(pongs) == 0; i++ {
		if err := conn.WriteJSON(map[string]any{"type": "ping"}); err != nil {
			t.Fatal(err)
		}
		if _, data, err := conn.ReadMessage(); err != nil || !strings.Contains(string(data), `"pong"`) {
			t.Fatalf("answer to a ping frame: %s, %v", data, err)
		}
	}
	if len(pongs) == 0 {
		t.Fatal("no pong to the websocket ping")
	}
	if p := <-pongs; p != "czy-jesteś" {
		t.Errorf("pong payload %q, want the ping's", p)
	}

	if err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "do widzenia"), time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if _, _, err := conn.ReadMessage(); !errors.As(err, &ce) || ce.Code != 4000 {
		t.Errorf("after the client's close: %v, want the close code 4000 echoed", err)
	}
}
