package markup

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var containerTag = regexp.MustCompile(`</?(blockquote|ul|ol)[ >]`)

// maxDepth is the deepest nesting of quotes and lists in rendered HTML.
func maxDepth(html string) int {
	depth, max := 0, 0
	for _, tag := range containerTag.FindAllString(html, -1) {
		if strings.HasPrefix(tag, "</") {
			depth--
			continue
		}
		depth++
		if depth > max {
			max = depth
		}
	}
	return max
}

func indentedList(levels int) string {
	var b strings.Builder
	for i := 0; i < levels; i++ {
		b.WriteString(strings.Repeat(" ", 2*i) + "- poziom\n")
	}
	return b.String()
}

func TestNestingCapped(t *testing.T) {
	r := New()
	cases := []struct {
		name, src string
		// keep must survive as text: content deeper than the cap is flattened, not dropped.
		keep string
	}{
		{"1000 quotes", strings.Repeat(">", 1000) + " sedno", "sedno"},
		{"1000 spaced quotes", strings.Repeat("> ", 1000) + "sedno", "sedno"},
		{"1000 bullet levels on one line", strings.Repeat("* ", 1000) + "sedno", "sedno"},
		{"1000 numbered levels on one line", strings.Repeat("1. ", 1000) + "sedno", "sedno"},
		{"quotes and lists mixed", strings.Repeat("> 1. ", 500) + "sedno", "sedno"},
		{"200 indented list levels", indentedList(200) + strings.Repeat(" ", 400) + "- sedno\n", "sedno"},
		{"50000 quotes", strings.Repeat(">", 50000), "&gt;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := r.Render(c.src)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if d := maxDepth(out); d > MaxNesting {
				t.Errorf("nesting depth %d in output, want at most %d", d, MaxNesting)
			}
			if !strings.Contains(out, c.keep) {
				t.Errorf("output lost %q: %.300s", c.keep, out)
			}
		})
	}
}

func TestShallowNestingKept(t *testing.T) {
	out, err := New().Render(strings.Repeat(">", 5) + " cytat\n\n" + indentedList(5))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "<blockquote>"); n != 5 {
		t.Errorf("%d block quotes, want 5: %s", n, out)
	}
	if n := strings.Count(out, "<ul>"); n != 5 {
		t.Errorf("%d lists, want 5: %s", n, out)
	}
}

func TestOutputBounded(t *testing.T) {
	r := New()
	// Each line opens MaxNesting quotes for one character of text: about 24×.
	amplifying := strings.Repeat(strings.Repeat(">", MaxNesting)+"a\n\n", 2000)
	if _, err := r.Render(amplifying); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Render of %d bytes of nested quotes: err = %v, want ErrTooLarge", len(amplifying), err)
	}
	// What ordinary writing does stays well inside the bound.
	for name, src := range map[string]string{
		"50 KB of >":      strings.Repeat(">", 50000),
		"escapes":         strings.Repeat("&", 50000),
		"one-char table":  "|a|b|c|\n|-|-|-|\n" + strings.Repeat("|1|2|3|\n", 5000),
		"short autolinks": strings.Repeat("www.gmina.pl ", 1000),
		"a few quotes":    strings.Repeat(">", MaxNesting) + " a",
		"typical post":    typicalPost,
		"empty":           "",
	} {
		out, err := r.Render(src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(out) > MaxOutput(len(src)) {
			t.Errorf("%s: %d bytes of HTML from %d", name, len(out), len(src))
		}
	}
}

func TestRendersCounted(t *testing.T) {
	r := New()
	before := r.Renders()
	_, _ = r.Render("a")
	_, _ = r.Render(strings.Repeat(strings.Repeat(">", MaxNesting)+"a\n\n", 2000))
	if got := r.Renders() - before; got != 2 {
		t.Errorf("Renders moved by %d, want 2", got)
	}
}
