// Package benchsum is the one benchmark summary of issue 16 item 3: every
// benchmark (forum in internal/loadtest, live in internal/benchlive, search in
// internal/benchsearch) writes its figures as Rows to a JSON file, and
// `forumjst-bench summary FILES…` reads them, prints one table (figure, value,
// same-run baseline, ratio, target, met) and writes the merged rows to
// test-artifacts/bench-summary-<date>.json so runs can be compared.
//
// It imports nothing of the project and touches no database.
package benchsum

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one figure of one benchmark.
type Row struct {
	Bench  string  `json:"bench"`  // forum, live, search
	Figure string  `json:"figure"` // what was measured
	Unit   string  `json:"unit"`   // req/s, ms, KB, statements, …
	Value  float64 `json:"value"`
	// Baseline is the same figure of the bare baseline measured in the same
	// run; 0 when there is none (BaselineNote says why and what stands in).
	Baseline     float64 `json:"baseline"`
	BaselineNote string  `json:"baseline_note,omitempty"`
	Ratio        float64 `json:"ratio"` // Value / Baseline; 0 without a baseline
	Target       string  `json:"target"`
	// Met is nil when the figure has no target (shown for context only).
	Met *bool `json:"met"`
}

// NewRow fills Ratio from value and baseline.
func NewRow(bench, figure, unit string, value, baseline float64, target string, met *bool) Row {
	r := Row{Bench: bench, Figure: figure, Unit: unit, Value: value, Baseline: baseline, Target: target, Met: met}
	if baseline > 0 {
		r.Ratio = value / baseline
	}
	return r
}

// Met is a convenience for Row.Met.
func Met(ok bool) *bool { return &ok }

// File is what one benchmark writes.
type File struct {
	Bench string    `json:"bench"`
	When  time.Time `json:"when"`
	Rows  []Row     `json:"rows"`
}

// Write writes rows as one benchmark's File.
func Write(path, bench string, rows []Row) error {
	b, err := json.MarshalIndent(File{Bench: bench, When: time.Now().UTC(), Rows: rows}, "", "  ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Read reads one benchmark's File.
func Read(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Summary is the merged run written to test-artifacts.
type Summary struct {
	When    time.Time `json:"when"`
	Sources []string  `json:"sources"`
	Rows    []Row     `json:"rows"`
	Met     int       `json:"met"`
	Missed  int       `json:"missed"`
	NoGoal  int       `json:"no_target"`
}

// Merge puts the files' rows together in the order given.
func Merge(when time.Time, paths []string, files []File) Summary {
	s := Summary{When: when.UTC(), Sources: paths}
	for _, f := range files {
		for _, r := range f.Rows {
			if r.Bench == "" {
				r.Bench = f.Bench
			}
			s.Rows = append(s.Rows, r)
			switch {
			case r.Met == nil:
				s.NoGoal++
			case *r.Met:
				s.Met++
			default:
				s.Missed++
			}
		}
	}
	return s
}

// Print writes the table.
func Print(w io.Writer, s Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bench\tfigure\tvalue\tbaseline (same run)\tratio\ttarget\tmet")
	for _, r := range s.Rows {
		base := "–"
		if r.Baseline > 0 {
			base = num(r.Baseline) + " " + r.Unit
		}
		if r.BaselineNote != "" {
			if base == "–" {
				base = r.BaselineNote
			} else {
				base += " (" + r.BaselineNote + ")"
			}
		}
		ratio := "–"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
		}
		met := "–"
		if r.Met != nil {
			met = "yes"
			if !*r.Met {
				met = "NO"
			}
		}
		target := r.Target
		if target == "" {
			target = "–"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\n", r.Bench, r.Figure, num(r.Value), r.Unit, base, ratio, target, met)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d met, %d missed, %d without a target\n", s.Met, s.Missed, s.NoGoal)
}

// num prints a figure with as many decimals as its size deserves.
func num(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a >= 100:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Main is `forumjst-bench summary [--out DIR] FILES…`: it prints the table and
// writes DIR/bench-summary-<UTC date and time>.json; now is the run's time.
func Main(args []string, stdout, stderr io.Writer, now time.Time) (string, error) {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "test-artifacts", "directory for bench-summary-<date>.json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: forumjst-bench summary [--out DIR] FILE.json…  (rows written by make bench-forum/bench-live/bench-search)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return "", errors.New("no input files")
	}
	var files []File
	for _, p := range fs.Args() {
		f, err := Read(p)
		if err != nil {
			return "", err
		}
		files = append(files, f)
	}
	s := Merge(now, fs.Args(), files)
	Print(stdout, s)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return "", err
	}
	// Date and time: two runs on one day must not overwrite each other.
	path := filepath.Join(*out, "bench-summary-"+now.UTC().Format("2006-01-02T150405Z")+".json")
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "written %s\n", path)
	return path, nil
}
