package live_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// BenchmarkCrossInstance measures what SPEC §8's cross-instance row asks: the
// delay a second instance adds (a subscriber on B versus one on A, where the
// message was sent), at a steady 200 msg/s, and the most messages per second
// that reach B when 8 senders send as fast as the server takes them. Senders
// pipeline: they do not wait for an ack before sending the next message.
//
//	go test -run '^$' -bench CrossInstance -benchtime 4000x ./internal/live/
func BenchmarkCrossInstance(b *testing.B) {
	b.Run("paced_200_per_s", func(b *testing.B) { crossInstance(b, 4, 5*time.Millisecond) })
	b.Run("max", func(b *testing.B) { crossInstance(b, 8, 0) })
}

func crossInstance(b *testing.B, senders int, gap time.Duration) {
	a, bb := testkit.Start(b, dbURL), testkit.Start(b, dbURL)
	r := newRoom(&testing.T{}, a) // fixtures only; failures surface below
	if r.meetingID == 0 {
		b.Fatal("no meeting")
	}
	ws := make([]*testkit.WS, senders)
	for i := range ws {
		ws[i] = a.Login(a.NewUser(model.RoleStaff)).DialWS()
	}
	onA, onB := a.Login(r.member).DialWS(), bb.Login(r.moderator).DialWS()
	for _, w := range []*testkit.WS{onA, onB} {
		w.Send(map[string]any{"type": "subscribe", "topic": r.topic(), "since_seq": 0})
		w.Expect("subscribed", wait)
	}
	sentAt := make([]time.Time, b.N+1) // by seq is unknown at send time; index by body number
	arrivals := func(w *testkit.WS, out []time.Duration, done chan<- []time.Duration) {
		for n := 0; n < b.N; {
			f, ok := <-w.Frames()
			if !ok {
				break
			}
			if f.Type != "chat.message" {
				continue
			}
			var k int
			fmt.Sscanf(f.Message().Body, "m%d", &k)
			out = append(out, time.Since(sentAt[k]))
			n++
		}
		done <- out
	}
	doneA, doneB := make(chan []time.Duration, 1), make(chan []time.Duration, 1)
	b.ResetTimer()
	start := time.Now()
	go arrivals(onA, make([]time.Duration, 0, b.N), doneA)
	go arrivals(onB, make([]time.Duration, 0, b.N), doneB)
	for k := 1; k <= b.N; k++ {
		sentAt[k] = time.Now()
		ws[k%senders].Send(map[string]any{"type": "chat.send", "meeting_id": r.meetingID, "client_id": uuid.NewString(), "body": fmt.Sprintf("m%d", k)})
		if gap > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(k) * gap)))
		}
	}
	la, lb := <-doneA, <-doneB
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(la)
	slices.Sort(lb)
	pct := func(d []time.Duration, p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lb))/elapsed.Seconds(), "msgs/s_on_B")
	b.ReportMetric(pct(la, .5), "p50_ms_on_A")
	b.ReportMetric(pct(lb, .5), "p50_ms_on_B")
	b.ReportMetric(pct(la, .99), "p99_ms_on_A")
	b.ReportMetric(pct(lb, .99), "p99_ms_on_B")
	if len(lb) != b.N || len(la) != b.N {
		b.Errorf("delivered %d on A, %d on B, want %d", len(la), len(lb), b.N)
	}
}
