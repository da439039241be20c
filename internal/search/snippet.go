package search

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// snippetRunes is about two lines of a result list.
const snippetRunes = 220

// snippet cuts a window of plain text around the first searched word and
// marks every searched word in it. The text is the author's source, never
// stored HTML: each piece is escaped first and only then wrapped in <mark>,
// so nothing the author wrote can become markup. found reports whether a
// searched word is in the text.
func snippet(text string, hl []term) (string, bool) {
	text = plain(text)
	words := wordSpans(text)
	first := -1
	for _, w := range words {
		if matches(fold(text[w[0]:w[1]]), hl) {
			first = w[0]
			break
		}
	}
	start, end := 0, len(text)
	if utf8.RuneCountInString(text) > snippetRunes {
		if first > 0 {
			// Some context before the hit, starting at a word.
			start = backRunes(text, first, 60)
			if i := strings.IndexByte(text[start:first], ' '); i >= 0 && start > 0 {
				start += i + 1
			}
		}
		end = forwardRunes(text, start, snippetRunes)
		if end < len(text) {
			if i := strings.LastIndexByte(text[start:end], ' '); i > 0 {
				end = start + i
			}
		}
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("… ")
	}
	pos := start
	for _, w := range words {
		if w[0] < start || w[1] > end {
			continue
		}
		if matches(fold(text[w[0]:w[1]]), hl) {
			b.WriteString(html.EscapeString(text[pos:w[0]]))
			b.WriteString("<mark>")
			b.WriteString(html.EscapeString(text[w[0]:w[1]]))
			b.WriteString("</mark>")
			pos = w[1]
		}
	}
	b.WriteString(html.EscapeString(text[pos:end]))
	if end < len(text) {
		b.WriteString(" …")
	}
	return b.String(), first >= 0
}

// plain makes Markdown source readable on one line: emphasis marks go, and
// heading and quote marks at the start of a line; a > or # inside a sentence
// ("wynik > 30%") is the author's text and stays. Whitespace collapses.
func plain(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimLeft(l, " \t")
		for strings.HasPrefix(l, ">") || strings.HasPrefix(l, "#") {
			l = strings.TrimLeft(l[1:], " \t")
		}
		lines[i] = l
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '*', '`', '_', '~':
			return ' '
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.Join(lines, "\n"))
	return strings.Join(strings.Fields(s), " ")
}

// wordSpans are the byte ranges of the runs of letters and digits.
func wordSpans(s string) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(s)})
	}
	return out
}

// matches mirrors the index: a prefix term matches words that start with it,
// a whole term only itself.
func matches(folded string, hl []term) bool {
	for _, t := range hl {
		if t.prefix && (strings.HasPrefix(folded, t.lexeme) || t.alt != "" && strings.HasPrefix(folded, t.alt)) || folded == t.lexeme {
			return true
		}
	}
	return false
}

func backRunes(s string, i, n int) int {
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return i
}

func forwardRunes(s string, i, n int) int {
	for ; n > 0 && i < len(s); n-- {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}
