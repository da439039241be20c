package live_test

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// BenchmarkCrossInstanceStages follows each chat message on its way from
// instance A (where it is sent) to instance B, stage by stage (see the
// stage constants in hub.go), with subs subscribers on each instance besides
// the two measuring ones, at 100 msg/s. It reports the median and p99 time
// from A's announcement (right after the commit) to each stage, and to the
// measuring clients' receipt on A and on B: where the cross-instance delay
// of `make bench-scale` goes.
//
//	go test -run '^$' -bench CrossInstanceStages -benchtime 1000x ./internal/live/
func BenchmarkCrossInstanceStages(b *testing.B) {
	for _, subs := range []int{0, 300} {
		b.Run(fmt.Sprintf("subs_%d", subs), func(b *testing.B) { crossStages(b, subs, 10*time.Millisecond) })
	}
}

// stageClock records when each seq passed each stage, per instance.
type stageClock struct {
	mu   sync.Mutex
	at   map[string]map[int64]time.Time // "A.stage" → seq → first time
	read map[string]int64               // instance → the read in flight's "after"
	from map[string]time.Time           // instance → when that read started
}

func (s *stageClock) mark(key string, seq int64, t time.Time) {
	m := s.at[key]
	if m == nil {
		m = map[int64]time.Time{}
		s.at[key] = m
	}
	if _, ok := m[seq]; !ok {
		m[seq] = t
	}
}

// hook is the hub trace of one instance. A read covers every seq after its
// "after" up to the newest it returned; those seqs get the read's times.
func (s *stageClock) hook(inst string) func(stage, topic string, seq int64) {
	return func(stage, _ string, seq int64) {
		now := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		switch stage {
		case "read":
			s.read[inst], s.from[inst] = seq, now
		case "read_done", "delivered":
			for q := s.read[inst] + 1; q <= seq; q++ {
				s.mark(inst+".read", q, s.from[inst])
				s.mark(inst+"."+stage, q, now)
			}
		default:
			s.mark(inst+"."+stage, seq, now)
		}
	}
}

func crossStages(b *testing.B, subs int, gap time.Duration) {
	a, bb := testkit.Start(b, dbURL), testkit.Start(b, dbURL)
	r := newRoom(&testing.T{}, a)
	if r.meetingID == 0 {
		b.Fatal("no meeting")
	}
	clock := &stageClock{at: map[string]map[int64]time.Time{}, read: map[string]int64{}, from: map[string]time.Time{}}
	live.Trace(a.App.Live, clock.hook("A"))
	live.Trace(bb.App.Live, clock.hook("B"))
	sender := a.Login(a.NewUser(model.RoleStaff)).DialWS()
	onA, onB := a.Login(r.member).DialWS(), bb.Login(r.moderator).DialWS()
	for _, w := range []*testkit.WS{onA, onB} {
		w.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0})
		w.Expect("subscribed", wait)
	}
	// The crowd: subscribers whose frames are read and thrown away.
	for _, env := range []*testkit.Env{a, bb} {
		c := env.Login(r.observer)
		for range subs {
			conn, _, err := c.DialRawWS(c.Base, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { conn.Close() })
			if err := conn.WriteJSON(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0}); err != nil {
				b.Fatal(err)
			}
			go func() {
				for {
					_, rd, err := conn.NextReader()
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, rd)
				}
			}()
		}
	}
	time.Sleep(time.Second) // the crowd's subscriptions settle
	got := func(w *testkit.WS, key string, done chan<- struct{}) {
		defer close(done)
		for n := 0; n < b.N; {
			f, ok := <-w.Frames()
			if !ok {
				return
			}
			if f.Type != "chat.message" {
				continue
			}
			now := time.Now()
			clock.mu.Lock()
			clock.mark(key, f.Message().Seq, now)
			clock.mu.Unlock()
			n++
		}
	}
	doneA, doneB := make(chan struct{}), make(chan struct{})
	b.ResetTimer()
	go got(onA, "A.client", doneA)
	go got(onB, "B.client", doneB)
	start := time.Now()
	for k := 1; k <= b.N; k++ {
		sender.Send(map[string]any{"type": "chat.send", "meeting_id": r.meetingID, "client_id": uuid.NewString(), "body": fmt.Sprintf("m%d", k)})
		time.Sleep(time.Until(start.Add(time.Duration(k) * gap)))
	}
	<-doneA
	<-doneB
	b.StopTimer()
	live.Trace(a.App.Live, nil)
	live.Trace(bb.App.Live, nil)
	clock.mu.Lock()
	defer clock.mu.Unlock()
	t0 := clock.at["A.announce"]
	for _, key := range []string{"A.local", "A.notify", "A.notified", "A.client", "B.heard", "B.read", "B.read_done", "B.delivered", "B.client"} {
		var d []time.Duration
		for seq, at := range clock.at[key] {
			if s, ok := t0[seq]; ok {
				d = append(d, at.Sub(s))
			}
		}
		if len(d) == 0 {
			continue
		}
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, key+"_p50_ms")
		b.ReportMetric(float64(d[(len(d)-1)*99/100].Microseconds())/1000, key+"_p99_ms")
	}
}
