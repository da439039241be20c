package benchsum

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/table.golden")

// TestSummary reads two fixed benchmark files and checks the printed table
// (against testdata/table.golden) and the JSON written for comparing runs.
func TestSummary(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	now := time.Date(2026, 12, 3, 4, 5, 6, 0, time.UTC)
	path, err := Main([]string{"--out", out, "testdata/forum.json", "testdata/live.json"}, &stdout, &stderr, now)
	if err != nil {
		t.Fatalf("Main: %v (stderr %s)", err, stderr.String())
	}
	if want := filepath.Join(out, "bench-summary-2026-12-03T040506Z.json"); path != want {
		t.Errorf("written to %s, want %s", path, want)
	}
	got := bytes.ReplaceAll(stdout.Bytes(), []byte(out), []byte("OUT"))
	golden := "testdata/table.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 5 || s.Met != 2 || s.Missed != 2 || s.NoGoal != 1 {
		t.Fatalf("summary: %d rows, %d met, %d missed, %d without target; want 5, 2, 2, 1", len(s.Rows), s.Met, s.Missed, s.NoGoal)
	}
	if !s.When.Equal(now) || len(s.Sources) != 2 {
		t.Errorf("when %v sources %v", s.When, s.Sources)
	}
	r := s.Rows[3]
	if r.Bench != "live" || r.Figure != "fanout1k p99" || r.Baseline != 22.8 || r.Met == nil || *r.Met {
		t.Errorf("row 4 = %+v", r)
	}
}

// TestRowRoundTrip: what a benchmark writes, the summary reads back, with the
// ratio filled from the same-run baseline and none without one.
func TestRowRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "x.json")
	rows := []Row{
		NewRow("forum", "group page", "req/s", 300, 600, "≥ 0.6×", Met(false)),
		NewRow("forum", "posting", "posts/s", 900, 0, "≥ 1,000", Met(false)),
	}
	if err := Write(p, "forum", rows); err != nil {
		t.Fatal(err)
	}
	f, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Bench != "forum" || len(f.Rows) != 2 || f.Rows[0].Ratio != 0.5 || f.Rows[1].Ratio != 0 {
		t.Errorf("read back %+v", f)
	}
	if _, err := Main([]string{"--out", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{}, time.Now()); err == nil {
		t.Error("summary without files succeeded")
	}
}
