package benchlive

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

// TestSplitLatencies: deliveries on the sending instance and on the others
// get their own percentiles, and the cross-instance delay is the difference
// of the two, percentile by percentile (not of the pooled latencies).
func TestSplitLatencies(t *testing.T) {
	// 100 same-instance latencies 1…100 µs (shuffled), 100 cross-instance
	// ones 1,001…1,100 µs: p50 50 vs 1,050, p99 99 vs 1,099.
	var same, cross []uint32
	for i := range 100 {
		same = append(same, uint32((i*37)%100+1))
		cross = append(cross, uint32(1100-i))
	}
	s := splitLatencies(same, cross)
	want := LatencySplit{Same: 100, Cross: 100,
		SameP50: 50 * time.Microsecond, SameP99: 99 * time.Microsecond,
		CrossP50: 1050 * time.Microsecond, CrossP99: 1099 * time.Microsecond,
		DelayP50: 1000 * time.Microsecond, DelayP99: 1000 * time.Microsecond}
	if s != want {
		t.Errorf("split = %+v\nwant    %+v", s, want)
	}

	// A faster other instance is a negative delay, not a zero one.
	s = splitLatencies([]uint32{3000, 3000}, []uint32{1000, 1000})
	if s.DelayP50 != -2*time.Millisecond || s.DelayP99 != -2*time.Millisecond {
		t.Errorf("negative delay: %+v", s)
	}
	// Without one of the groups there is no delay to compute.
	s = splitLatencies(nil, []uint32{5})
	if s.DelayP50 != 0 || !s.CrossOnly || s.CrossP50 != 5*time.Microsecond {
		t.Errorf("cross only: %+v", s)
	}
	s = splitLatencies([]uint32{5}, nil)
	if s.DelayP50 != 0 || s.CrossOnly || s.SameP99 != 5*time.Microsecond {
		t.Errorf("same only: %+v", s)
	}
}

func TestParseScale(t *testing.T) {
	got, err := parseScenarios("scale3,scale2@500, fanout1k,scale4:30@2000")
	if err != nil {
		t.Fatal(err)
	}
	want := []Scenario{{"scale3", 1000, 100, 3, 0}, {"scale2@500", 1000, 500, 2, 0}, {"fanout1k", 1000, 100, 0, 0}, {"scale4:30@2000", 30, 2000, 4, 0}}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	for _, bad := range []string{"scale1", "scale9", "scalex", "scale3@0", "scale3@x", "scale3@6000", "scale3:2@10", "scale3:x", "scale3:30000"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("parseScenarios(%q) accepted", bad)
		}
	}
	o := options{url: "http://127.0.0.1:1", scenarios: want[:1], timeout: time.Minute,
		set: loadSettings{Duration: time.Second, Dialers: 1, Senders: 1}, accounts: 1}
	if err := o.validate(); err == nil {
		t.Error("a scale scenario was accepted with --url")
	}
}

// TestReceiversAndSendersSpread: subscriber i and sender connection j go to
// instance i mod K, every instance gets a sender, and the report's counts per
// instance match that.
func TestReceiversAndSendersSpread(t *testing.T) {
	run := &loadRun{inst: []Instance{{Base: "http://a"}, {Base: "http://b"}, {Base: "http://c"}}, set: loadSettings{Senders: 1}}
	if n := run.senders(); n != 3 {
		t.Errorf("senders = %d, want one per instance", n)
	}
	run.set.Senders = 10
	if n := run.senders(); n != 10 {
		t.Errorf("senders = %d, want --senders", n)
	}
	if u := run.wsURL(4); u != "ws://b/ws" {
		t.Errorf("wsURL(4) = %q", u)
	}
	if o := run.header(5, "").Get("Origin"); o != "http://c" {
		t.Errorf("Origin of 5 = %q", o)
	}
	if got := []int{share(1000, 3, 0), share(1000, 3, 1), share(1000, 3, 2), share(10, 3, 3)}; got[0] != 334 || got[1] != 333 || got[2] != 333 || got[3] != 0 {
		t.Errorf("share = %v", got)
	}
	one := &loadRun{inst: Target{Base: "http://x"}.instances(), set: loadSettings{Senders: 1}}
	if one.senders() != 1 || one.wsURL(7) != "ws://x/ws" {
		t.Errorf("one instance: %d senders, %s", one.senders(), one.wsURL(7))
	}
}

// TestPGCPU: ticks of processes seen at both readings count their
// difference, new ones whole, other databases' only in the total.
func TestPGCPU(t *testing.T) {
	p0 := map[int]pgProc{1: {ticks: 100, ours: true}, 2: {ticks: 50, ours: false}, 3: {ticks: 10, ours: true}}
	p1 := map[int]pgProc{1: {ticks: 300, ours: true}, 2: {ticks: 150, ours: false}, 4: {ticks: 100, ours: true}}
	ours, all := pgCPU(p0, p1, 2*time.Second)
	// ours: (300−100) + 100 = 300 ticks over 2 s = 1.5 cores; all: + 100 = 2.0.
	if ours != 1.5 || all != 2.0 {
		t.Errorf("pgCPU = %v, %v; want 1.5, 2", ours, all)
	}
}

// TestScaleRows: the cross-instance delay is judged by SPEC §8's row, loss
// by "none", and the rest reported without a target.
func TestScaleRows(t *testing.T) {
	r := &Result{Scenario: "scale3", Server: "forumjst", N: 1000, Rate: 100, DeliveriesPerSec: 99_000, Lost: 0,
		Scale: &ScaleFigures{Instances: 3, PGCPUKnown: true, PGInterval: time.Second, XactPerMessage: 2, StoredRate: 99,
			PGWaits:     []WaitShare{{"Lock:transactionid", 0.5}, {"CPU", 0.3}, {"Lock:tuple", 0.1}, {"IO:WALSync", 0.1}},
			Latency:     splitLatencies([]uint32{1000, 2000}, []uint32{2500, 14000}),
			PerInstance: []InstanceFig{{CPU: 0.5, RSS: 40e6}, {CPU: 0.25, RSS: 50e6}}}}
	got := map[string]string{}
	for _, row := range summaryRows([][]*Result{{r}}) {
		met := "–"
		if row.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*row.Met]
		}
		got[row.Figure] = met
		if row.Met == nil && row.Target != "report" {
			t.Errorf("%s: target %q without a verdict", row.Figure, row.Target)
		}
		switch row.Figure {
		case "scale3 cross-instance p50":
			if row.Value != 2.5 || row.Baseline != 1 {
				t.Errorf("cross p50 row = %+v", row)
			}
		case "scale3 instances' CPU (sum)":
			if row.Value != 0.75 {
				t.Errorf("CPU row = %+v", row)
			}
		case "scale3 PostgreSQL backends waiting on locks":
			if row.Value < 59.99 || row.Value > 60.01 {
				t.Errorf("lock waits row = %+v, want 60%%", row)
			}
		case "scale3 largest instance RSS":
			if row.Value != 50 {
				t.Errorf("RSS row = %+v", row)
			}
		}
	}
	// Delay p50 = 2.5 − 1 = 1.5 ms (met), p99 = 14 − 2 = 12 ms (missed).
	want := map[string]string{"scale3 lost or dropped": "yes", "scale3 cross-instance delay p50": "yes",
		"scale3 cross-instance delay p99": "NO", "scale3 deliveries": "–", "scale3 NOTIFY": "–",
		"scale3 PostgreSQL CPU": "–", "scale3 PostgreSQL xact per message": "–",
		"scale3 PostgreSQL backends waiting on locks": "–", "scale3 messages stored": "–"}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s: %q, want %q (rows %v)", f, got[f], w, got)
		}
	}
}

// TestScaleTwoInstances runs a small scale scenario (2 instances on one
// database, 20 subscribers, 20 msg/s for 1 s) through the same code as
// `forumjst-bench live --scenarios scale2`: nothing is lost, both kinds of
// delivery happen, every message's hint is heard on the channel, and the
// meter reads PostgreSQL and both instances.
func TestScaleTwoInstances(t *testing.T) {
	a, b := testkit.Start(t, dbURL), testkit.Start(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fx, err := seedFixtures(ctx, a.DB, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := newAPI(a.URL).loginAll(ctx, fx); err != nil {
		t.Fatal(err)
	}
	meetingID, err := newAPI(a.URL).liveMeeting(ctx, fx, "Test skali")
	if err != nil {
		t.Fatal(err)
	}
	tgt := Target{Name: "forumjst", MeetingID: meetingID, Sender: fx.Sender.Cookie,
		Instances: []Instance{{Base: a.URL, PID: os.Getpid()}, {Base: b.URL, PID: os.Getpid()}}}
	for _, r := range fx.Receivers {
		tgt.Receivers = append(tgt.Receivers, r.Cookie)
	}
	m, err := newScaleMeter(ctx, dbURL, tgt.Instances, meetingID)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	sc := Scenario{Name: "scale2", N: 20, Rate: 20, Instances: 2}
	set := loadSettings{Duration: time.Second, Drain: 5 * time.Second, Settle: 100 * time.Millisecond, Dialers: 8, Senders: 1}
	res, err := runScenarioMetered(ctx, tgt, sc, set, hooks{}, m)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 20 || res.Sent != 20 || res.Acked != 20 || res.Lost != 0 || res.Dropped != 0 || res.Duplicates != 0 || res.OutOfOrder != 0 {
		t.Errorf("connected %d, sent %d, acked %d, lost %d, dropped %d, duplicates %d, out of order %d",
			res.Connected, res.Sent, res.Acked, res.Lost, res.Dropped, res.Duplicates, res.OutOfOrder)
	}
	s := res.Scale
	if s == nil {
		t.Fatal("no scale figures")
	}
	// Two senders (one per instance), ten subscribers each: every message is
	// delivered 10 times on its own instance and 10 times on the other.
	if s.Latency.Same != 200 || s.Latency.Cross != 200 {
		t.Errorf("deliveries same %d, cross %d; want 200 and 200", s.Latency.Same, s.Latency.Cross)
	}
	if res.Senders != 2 || len(s.PerInstance) != 2 || s.PerInstance[0].Senders != 1 || s.PerInstance[1].Subscribers != 10 {
		t.Errorf("senders %d, per instance %+v", res.Senders, s.PerInstance)
	}
	// Hints coalesce, so there may be fewer notifications than messages,
	// but never none; each instance sent some and heard all of them.
	if s.Notifications < 1 || s.Notifications > 20+5 {
		t.Errorf("%d notifications for 20 messages", s.Notifications)
	}
	for i, f := range s.PerInstance {
		if f.NotifySent < 1 || f.HintsIn < 1 {
			t.Errorf("instance %d: %v NOTIFY statements, %v hints received", i, f.NotifySent, f.HintsIn)
		}
	}
	// xact/s comes from pg_stat_database, which PostgreSQL 15's backends
	// flush at most once a second (and up to 10 s later when idle): over this
	// test's one-second window it may still read 0 on a busy machine, so only
	// a negative figure is wrong here; the stored rate counts rows.
	if s.PGInterval <= 0 || s.XactPerSec < 0 || s.StoredRate <= 0 {
		t.Errorf("PostgreSQL interval %v: %v xact/s, %v stored/s (problems %v)", s.PGInterval, s.XactPerSec, s.StoredRate, s.Problems)
	}
	// A chat message writes its row, its search document and their indexes.
	if !s.WALOurs || s.WALBytesPerMsg < 100 {
		t.Errorf("WAL of this database: %v, %v B per message (problems %v)", s.WALOurs, s.WALBytesPerMsg, s.Problems)
	}
	var out bytes.Buffer
	writeScenario(&out, sc, set.Duration, []*Result{res})
	for _, want := range []string{"2 forumjst instances", "deliveries on another instance", "cross-instance delay", "NOTIFY on forumjst_live", "xact/s", "this database's"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
