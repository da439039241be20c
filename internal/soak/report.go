package soak

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is a whole run, as printed and saved as JSON.
type Report struct {
	Settings  Settings         `json:"settings"`
	Instances []string         `json:"instances"`
	Started   time.Time        `json:"started"`
	Finished  time.Time        `json:"finished"`
	Idle      []InstanceSample `json:"idle"`    // before any client
	Samples   []Sample         `json:"samples"` // every interval of the load
	After     []InstanceSample `json:"after"`   // every client closed, after the settle pause
	DrainTook time.Duration    `json:"drain_took_ns"`
	Totals    Totals           `json:"totals"`
	Checks    []Check          `json:"checks"`
	Pass      bool             `json:"pass"`
}

// Totals are the run's loss accounting.
type Totals struct {
	Sent           int64            `json:"sent"`
	Acked          int64            `json:"acked"`
	Unanswered     int64            `json:"unanswered"`
	SendErrors     map[string]int64 `json:"send_errors,omitempty"`
	FirstSendError string           `json:"first_send_error,omitempty"`
	SenderRedials  int64            `json:"sender_redials"`
	Head           int64            `json:"head"`             // the last acked seq
	AckSeqMismatch int64            `json:"ack_seq_mismatch"` // acked seqs that are not seq0+1…head, each once
	Archived       int64            `json:"archived"`         // the meeting's rows written during the run
	ArchiveTop     int64            `json:"archive_top"`

	Connects             int64            `json:"connects"`
	Reconnects           int64            `json:"reconnects"`
	DialErrors           int64            `json:"dial_errors"`
	FirstDialError       string           `json:"first_dial_error,omitempty"`
	ServerCloses         map[string]int64 `json:"server_closes,omitempty"`
	NeverSubscribed      int64            `json:"never_subscribed"`
	Expected             int64            `json:"expected"`  // Σ over members of head − first seq
	Delivered            int64            `json:"delivered"` // live deliveries (replays not counted)
	Replayed             int64            `json:"replayed"`  // messages received by resuming with since_seq
	Gaps                 int64            `json:"gaps"`
	Lost                 int64            `json:"lost"` // seqs skipped, plus seqs up to head not held at the end
	Behind               int64            `json:"behind"`
	Duplicates           int64            `json:"duplicates"`
	BadFrames            int64            `json:"bad_frames"`
	ErrorFrames          int64            `json:"error_frames"`
	Resubscribes         int64            `json:"resubscribes"` // after an error frame for the topic
	FirstSubscriberError string           `json:"first_subscriber_error,omitempty"`

	Pages         int64            `json:"pages"`
	PostsAnswered int64            `json:"posts_answered"` // 201 Created with an id
	PostsStored   int64            `json:"posts_stored"`   // of those, rows in posts
	WebErrors     map[string]int64 `json:"web_errors,omitempty"`
	FirstWebError string           `json:"first_web_error,omitempty"`
}

// Check is one criterion of the verdict.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Warn marks a check reported but not part of the verdict (flat and
	// nothing lost): a failed request or an error frame is worth reading in
	// the server's log, but on a shared machine it is as often the
	// PostgreSQL server's connection limit as the forum.
	Warn bool `json:"warn,omitempty"`
}

// Tolerances of the flatness check: the largest reading of the last third
// of the run may exceed the largest of its second sixth (minutes 20–30 and
// 5–10 of a 30-minute run) by this factor plus this slack. The heap is
// judged by the GC's goal (twice the live heap after the last collection):
// the allocated heap saws between the live heap and that goal with every
// cycle, so one reading of it says little.
//
// Database connections are bounded by the pool (FORUM_DB_MAX_CONNS, plus the
// LISTEN connection): a pool that grows to its bound when PostgreSQL is slow
// answers the load, it does not leak, so the bound is also accepted.
var tolerances = []struct {
	name   string
	get    func(InstanceSample) int64
	factor float64
	slack  int64
	unit   string
	bound  func(Settings) int64 // also accepted when larger; nil: none
}{
	{"RSS", func(s InstanceSample) int64 { return s.RSS }, 1.15, 4 << 20, "MB", nil},
	{"heap goal", func(s InstanceSample) int64 { return s.HeapGoal }, 1.25, 4 << 20, "MB", nil},
	{"goroutines", func(s InstanceSample) int64 { return s.Goroutines }, 1.10, 20, "", nil},
	{"open files", func(s InstanceSample) int64 { return s.FDs }, 1.10, 20, "", nil},
	{"database connections", func(s InstanceSample) int64 { return s.DBConns }, 1.0, 5, "",
		func(s Settings) int64 { return int64(s.DBConnBound) }},
}

// windows returns the samples of the reference window (the run's second
// sixth) and of the tail (its last third).
func (rep *Report) windows() (ref, tail []Sample) {
	d := rep.Settings.Duration
	for _, s := range rep.Samples {
		switch {
		case s.Elapsed >= d/6 && s.Elapsed <= d/3:
			ref = append(ref, s)
		case s.Elapsed >= d*2/3:
			tail = append(tail, s)
		}
	}
	return ref, tail
}

// judge fills the checks and the verdict.
func (rep *Report) judge() {
	rep.Checks = nil
	add := func(name string, ok bool, format string, args ...any) {
		rep.Checks = append(rep.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	ref, tail := rep.windows()
	d := rep.Settings.Duration
	window := fmt.Sprintf("%s–%s vs %s–%s", fmtElapsed(d*2/3), fmtElapsed(d), fmtElapsed(d/6), fmtElapsed(d/3))
	if len(ref) == 0 || len(tail) == 0 {
		add("flat", false, "too few samples to compare %s (%d and %d): sample more often or run longer", window, len(tail), len(ref))
	} else {
		for i, name := range rep.Instances {
			for _, t := range tolerances {
				var refMax, tailMax int64
				for _, s := range ref {
					refMax = max(refMax, t.get(s.Instances[i]))
				}
				for _, s := range tail {
					tailMax = max(tailMax, t.get(s.Instances[i]))
				}
				limit := int64(float64(refMax)*t.factor) + t.slack
				how := fmt.Sprintf("max %s in %s × %.2f + %s", fmtVal(refMax, t.unit), fmtElapsed(d/6)+"–"+fmtElapsed(d/3), t.factor, fmtVal(t.slack, t.unit))
				if t.bound != nil && t.bound(rep.Settings) > limit {
					limit = t.bound(rep.Settings)
					how = "the pool's bound, FORUM_DB_MAX_CONNS + 1 LISTEN connection"
				}
				add(fmt.Sprintf("%s flat on %s", t.name, name), tailMax <= limit, "max %s in %s ≤ %s (%s)",
					fmtVal(tailMax, t.unit), fmtElapsed(d*2/3)+"–"+fmtElapsed(d), fmtVal(limit, t.unit), how)
			}
		}
	}

	t := rep.Totals
	add("lost = 0", t.Lost == 0 && t.Gaps == 0, "%s seqs missing (%s gaps, %s members behind the last ack %s at the end) of %s expected",
		fmtN(t.Lost), fmtN(t.Gaps), fmtN(t.Behind), fmtN(t.Head), fmtN(t.Expected))
	add("no duplicates", t.Duplicates == 0 && t.BadFrames == 0, "%s duplicates, %s unreadable frames", fmtN(t.Duplicates), fmtN(t.BadFrames))
	add("every member subscribed", t.NeverSubscribed == 0, "%s of %s never subscribed", fmtN(t.NeverSubscribed), fmtN(int64(rep.Settings.Subscribers)))
	warn := func(name string, ok bool, format string, args ...any) {
		add(name, ok, format, args...)
		rep.Checks[len(rep.Checks)-1].Warn = true
	}
	add("every send acknowledged", t.Unanswered == 0 && len(t.SendErrors) == 0 && t.Sent == t.Acked,
		"%s sent, %s acked, %s unanswered, errors %v %s", fmtN(t.Sent), fmtN(t.Acked), fmtN(t.Unanswered), t.SendErrors, t.FirstSendError)
	add("archive = acks", t.Archived == t.Acked && t.ArchiveTop == t.Head && t.AckSeqMismatch == 0,
		"%s rows, top seq %s; %s acks, last %s; %d acks out of sequence", fmtN(t.Archived), fmtN(t.ArchiveTop), fmtN(t.Acked), fmtN(t.Head), t.AckSeqMismatch)
	add("every 201 post stored", t.PostsStored == t.PostsAnswered, "%s answered 201, %s in the database", fmtN(t.PostsAnswered), fmtN(t.PostsStored))
	var webErrs int64
	for _, v := range t.WebErrors {
		webErrs += v
	}
	warn("no failed request", webErrs == 0, "%s pages and %s posts answered; failures %v %s", fmtN(t.Pages), fmtN(t.PostsAnswered), t.WebErrors, firstLine(t.FirstWebError))
	warn("no failed handshake", t.DialErrors == 0, "%s failed (each retried after 1 s) %s", fmtN(t.DialErrors), t.FirstDialError)
	warn("no error frame", t.ErrorFrames == 0, "%s error frames, %s subscribes repeated after one %s", fmtN(t.ErrorFrames), fmtN(t.Resubscribes), t.FirstSubscriberError)

	// Released: once every client closed, the instances are back near idle.
	// The pool may keep up to FORUM_DB_MAX_CONNS idle connections for five
	// minutes (database.Open), so open files are compared net of the pool's
	// growth.
	for i, name := range rep.Instances {
		if i >= len(rep.Idle) || i >= len(rep.After) {
			continue
		}
		idle, after := rep.Idle[i], rep.After[i]
		gLimit := int64(float64(idle.Goroutines)*1.10) + 20
		fLimit := idle.FDs + max(after.PoolOpen-idle.PoolOpen, 0) + 20
		add("released on "+name, after.Goroutines <= gLimit && after.FDs <= fLimit && after.WSConns == 0,
			"goroutines %d (idle %d, limit %d), open files %d (idle %d, limit %d incl. %d more pooled), websockets %d, RSS %s (idle %s)",
			after.Goroutines, idle.Goroutines, gLimit, after.FDs, idle.FDs, fLimit, max(after.PoolOpen-idle.PoolOpen, 0), after.WSConns,
			fmtVal(after.RSS, "MB"), fmtVal(idle.RSS, "MB"))
	}
	rep.Pass = true
	for _, c := range rep.Checks {
		rep.Pass = rep.Pass && (c.OK || c.Warn)
	}
}

// WriteVerdict prints the totals and every check.
func (rep *Report) WriteVerdict(w io.Writer) {
	t := rep.Totals
	fmt.Fprintf(w, "\n== soak: %s, %d instances, %s subscribers, %d msg/s ==\n", fmtElapsed(rep.Settings.Duration), len(rep.Instances),
		fmtN(int64(rep.Settings.Subscribers)), rep.Settings.Rate)
	fmt.Fprintf(w, "chat: %s sent, %s acked, %s live deliveries, %s replayed on resume; %s connects, %s churn reconnects, server closes %v; drain %s\n",
		fmtN(t.Sent), fmtN(t.Acked), fmtN(t.Delivered), fmtN(t.Replayed), fmtN(t.Connects), fmtN(t.Reconnects), t.ServerCloses, rep.DrainTook)
	fmt.Fprintf(w, "web: %s pages, %s posts answered 201, %s stored\n", fmtN(t.Pages), fmtN(t.PostsAnswered), fmtN(t.PostsStored))
	for _, c := range rep.Checks {
		mark := "✓"
		switch {
		case !c.OK && c.Warn:
			mark = "⚠"
		case !c.OK:
			mark = "✗"
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, c.Detail)
	}
	verdict := "PASS: flat, nothing lost, released"
	if !rep.Pass {
		verdict = "FAIL"
	}
	for _, c := range rep.Checks {
		if !c.OK && c.Warn {
			verdict += " (⚠ read the warnings: they do not change the verdict)"
			break
		}
	}
	fmt.Fprintf(w, "verdict: %s\n", verdict)
}

// Save writes the report as indented JSON, creating the directory.
func (rep *Report) Save(file string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(file), err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// printResources prints one line per instance of resources (and, with load,
// of the interval's figures).
func (r *runner) printResources(elapsed time.Duration, label string, ss []InstanceSample, load []IntervalLoad) {
	for i, s := range ss {
		var b strings.Builder
		fmt.Fprintf(&b, "soak %6s %-5s %s: RSS %s · heap %s (goal %s) · goroutines %s · open files %s · db conns %d (pool %d) · ws %s",
			fmtElapsed(elapsed), label, s.Instance, fmtVal(s.RSS, "MB"), fmtVal(s.HeapAlloc, "MB"), fmtVal(s.HeapGoal, "MB"),
			fmtN(s.Goroutines), fmtN(s.FDs), s.DBConns, s.PoolOpen, fmtN(s.WSConns))
		if load != nil {
			l := load[i]
			fmt.Fprintf(&b, " · %s deliveries/s · p99 %s · ack p99 %s · %.1f pages/s · %.2f posts/s", fmtN(int64(l.DeliveriesPerSec+0.5)),
				fmtDur(l.P99), fmtDur(l.AckP99), l.PagesPerSec, l.PostsPerSec)
			if l.WebErrors > 0 {
				fmt.Fprintf(&b, " · %d web errors", l.WebErrors)
			}
		}
		if s.Errors != "" {
			fmt.Fprintf(&b, " · unreadable: %s", s.Errors)
		}
		fmt.Fprintln(r.out, b.String())
	}
}

func (r *runner) printSample(s Sample) {
	r.printResources(s.Elapsed, "load", s.Instances, s.Load)
	fmt.Fprintf(r.out, "soak %6s all   : lost so far %s · duplicates %s · %s of %s members subscribed · %s reconnects\n",
		fmtElapsed(s.Elapsed), fmtN(s.LostSoFar), fmtN(s.DupsSoFar), fmtN(int64(s.Connected)), fmtN(int64(r.set.Subscribers)), fmtN(s.Reconnect))
}

// firstLine keeps an error's first line (an HTML error page is long).
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func fmtElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(time.Second).String()
	}
}

func fmtVal(v int64, unit string) string {
	if unit == "MB" {
		return fmt.Sprintf("%.1f MB", float64(v)/(1<<20))
	}
	return fmtN(v)
}

// fmtN writes n with thousands separators.
func fmtN(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	parts = append([]string{s}, parts...)
	out := strings.Join(parts, ",")
	if neg {
		out = "-" + out
	}
	return out
}
