package benchlive

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// TestShortScenarioBothServers runs a small fan-out (20 subscribers, 20 msg/s
// for 1 s) through the same code as `forumjst-bench live`, against the real
// forum (in process, on a real database) and the baseline: every acked
// message must reach every subscriber once, in seq order, and the report must
// carry every column.
func TestShortScenarioBothServers(t *testing.T) {
	env := testkit.Start(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	fx, err := seedFixtures(ctx, env.DB, 3)
	if err != nil {
		t.Fatal(err)
	}
	forum := newAPI(env.URL)
	if err := forum.loginAll(ctx, fx); err != nil {
		t.Fatal(err)
	}
	meetingID, err := forum.liveMeeting(ctx, fx, "Test obciążeniowy")
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bctx, stopBaseline := context.WithCancel(ctx)
	baselineDone := make(chan error, 1)
	go func() {
		baselineDone <- serveBaseline(bctx, ln, meetings.Author{ID: fx.Sender.ID, Name: fx.Sender.Name})
	}()
	defer func() {
		stopBaseline()
		if err := <-baselineDone; err != nil {
			t.Errorf("baseline server: %v", err)
		}
	}()

	var cookies []string
	for _, r := range fx.Receivers {
		cookies = append(cookies, r.Cookie)
	}
	targets := []Target{
		{Name: "baseline", Base: "http://" + ln.Addr().String(), MeetingID: 1},
		{Name: "forumjst", Base: env.URL, MeetingID: meetingID, Receivers: cookies, Sender: fx.Sender.Cookie},
	}
	sc := Scenario{Name: "test", N: 20, Rate: 20}
	set := loadSettings{Duration: time.Second, Drain: 5 * time.Second, Settle: 100 * time.Millisecond, Dialers: 8}
	var rs []*Result
	for _, tgt := range targets {
		res, err := runScenario(ctx, tgt, sc, set, hooks{})
		if err != nil {
			t.Fatalf("%s: %v", tgt.Name, err)
		}
		rs = append(rs, res)
		if res.Connected != 20 || res.ConnectErrors != 0 {
			t.Errorf("%s: %d connected, %d errors (%s)", tgt.Name, res.Connected, res.ConnectErrors, res.FirstConnectError)
		}
		if res.Sent != 20 || res.Acked != 20 || len(res.SendErrors) > 0 {
			t.Errorf("%s: sent %d, acked %d, errors %v", tgt.Name, res.Sent, res.Acked, res.SendErrors)
		}
		if res.Expected != 400 || res.Received != 400 || res.Lost != 0 {
			t.Errorf("%s: expected %d, received %d, lost %d", tgt.Name, res.Expected, res.Received, res.Lost)
		}
		if res.Duplicates != 0 || res.OutOfOrder != 0 || res.Dropped != 0 || res.BadFrames != 0 {
			t.Errorf("%s: duplicates %d, out of order %d, dropped %d, bad frames %d",
				tgt.Name, res.Duplicates, res.OutOfOrder, res.Dropped, res.BadFrames)
		}
		if res.P50 <= 0 || res.P99 < res.P50 || res.DeliveriesPerSec <= 0 || res.ConnectTotal <= 0 || res.FrameBytes <= 0 {
			t.Errorf("%s: implausible figures: p50 %s p99 %s deliveries/s %.0f connect %s frame %.0f",
				tgt.Name, res.P50, res.P99, res.DeliveriesPerSec, res.ConnectTotal, res.FrameBytes)
		}
	}
	// Same frames: the baseline's chat.message has the forum's shape and size
	// (a few bytes may differ: ids, the timestamp's zone).
	if d := rs[0].FrameBytes - rs[1].FrameBytes; d > 16 || d < -16 {
		t.Errorf("frame sizes differ: baseline %.0f B, forumjst %.0f B", rs[0].FrameBytes, rs[1].FrameBytes)
	}

	var out bytes.Buffer
	writeScenario(&out, sc, set.Duration, rs)
	report := out.String()
	for _, want := range []string{"server", "connect total", "connect p99", "deliveries/s", "loss", "p50", "p99",
		"RSS/conn", "baseline", "forumjst", "forumjst / baseline:", "deliveries/s ", "ack p50"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}

func TestParseScenarios(t *testing.T) {
	got, err := parseScenarios("fanout1k, idle10k,20@5,fanout1k/10, 30@300/4")
	if err != nil {
		t.Fatal(err)
	}
	want := []Scenario{{"fanout1k", 1000, 100, 0, 0}, {"idle10k", 10000, 0, 0, 0}, {"20@5", 20, 5, 0, 0},
		{"fanout1k/10", 1000, 100, 0, 10}, {"30@300/4", 30, 300, 0, 4}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("scenario %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "fanout2k", "0@1", "30000@1", "5@x", "fanout1k/0", "fanout1k/65", "fanout1k/x", "/3", "scale3/2", "fanout1k/2/2"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("parseScenarios(%q) accepted", bad)
		}
	}
}

func TestParseChat(t *testing.T) {
	fast := []byte(`{"type":"chat.message","topic":"meeting:7","message":{"id":99,"seq":12,"meeting_id":7,` +
		`"author":{"id":1,"name":"N","jst":null},"body":"t=1700000000123456789 #11","body_html":"\u003cp\u003et\u003c/p\u003e","client_id":"x"}}`)
	seq, ts, from, ok := parseChat(fast)
	if !ok || seq != 12 || ts != 1700000000123456789 || from != -1 {
		t.Errorf("fast path: %d %d %d %v", seq, ts, from, ok)
	}
	// With several instances the body names the one it was sent on.
	multi := []byte(`{"type":"chat.message","topic":"meeting:7","message":{"id":99,"seq":13,"meeting_id":7,` +
		`"author":{"id":1,"name":"N","jst":null},"body":"` + stamp(1700000000123456789, 2) + ` #12","body_html":"x","client_id":"x"}}`)
	seq, ts, from, ok = parseChat(multi)
	if !ok || seq != 13 || ts != 1700000000123456789 || from != 2 {
		t.Errorf("instance suffix: %d %d %d %v", seq, ts, from, ok)
	}
	// Another field order still parses, through the full decode.
	slow := []byte(`{"message":{"body":"t=42/1 #0","seq":3},"type":"chat.message"}`)
	seq, ts, from, ok = parseChat(slow)
	if !ok || seq != 3 || ts != 42 || from != 1 {
		t.Errorf("fallback: %d %d %d %v", seq, ts, from, ok)
	}
	if _, _, _, ok := parseChat([]byte(`{"message":{"body":"hello","seq":3}}`)); ok {
		t.Error("a body without a stamp parsed")
	}
	if string(frameType(fast)) != "chat.message" {
		t.Errorf("frameType = %q", frameType(fast))
	}
}
