package meetings_test

import (
	"context"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/meetings"
)

// A connection's sender (SendBatchThen) goes on once its run is committed and
// answered, while the run's fan-out is still under way, and waits for the
// announcements only when it asks (issue 16: one sender connection waited
// for every subscriber to be offered its previous run). SendBatch and Send
// still return only once their messages are announced.
func TestSendBatchThenLeavesTheAnnouncementToTheCaller(t *testing.T) {
	r := newChatRoom(t)
	r.rec.hold = make(chan struct{})
	ctx := context.Background()
	cid := ids(3)

	var ann meetings.Announcements
	var acked []int64
	r.svc.SendBatchThen(ctx, r.staff, r.meetingID, []meetings.Outgoing{{ClientID: cid[0], Body: "pierwsza"}, {ClientID: cid[1], Body: "druga"}},
		func(i int, m meetings.Message, err error) {
			if err != nil {
				t.Errorf("message %d: %v", i, err)
			}
			acked = append(acked, m.Seq)
		}, &ann)
	if len(acked) != 2 || acked[0] != 1 || acked[1] != 2 {
		t.Fatalf("acks %v, want seqs [1 2] before the announcement", acked)
	}
	if ann.None() {
		t.Fatal("nothing to wait for while the announcement is held")
	}

	// SendBatch (the API's way) waits for the announcement.
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		r.svc.SendBatch(ctx, r.staff, r.meetingID, []meetings.Outgoing{{ClientID: cid[2], Body: "trzecia"}}, func(int, meetings.Message, error) {})
	}()
	waited := make(chan struct{})
	go func() { defer close(waited); ann.Wait() }()
	select {
	case <-returned:
		t.Fatal("SendBatch returned before its message was announced")
	case <-waited:
		t.Fatal("Announcements.Wait returned before the announcement")
	case <-time.After(200 * time.Millisecond):
	}

	close(r.rec.hold)
	<-waited
	<-returned
	if !ann.None() {
		t.Error("announcements left after Wait")
	}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	var seqs []int64
	for _, m := range r.rec.msgs {
		seqs = append(seqs, m.Seq)
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 3 {
		t.Errorf("announced seqs %v, want [1 2 3]", seqs)
	}
}
