package soak

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/benchlive"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// TestShortSoak runs the soak's whole loop for a few seconds against two real
// forum instances (in this process, on one real database), with churn fast
// enough that members leave and resume with since_seq many times: nothing
// may be lost, every reading must be there, and the report must survive a
// JSON round trip. Flatness and release are performance properties of a long
// run and are not asserted here; that they are computed is.
func TestShortSoak(t *testing.T) {
	a := testkit.Start(t, dbURL)
	b := testkit.Start(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fx, err := benchlive.SeedFixtures(ctx, a.DB, 4)
	if err != nil {
		t.Fatal(err)
	}
	setup := Setup{Fixtures: fx}
	if err := Prepare(ctx, benchlive.NewAPI(a.URL), &setup, 2); err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	insts := []Instance{{Name: "a", Base: a.URL, PID: pid}, {Name: "b", Base: b.URL, PID: pid}}
	set := Settings{Duration: 12 * time.Second, Every: 2 * time.Second, Subscribers: 16, Rate: 20, Senders: 1,
		Lifetime: 2 * time.Second, Away: 300 * time.Millisecond, Web: 2, PageRate: 4, PostRate: 0.25,
		Drain: 20 * time.Second, Settle: 500 * time.Millisecond, ConnectOver: time.Second}
	var out strings.Builder
	rep, err := Run(ctx, set, insts, a.DB, setup, &out, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteVerdict(&out)
	defer func() {
		if t.Failed() {
			t.Logf("output:\n%s", out.String())
		}
	}()

	tt := rep.Totals
	if tt.Sent == 0 || tt.Acked != tt.Sent || tt.Unanswered != 0 || len(tt.SendErrors) != 0 {
		t.Errorf("sent %d, acked %d, unanswered %d, errors %v", tt.Sent, tt.Acked, tt.Unanswered, tt.SendErrors)
	}
	if tt.Lost != 0 || tt.Gaps != 0 || tt.Duplicates != 0 || tt.BadFrames != 0 || tt.NeverSubscribed != 0 {
		t.Errorf("lost %d, gaps %d, duplicates %d, bad frames %d, never subscribed %d", tt.Lost, tt.Gaps, tt.Duplicates, tt.BadFrames, tt.NeverSubscribed)
	}
	if tt.Archived != tt.Acked || tt.ArchiveTop != tt.Head || tt.AckSeqMismatch != 0 {
		t.Errorf("archive %d rows (top %d) for %d acks (head %d), %d out of sequence", tt.Archived, tt.ArchiveTop, tt.Acked, tt.Head, tt.AckSeqMismatch)
	}
	// The churn really happened and resumes really replayed: otherwise the
	// loss accounting above proved nothing about since_seq.
	if tt.Reconnects == 0 || tt.Replayed == 0 || tt.Connects <= int64(set.Subscribers) {
		t.Errorf("reconnects %d, replayed %d, connects %d: the churn did not run", tt.Reconnects, tt.Replayed, tt.Connects)
	}
	if tt.Expected != tt.Delivered+tt.Replayed {
		t.Errorf("expected %d ≠ delivered %d + replayed %d", tt.Expected, tt.Delivered, tt.Replayed)
	}
	if tt.Pages == 0 || tt.PostsAnswered == 0 || tt.PostsStored != tt.PostsAnswered || len(tt.WebErrors) != 0 {
		t.Errorf("pages %d, posts %d answered, %d stored, errors %v %s", tt.Pages, tt.PostsAnswered, tt.PostsStored, tt.WebErrors, tt.FirstWebError)
	}

	if len(rep.Samples) != 6 {
		t.Errorf("%d samples, want 6 (12 s every 2 s)", len(rep.Samples))
	}
	for _, group := range [][]InstanceSample{rep.Idle, rep.After} {
		if len(group) != 2 {
			t.Fatalf("idle/after readings: %d, want 2", len(group))
		}
	}
	var delivered float64
	for _, s := range rep.Samples {
		if len(s.Instances) != 2 || len(s.Load) != 2 {
			t.Fatalf("sample at %s: %d instances, %d loads", s.Elapsed, len(s.Instances), len(s.Load))
		}
		for _, in := range s.Instances {
			if in.RSS <= 0 || in.HeapAlloc <= 0 || in.HeapGoal <= 0 || in.Goroutines <= 0 || in.FDs <= 0 || in.DBConns <= 0 || in.PoolOpen <= 0 || in.Errors != "" {
				t.Errorf("sample at %s, %s: a reading is missing: %+v", s.Elapsed, in.Instance, in)
			}
		}
		for _, l := range s.Load {
			delivered += l.DeliveriesPerSec
		}
	}
	if delivered == 0 {
		t.Error("no interval counted a delivery")
	}
	names := map[string]bool{}
	for _, c := range rep.Checks {
		names[strings.SplitN(c.Name, " on ", 2)[0]] = true
	}
	for _, want := range []string{"RSS flat", "heap goal flat", "goroutines flat", "open files flat", "database connections flat",
		"lost = 0", "archive = acks", "every 201 post stored", "released"} {
		if !names[want] {
			t.Errorf("no %q check; checks: %v", want, rep.Checks)
		}
	}
	for _, c := range rep.Checks {
		if !strings.Contains(c.Name, "flat") && !strings.HasPrefix(c.Name, "released") && !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}

	file := filepath.Join(t.TempDir(), "soak.json")
	if err := rep.Save(file); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Samples) != len(rep.Samples) || back.Totals.Acked != tt.Acked || back.Samples[0].Instances[0].RSS != rep.Samples[0].Instances[0].RSS {
		t.Errorf("JSON round trip lost data")
	}
	for _, want := range []string{"load  a: RSS", "load  b: RSS", "heap", "goroutines", "open files", "db conns", "deliveries/s", "p99", "lost so far", "verdict:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestChain: the contiguity rule that is the soak's loss accounting.
func TestChain(t *testing.T) {
	var c chain
	c.accept(3) // before any "subscribed": cannot be judged
	if c.bad != 1 {
		t.Errorf("bad = %d", c.bad)
	}
	c.start(5)
	c.start(9) // a resubscribe does not move the chain
	for _, s := range []int64{6, 7, 7, 10, 11, 4} {
		c.accept(s)
	}
	if c.first != 5 || c.last != 11 || c.gaps != 1 || c.missing != 2 || c.dups != 2 {
		t.Errorf("chain %+v", c)
	}
	if got := c.lostAt(14); got != 2+3 {
		t.Errorf("lostAt(14) = %d, want 5 (8, 9 skipped; 12–14 never held)", got)
	}
	if got := c.lostAt(11); got != 2 {
		t.Errorf("lostAt(11) = %d, want 2", got)
	}
	var never chain
	if never.lostAt(100) != 0 {
		t.Error("a member that never subscribed was promised nothing")
	}
}

// TestJudge: the flatness windows and tolerances, and that any loss fails.
func TestJudge(t *testing.T) {
	mk := func(grow func(min int) int64) *Report {
		rep := &Report{Settings: Settings{Duration: 30 * time.Minute}, Instances: []string{"a"},
			Idle:  []InstanceSample{{Goroutines: 20, FDs: 15, PoolOpen: 2}},
			After: []InstanceSample{{Goroutines: 22, FDs: 30, PoolOpen: 10}}}
		for m := 1; m <= 30; m++ {
			g := grow(m)
			rep.Samples = append(rep.Samples, Sample{Elapsed: time.Duration(m) * time.Minute, Instances: []InstanceSample{{
				RSS: 80 << 20, HeapGoal: 40 << 20, Goroutines: 1000 + g, FDs: 540, DBConns: 12}}})
		}
		rep.Totals = Totals{Sent: 36000, Acked: 36000, Head: 36000, Archived: 36000, ArchiveTop: 36000, PostsAnswered: 10, PostsStored: 10}
		return rep
	}
	flat := mk(func(m int) int64 { return int64(m % 3 * 10) })
	flat.judge()
	if !flat.Pass {
		t.Errorf("a flat run failed: %+v", flat.Checks)
	}
	// 10 goroutines a minute: 1,100 at minute 10, 1,300 at 30 > 1,100 × 1.1 + 20.
	leak := mk(func(m int) int64 { return int64(10 * m) })
	leak.judge()
	if leak.Pass || failed(leak, "goroutines flat on a") == "" {
		t.Errorf("a growing goroutine count passed: %+v", leak.Checks)
	}
	// The pool reaching its bound is load, not a leak.
	pool := mk(func(int) int64 { return 0 })
	pool.Settings.DBConnBound = 21
	pool.Samples[29].Instances[0].DBConns = 21
	pool.judge()
	if !pool.Pass {
		t.Errorf("a pool at its bound failed: %s", failed(pool, "database connections flat on a"))
	}
	pool.Samples[29].Instances[0].DBConns = 22
	pool.judge()
	if pool.Pass {
		t.Error("more connections than the pool's bound passed")
	}
	lost := mk(func(int) int64 { return 0 })
	lost.Totals.Lost = 1
	lost.judge()
	if lost.Pass || failed(lost, "lost = 0") == "" {
		t.Error("a lost message passed")
	}
	short := mk(func(int) int64 { return 0 })
	short.Samples = short.Samples[25:]
	short.judge()
	if short.Pass {
		t.Error("a run without samples in minutes 5–10 passed")
	}
	held := mk(func(int) int64 { return 0 })
	held.After[0].Goroutines = 500
	held.judge()
	if held.Pass || failed(held, "released on a") == "" {
		t.Error("goroutines held after the clients left passed")
	}
}

func failed(rep *Report, name string) string {
	for _, c := range rep.Checks {
		if c.Name == name && !c.OK {
			return c.Detail
		}
	}
	return ""
}

func TestPercentile(t *testing.T) {
	var h hist
	prev := h.snap()
	for i := range 100 {
		h.observe(time.Duration(i+1) * time.Millisecond)
	}
	cur := h.snap()
	p99 := pctSince(cur, prev, 99)
	if p99 < 99*time.Millisecond || p99 > 110*time.Millisecond {
		t.Errorf("p99 = %s, want 99–110 ms (10%% buckets)", p99)
	}
	if pctSince(cur, cur, 99) != 0 {
		t.Error("an empty interval has no percentile")
	}
}
