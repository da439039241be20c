package markup

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"

	"github.com/gwd-jst/forumjst/internal/apperr"
)

// Mentions (SPEC §4): "@" followed by a person's display name exactly as
// shown ("@Katarzyna Wójcik"). The service finds the candidate names in the
// source (MentionCandidates), resolves them among the people who may read the
// place, and renders with the result: each resolved mention becomes a plain
// link to /u/{id} made by the Markdown parser itself, so a mention inside a
// code span or block stays code, and the sanitizer treats it as any other
// relative link (nothing in the policy is loosened for it).

// People maps display names, exactly as shown, to account ids, for one rendering.
type People map[string]int64

// Limits on what one text may mention: a name is at most 100 characters
// (accounts.checkName), and a text naming more than MaxMentions people is
// mentioning the whole room, which the first MaxMentions cover.
const (
	maxNameRunes = 100
	maxNameWords = 8
	MaxMentions  = 20
)

// mentionStart reports whether an "@" at byte i of s starts a mention: at the
// start of the text or after something that is not part of a word, so that
// "jan@gmina.pl" is an address, not a mention.
func mentionStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// nameRune: what a display name is made of (letters, digits, spaces,
// hyphens, apostrophes, dots: "J. O'Neill-Nowak"); anything else ends it.
func nameRune(r rune) bool {
	return isWordRune(r) || r == ' ' || r == '-' || r == '.' || r == '\'' || r == '’'
}

// namePrefixes calls fn with each prefix of s (the text after an "@") that
// ends where a word ends, shortest first, up to maxNameRunes runes and
// maxNameWords words, stopping at the first character no name holds.
func namePrefixes(s string, fn func(prefix string)) {
	words, runes := 0, 0
	for i, r := range s {
		if !nameRune(r) || runes >= maxNameRunes {
			break
		}
		runes++
		next := i + utf8.RuneLen(r)
		nr, _ := utf8.DecodeRuneInString(s[next:])
		if isWordRune(r) && (next == len(s) || !isWordRune(nr)) {
			fn(s[:next])
			if words++; words >= maxNameWords {
				break
			}
		}
	}
}

// MentionCandidates lists the names that the "@"s of src might stand for:
// for each "@" (the first MaxMentions), every run of whole words after it.
// The service looks them up; most are nobody.
func MentionCandidates(src string) []string {
	seen := map[string]bool{}
	out := []string{}
	ats := 0
	for i := 0; i < len(src) && ats < MaxMentions; i++ {
		if src[i] != '@' || !mentionStart(src, i) {
			continue
		}
		ats++
		namePrefixes(src[i+1:], func(p string) {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		})
	}
	return out
}

var mentionKey = parser.NewContextKey()

// mentionState is one rendering's people and the ids it linked.
type mentionState struct {
	people People
	found  []int64
}

// mentionParser turns "@Name" into a link when Name is in the rendering's
// People; the longest name wins ("@Anna Nowak-Kowalska" over "@Anna Nowak").
type mentionParser struct{}

func (mentionParser) Trigger() []byte { return []byte{'@'} }

func (mentionParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	st, _ := pc.Get(mentionKey).(*mentionState)
	if st == nil || len(st.people) == 0 || isWordRune(block.PrecendingCharacter()) {
		return nil
	}
	line, seg := block.PeekLine()
	if len(line) < 2 || line[0] != '@' || len(st.found) >= MaxMentions {
		return nil
	}
	var id int64
	n := 0
	namePrefixes(string(line[1:]), func(p string) {
		if pid, ok := st.people[p]; ok {
			id, n = pid, len(p)
		}
	})
	if n == 0 {
		return nil
	}
	link := ast.NewLink()
	link.Destination = []byte("/u/" + strconv.FormatInt(id, 10))
	link.AppendChild(link, ast.NewTextSegment(text.NewSegment(seg.Start, seg.Start+1+n)))
	block.Advance(1 + n)
	st.found = append(st.found, id)
	return link
}

// RenderMentions is Render with mentions of people linked; it returns the ids
// of those actually linked (not those in code), each once, in order.
func (r *Renderer) RenderMentions(src string, people People) (string, []int64, error) {
	if len(people) == 0 {
		html, err := r.Render(src)
		return html, nil, err
	}
	st := &mentionState{people: people}
	pc := parser.NewContext()
	pc.Set(mentionKey, st)
	html, err := r.render(src, parser.WithContext(pc))
	if err != nil {
		return "", nil, err
	}
	seen := map[int64]bool{}
	ids := []int64{}
	for _, id := range st.found {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return html, ids, nil
}

// RenderFieldMentions is RenderField with mentions (see RenderMentions).
func (r *Renderer) RenderFieldMentions(field, src string, people People) (string, []int64, error) {
	html, ids, err := r.RenderMentions(src, people)
	switch {
	case errors.Is(err, ErrTooLarge):
		return "", nil, apperr.Invalid(field, "err.body_complex")
	case err != nil:
		return "", nil, apperr.Invalid(field, "err.body_render")
	}
	return html, ids, nil
}
