package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxQueryRunes bounds what one may type: a sentence, not a document.
const MaxQueryRunes = 200

// maxTerms bounds the words of one query (each is an index lookup).
const maxTerms = 10

// term is one word as the index knows it: folded, maybe stemmed.
type term struct {
	lexeme string
	prefix bool
	// alt is a second prefix for the same word: the t of a stem that turns
	// into c before -ie ("budżet" → budżecie, "projekt" → projekcie).
	alt string
}

// item is a word or a quoted phrase, included or excluded.
type item struct {
	terms   []term
	exclude bool
	phrase  bool
}

// parsed is a query reduced to what the index can answer.
type parsed struct {
	items []item
}

// positive reports whether anything is to be found (only exclusions find nothing).
func (p parsed) positive() bool {
	for _, it := range p.items {
		if !it.exclude {
			return true
		}
	}
	return false
}

// parse reads the syntax of the search box: words, "quoted phrases", -word
// and -"phrase" to exclude. Everything that is not a letter or a digit
// separates words, so no input can reach the tsquery syntax: a lone quote
// opens a phrase that ends with the text, operators alone leave no words.
func parse(q string) parsed {
	var p parsed
	count := 0
	rs := []rune(q)
	for i := 0; i < len(rs) && count < maxTerms; {
		r := rs[i]
		exclude := false
		if r == '-' && i+1 < len(rs) && (rs[i+1] == '"' || isWordRune(rs[i+1])) && (i == 0 || unicode.IsSpace(rs[i-1])) {
			exclude = true
			i++
			r = rs[i]
		}
		switch {
		case r == '"':
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			words := splitWords(string(rs[i+1 : min(end, len(rs))]))
			i = end + 1
			var ts []term
			for _, w := range words {
				if len(ts)+count >= maxTerms {
					break
				}
				if t := wordTerm(w); t.lexeme != "" {
					ts = append(ts, t)
				}
			}
			if len(ts) > 0 {
				p.items = append(p.items, item{terms: ts, exclude: exclude, phrase: len(ts) > 1})
				count += len(ts)
			}
		case isWordRune(r):
			end := i
			for end < len(rs) && isWordRune(rs[end]) {
				end++
			}
			w := fold(string(rs[i:end]))
			i = end
			if utf8.RuneCountInString(w) < 2 {
				continue // one letter finds everything and means nothing
			}
			if t := wordTerm(w); t.lexeme != "" {
				p.items = append(p.items, item{terms: []term{t}, exclude: exclude})
				count++
			}
		default:
			i++
		}
	}
	return p
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// splitWords folds a text and splits it into runs of letters and digits.
func splitWords(s string) []string {
	return strings.FieldsFunc(fold(s), func(r rune) bool { return !isWordRune(r) })
}

// wordTerm turns a folded word into an index term. Words long enough are cut to
// their stem and matched as a prefix; short ones must match whole (a prefix
// of two letters would read half the index).
// Inside a phrase even "w" and "o" keep their place, as whole words.
func wordTerm(w string) term {
	// Only letters and digits ever reach the tsquery text.
	w = strings.Map(func(r rune) rune {
		if isWordRune(r) {
			return r
		}
		return -1
	}, w)
	s := stem(w)
	if utf8.RuneCountInString(s) >= 3 {
		t := term{lexeme: s, prefix: true}
		if strings.HasSuffix(s, "t") && len(s) >= 5 {
			t.alt = s[:len(s)-1] + "c"
		}
		return t
	}
	return term{lexeme: w}
}

// tsquery renders the parsed query for to_tsquery. Lexemes hold letters and
// digits only, so quoting them cannot break out.
func (p parsed) tsquery() string {
	var parts []string
	for _, it := range p.items {
		var ws []string
		for _, t := range it.terms {
			ws = append(ws, t.tsquery())
		}
		s := strings.Join(ws, " <-> ")
		if len(ws) > 1 {
			s = "(" + s + ")"
		}
		if it.exclude {
			s = "!" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " & ")
}

func (t term) tsquery() string {
	switch {
	case t.alt != "":
		return "('" + t.lexeme + "':* | '" + t.alt + "':*)"
	case t.prefix:
		return "'" + t.lexeme + "':*"
	}
	return "'" + t.lexeme + "'"
}

// words are the tsqueries of the searched-for words one by one: the whole
// query matches no document one of them misses (a phrase needs all its
// words), which bounds its share of documents (see store.SearchQuery).
func (p parsed) words() []string {
	var out []string
	for _, t := range p.highlights() {
		out = append(out, t.tsquery())
	}
	return out
}

// highlights are the terms a snippet marks: those that were searched for.
func (p parsed) highlights() []term {
	var out []term
	for _, it := range p.items {
		if !it.exclude {
			out = append(out, it.terms...)
		}
	}
	return out
}

// fold lower-cases and removes diacritics the way the index's unaccent
// dictionary does for Polish and its neighbours: "Żłobek" → "zlobek".
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch r {
		case 'ł', 'Ł':
			b.WriteByte('l')
			continue
		case 'đ', 'Đ':
			b.WriteByte('d')
			continue
		case 'ø', 'Ø':
			b.WriteByte('o')
			continue
		case 'ß':
			b.WriteString("ss")
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// endings are Polish inflectional endings after folding, longest first. The
// stem keeps at least four letters, so "szkoła" → "szkol" (szkoły, szkole,
// szkołach, szkół), "oświata" → "oswiat", "uczniów" → "uczni", while "rada"
// or "lodz" stay whole. The -ka/-ce/-ek family drops the k as well, since k
// alternates with c and the e comes and goes: "żłobek", "żłobka" → "zlob";
// "stołówka", "stołówce", "stołówek" → "stolow".
var endings = []string{
	"owie", "kach", "kami",
	"ach", "ami", "ego", "emu", "ich", "ych", "iej", "imi", "ymi", "owi", "kom",
	"om", "ow", "ie", "ej", "em", "ym", "im", "ia", "iu", "ii", "ek", "ka", "ki", "ce", "ku", "ko",
	"a", "e", "i", "o", "u", "y",
}

func stem(w string) string {
	n := utf8.RuneCountInString(w)
	for _, e := range endings {
		if strings.HasSuffix(w, e) && n-len(e) >= 4 {
			return w[:len(w)-len(e)]
		}
	}
	return w
}
