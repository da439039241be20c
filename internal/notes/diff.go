package notes

import "strings"

// Diff operations.
const (
	OpSame = "same"
	OpAdd  = "add"
	OpDel  = "del"
	// OpSkip stands for a run of unchanged lines left out of a compact diff.
	OpSkip = "skip"
)

// DiffLine is one line of a line diff.
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text,omitempty"`
	// Skipped is how many unchanged lines an OpSkip stands for.
	Skipped int `json:"skipped,omitempty"`
}

// maxDiffCells bounds the LCS table (4 bytes a cell): two 2,000-line texts that
// differ throughout still diff line by line; beyond that the changed middle is
// shown as removed and added wholesale, which is still correct, only coarser.
const maxDiffCells = 4_000_000

// LineDiff compares two texts line by line with a longest-common-subsequence
// diff. Within a changed block removals come before additions, as people
// read "was … now …".
func LineDiff(before, after string) []DiffLine {
	x, y := splitLines(before), splitLines(after)
	// Common ends are matched directly: typical edits touch a few lines in the
	// middle, so the table below stays small.
	p := 0
	for p < len(x) && p < len(y) && x[p] == y[p] {
		p++
	}
	q := 0
	for q < len(x)-p && q < len(y)-p && x[len(x)-1-q] == y[len(y)-1-q] {
		q++
	}
	out := make([]DiffLine, 0, len(x)+len(y)-p-q)
	for _, l := range x[:p] {
		out = append(out, DiffLine{Op: OpSame, Text: l})
	}
	out = append(out, lcsDiff(x[p:len(x)-q], y[p:len(y)-q])...)
	for _, l := range x[len(x)-q:] {
		out = append(out, DiffLine{Op: OpSame, Text: l})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func lcsDiff(x, y []string) []DiffLine {
	n, m := len(x), len(y)
	out := make([]DiffLine, 0, n+m)
	if (n+1)*(m+1) > maxDiffCells {
		for _, l := range x {
			out = append(out, DiffLine{Op: OpDel, Text: l})
		}
		for _, l := range y {
			out = append(out, DiffLine{Op: OpAdd, Text: l})
		}
		return out
	}
	// t[i*(m+1)+j] is the length of the LCS of x[i:] and y[j:].
	w := m + 1
	t := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			switch {
			case x[i] == y[j]:
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			case t[(i+1)*w+j] >= t[i*w+j+1]:
				t[i*w+j] = t[(i+1)*w+j]
			default:
				t[i*w+j] = t[i*w+j+1]
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, DiffLine{Op: OpSame, Text: x[i]})
			i++
			j++
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			out = append(out, DiffLine{Op: OpDel, Text: x[i]})
			i++
		default:
			out = append(out, DiffLine{Op: OpAdd, Text: y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{Op: OpDel, Text: x[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{Op: OpAdd, Text: y[j]})
	}
	return out
}

// Compact keeps the changed lines and up to context unchanged lines around
// each change; longer unchanged runs become one OpSkip. No change gives nil.
func Compact(lines []DiffLine, context int) []DiffLine {
	changed := false
	for _, l := range lines {
		if l.Op != OpSame {
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op == OpSame {
			continue
		}
		for k := max(0, i-context); k <= min(len(lines)-1, i+context); k++ {
			keep[k] = true
		}
	}
	var out []DiffLine
	for i := 0; i < len(lines); {
		if keep[i] {
			out = append(out, lines[i])
			i++
			continue
		}
		start := i
		for i < len(lines) && !keep[i] {
			i++
		}
		out = append(out, DiffLine{Op: OpSkip, Skipped: i - start})
	}
	return out
}
