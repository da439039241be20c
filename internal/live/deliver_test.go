package live

import (
	"fmt"
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// quietConn is a subscriber whose writer role is taken, so what the topic
// offers it stays in its queue for the test to read.
func quietConn(t *testing.T, h *Hub, limit int) *Conn {
	t.Helper()
	server, client := net.Pipe()
	t.Cleanup(func() { server.Close(); client.Close() })
	c := &Conn{h: h, raw: server, out: newQueue(limit), done: make(chan struct{}), written: make(chan struct{})}
	c.out.claim()
	return c
}

func queued(c *Conn) []string {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	var out []string
	for _, f := range c.out.frames {
		out = append(out, string(f))
	}
	return out
}

func entries(seqs ...int64) []logFrame {
	out := make([]logFrame, len(seqs))
	for i, s := range seqs {
		out[i] = logFrame{seq: s, frame: []byte(fmt.Sprint(s))}
	}
	return out
}

// A statement's messages committed here reach each subscriber together and
// in seq order, each only the entries after its cursor; entries already
// delivered are skipped, and a gap delivers what follows on and reports the
// rest for the database to fill. A subscriber without room for a whole
// page of them (a quarter of the queue) is closed as too slow (4008) and
// gets none of that page.
func TestDeliverCommittedBatch(t *testing.T) {
	h := New(Deps{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Settings: Settings{QueueFrames: 8}})
	defer h.cancel()
	tp := newTopic(h, "meeting:1", "meeting", 1, meetingFeed{h: h})
	close(tp.ready)
	tp.seq = 5
	a, b, slow := quietConn(t, h, 8), quietConn(t, h, 8), quietConn(t, h, 1) // pages of 2 (QueueFrames/4)
	tp.subs[a] = &subscription{cursor: 5}
	tp.subs[b] = &subscription{cursor: 6} // replayed 6 already
	tp.subs[slow] = &subscription{cursor: 5}

	if !tp.deliverCommitted(entries(6, 7, 8)) {
		t.Fatal("consecutive entries reported a gap")
	}
	if got := fmt.Sprint(queued(a)); got != "[6 7 8]" {
		t.Errorf("a got %s, want [6 7 8]", got)
	}
	if got := fmt.Sprint(queued(b)); got != "[7 8]" {
		t.Errorf("b got %s, want [7 8]", got)
	}
	if got := queued(slow); len(got) != 0 {
		t.Errorf("the subscriber without room got %v", got)
	}
	if _, still := tp.subs[slow]; still || slow.closeCode != closeTooSlow {
		t.Errorf("the subscriber without room: still subscribed %v, close code %d", still, slow.closeCode)
	}

	if tp.deliverCommitted(entries(8, 9, 11)) {
		t.Error("a gap (10 missing) was not reported")
	}
	if tp.seq != 9 {
		t.Errorf("topic at seq %d, want 9", tp.seq)
	}
	if got := fmt.Sprint(queued(a)); got != "[6 7 8 9]" {
		t.Errorf("a got %s, want [6 7 8 9]", got)
	}
	if got := fmt.Sprint(tp.ring); len(tp.ring) != 4 {
		t.Errorf("ring %s, want 4 entries", got)
	}
}
