package live_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A burst of sends on one connection (stored in batches, issue 16) is
// answered exactly as one send at a time would be: in the order sent, a
// repeated client_id acked with the stored message, the rate limit counting
// the burst's earlier messages, and every subscriber gets the messages in the
// order they were written, once.
func TestBurstOfSendsKeepsOrderAndChecks(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	sender, reader := env.Login(r.member).DialWS(), env.Login(r.moderator).DialWS()
	subscribe(t, sender, r.topic(), 0)
	subscribe(t, reader, r.topic(), 0)

	ids := make([]string, 11)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	type want struct{ ref, typ, code string }
	var wants []want
	send := func(cid, body, typ, code string) {
		chatSend(sender, r.meetingID, cid, body)
		wants = append(wants, want{cid, typ, code})
	}
	for i := range 8 {
		send(ids[i], fmt.Sprintf("wiadomość %d", i), "chat.ack", "")
	}
	send(ids[2], "wiadomość 2 (ponownie)", "chat.ack", "")
	send(ids[8], "   ", "error", "too_long")
	send(ids[8], "wiadomość 8", "chat.ack", "")
	send(ids[9], "wiadomość 9", "chat.ack", "")
	send(ids[10], "wiadomość 10", "error", "rate_limited") // the 11th in 10 s

	seqOf := map[string]int64{}
	for _, w := range wants {
		f := sender.Next(wait)
		for f.Type != "chat.ack" && f.Type != "error" {
			f = sender.Next(wait)
		}
		ref := f.Str("client_id")
		if f.Type == "error" {
			ref = f.Str("ref")
		}
		if f.Type != w.typ || ref != w.ref || f.Str("code") != w.code {
			t.Fatalf("answer %s, want %s %s for %s", f.Raw, w.typ, w.code, w.ref)
		}
		if f.Type == "chat.ack" {
			if s, seen := seqOf[ref]; seen && s != f.Int("seq") {
				t.Errorf("resend of %s acked seq %d, first %d", ref, f.Int("seq"), s)
			}
			seqOf[ref] = f.Int("seq")
		}
	}
	for i := range 10 {
		if seqOf[ids[i]] != int64(i+1) {
			t.Errorf("message %d acked with seq %d, want %d", i, seqOf[ids[i]], i+1)
		}
	}
	for seq := int64(1); seq <= 10; seq++ {
		m := reader.Expect("chat.message", wait).Message()
		if m.Seq != seq || m.ClientID != ids[seq-1] || m.Body != fmt.Sprintf("wiadomość %d", seq-1) {
			t.Fatalf("delivered %+v, want seq %d of %s", m, seq, ids[seq-1])
		}
	}
	var stored int
	if err := env.DB.Get(&stored, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, r.meetingID); err != nil || stored != 10 {
		t.Errorf("stored %d messages (err %v), want 10", stored, err)
	}
}

// The batch statement stores all of a batch or, when one client id is
// already stored, none of it, leaving the meeting's seq where it was.
func TestAppendChatMessagesAllOrNothing(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	ctx := context.Background()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	msg := func(cid, body string) store.NewChatMessage {
		return store.NewChatMessage{MeetingID: r.meetingID, AuthorID: r.member.ID, ClientID: cid, Body: body, BodyHTML: "<p>" + body + "</p>"}
	}
	got, err := store.AppendChatMessages(ctx, env.DB, r.meetingID, []store.NewChatMessage{msg(a, "a"), msg(b, "b")})
	if err != nil || len(got) != 2 || got[0].Seq != 1 || got[0].ClientID != a || got[1].Seq != 2 || got[1].Body != "b" {
		t.Fatalf("append = %+v, %v", got, err)
	}
	if _, err := store.AppendChatMessages(ctx, env.DB, r.meetingID, []store.NewChatMessage{msg(c, "c"), msg(b, "b again")}); !store.IsUniqueViolation(err, store.ChatClientIDKey) {
		t.Fatalf("a stored client id in the batch: %v, want the unique violation", err)
	}
	var last int64
	if err := env.DB.Get(&last, `SELECT last_seq FROM meetings WHERE id = $1`, r.meetingID); err != nil || last != 2 {
		t.Errorf("last_seq = %d (err %v), want 2", last, err)
	}
}
