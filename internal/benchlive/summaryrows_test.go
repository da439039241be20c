package benchlive

import (
	"testing"
	"time"
)

// TestSummaryRows: the rows for forumjst-bench summary carry forumjst's figure,
// the bare server's from the same run, the ratio and SPEC §8's verdict, and
// issue 16's ratio targets for the fan-out with 1 and with 10 senders.
func TestSummaryRows(t *testing.T) {
	all := [][]*Result{
		{
			{Scenario: "fanout1k", Server: "baseline", N: 1000, Rate: 100, Senders: 1, DeliveriesPerSec: 99_000, P50: 4 * time.Millisecond, P99: 20 * time.Millisecond, ConnectTotal: 100 * time.Millisecond},
			{Scenario: "fanout1k", Server: "forumjst", N: 1000, Rate: 100, Senders: 1, DeliveriesPerSec: 98_000, P50: 6 * time.Millisecond, P99: 40 * time.Millisecond, ConnectTotal: 150 * time.Millisecond},
		},
		{
			{Scenario: "fanout1k/10", Server: "baseline", N: 1000, Rate: 100, Senders: 10, DeliveriesPerSec: 99_000, P50: 4 * time.Millisecond, P99: 20 * time.Millisecond},
			{Scenario: "fanout1k/10", Server: "forumjst", N: 1000, Rate: 100, Senders: 10, DeliveriesPerSec: 99_000, P50: 5 * time.Millisecond, P99: 27 * time.Millisecond},
		},
		{
			{Scenario: "idle10k", Server: "baseline", RSSPerConn: 27_000, ConnectTotal: time.Second},
			{Scenario: "idle10k", Server: "forumjst", RSSPerConn: 29_000, ConnectTotal: 3 * time.Second},
		},
	}
	got := map[string]string{}
	for _, r := range summaryRows(all) {
		if r.Bench != "live" {
			t.Errorf("%s: bench %q", r.Figure, r.Bench)
		}
		met := "–"
		if r.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*r.Met]
		}
		got[r.Figure] = met
		if r.Figure == "fanout1k p99" && (r.Value != 40 || r.Baseline != 20 || r.Ratio != 2) {
			t.Errorf("fanout1k p99 row = %+v", r)
		}
	}
	want := map[string]string{
		"fanout1k deliveries": "yes", "fanout1k lost or dropped": "yes", "fanout1k p50": "yes", "fanout1k p99": "NO",
		"fanout1k p99 vs bare": "yes", "fanout1k/10 p50": "yes", "fanout1k/10 p99": "NO",
		"fanout1k connect total": "yes", "idle10k connect total": "NO", "idle10k RSS per connection": "yes",
	}
	for f, w := range want {
		if got[f] != w {
			t.Errorf("%s: met %q, want %q (rows %v)", f, got[f], w, got)
		}
	}
}
