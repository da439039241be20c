package markup

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// xssVector is one entry of testdata/xss/vectors.txt.
type xssVector struct {
	name, src string
	line      int
}

const xssCorpusPath = "testdata/xss/vectors.txt"

// loadXSSCorpus reads testdata/xss/vectors.txt; see the header of that file for
// its format.
func loadXSSCorpus(tb testing.TB) []xssVector {
	tb.Helper()
	f, err := os.Open(xssCorpusPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var vs []xssVector
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, lit, ok := strings.Cut(line, " ")
		if !ok {
			tb.Fatalf("%s:%d: want \"name payload\", got %q", xssCorpusPath, ln, line)
		}
		src, err := strconv.Unquote(strings.TrimSpace(lit))
		if err != nil {
			tb.Fatalf("%s:%d: payload of %s is not a Go string literal: %v", xssCorpusPath, ln, name, err)
		}
		if prev, dup := seen[name]; dup {
			tb.Fatalf("%s:%d: vector name %s already used on line %d", xssCorpusPath, ln, name, prev)
		}
		seen[name] = ln
		vs = append(vs, xssVector{name: name, src: src, line: ln})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return vs
}

// TestXSSCorpus renders every vector of the corpus and checks, with a real HTML
// parser, that what comes out is inert.
func TestXSSCorpus(t *testing.T) {
	vectors := loadXSSCorpus(t)
	if len(vectors) < 40 {
		t.Fatalf("corpus has %d vectors, want at least 40", len(vectors))
	}
	r := New()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			out, err := r.Render(v.src)
			if err != nil {
				t.Fatalf("vector %s (%s:%d): Render error: %v", v.name, xssCorpusPath, v.line, err)
			}
			if vs := inertViolations(out); len(vs) > 0 {
				t.Errorf("vector %s (%s:%d) is not neutralised\ninput:  %q\noutput: %q\nviolations:\n  %s",
					v.name, xssCorpusPath, v.line, v.src, out, strings.Join(vs, "\n  "))
			}
		})
	}
}
