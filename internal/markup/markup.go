// Package markup turns user Markdown into HTML that is safe to serve: goldmark with
// raw HTML off renders it, then a bluemonday policy built once removes anything
// script-capable. Rendering happens when text is written, never when it is read.
package markup

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/gwd-jst/forumjst/internal/apperr"
)

// Renderer is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	// renders counts Render calls, so tests can prove that a refused request
	// never reached the renderer (no timing needed).
	renders atomic.Int64
}

// ErrTooLarge: the source would render to more HTML than MaxOutput allows. Callers
// report it as a validation error on the text's field ("err.body_complex").
var ErrTooLarge = errors.New("rendered text too large")

// Output bound. Ordinary text renders to 1–3× its size; HTML escaping alone
// makes 5× ("&" → "&amp;"), tables of one-character cells about 5.5× and runs of
// short autolinks about 7×, so the ratio leaves room for those. What it refuses
// is amplification: 50 KB of ">" once stored 1.35 MB (27×), and even with
// nesting capped, short lines of 20 ">" each still make about 24×.
const (
	OutputRatio = 8
	OutputSlack = 16 << 10
)

// MaxOutput is the most HTML a source of srcLen bytes may render to.
func MaxOutput(srcLen int) int { return OutputRatio*srcLen + OutputSlack }

// localImage matches the only images we allow: the forum's own attachments,
// i.e. SPEC's ^/attachments/[0-9]+(/[^/?#]*)?$ narrowed so the optional file-name
// segment cannot be a dot segment ("..", "%2e%2e": browsers resolve those to
// /attachments/ or above) and cannot hold a backslash (read as "/") or whitespace.
// The segment must therefore start with something other than "." or "%2e",
// and nowhere hold an escaped slash or backslash (%2f, %5c): bluemonday
// re-serialises the URL and turns "%2f" into a real "/", which would add a
// path segment (found by FuzzRender: "/attachments/0/0%2f\xda").
var localImage = regexp.MustCompile(
	`^/attachments/[0-9]+(/` +
		`([^/?#\\\s.%]|%([013-46-9A-Fa-f][0-9A-Fa-f]|2[0-9A-Da-d]|5[0-9ABD-Fabd-f]))` + // first: no "." nor %2e
		`([^/?#\\\s%]|%([013-46-9A-Fa-f][0-9A-Fa-f]|2[0-9A-Ea-e]|5[0-9ABD-Fabd-f]))*` + // then no %2f, %5c
		`)?$`)

// New builds the Markdown engine and the sanitizer policy.
func New() *Renderer {
	md := goldmark.New(
		// The default parser, but with block quotes and lists that stop nesting
		// at MaxNesting (see nesting.go): goldmark's time grows with the square of
		// the depth (50,000 ">" took a second) and every level is HTML.
		goldmark.WithParser(boundedParser()),
		goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
		// No html.WithUnsafe(): raw HTML in the source is dropped by goldmark itself.
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)

	// Built from an empty policy rather than UGCPolicy, which allows id attributes
	// (ids let users clobber DOM names; SPEC §7 drops them).
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowElements("p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "thead", "tbody", "tr", "th", "td", "sup", "sub")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]+$`)).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	p.AllowAttrs("href").OnElements("a")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoReferrerOnLinks(false)
	// Remote images would leak every reader's address to a third party.
	p.AllowAttrs("src").Matching(localImage).OnElements("img")
	// No title on <a>: a link whose href is rejected would survive as <a title="…">
	// without href and so without rel (bluemonday adds rel only next to an href).
	p.AllowAttrs("alt", "title").OnElements("img")
	return &Renderer{md: md, policy: p}
}

// Render converts Markdown source to sanitized HTML. Source that would render to
// more than MaxOutput(len(src)) bytes is refused with ErrTooLarge, as soon as
// goldmark has written that much (the sanitizer never sees it).
func (r *Renderer) Render(src string) (string, error) { return r.render(src) }

func (r *Renderer) render(src string, opts ...parser.ParseOption) (string, error) {
	r.renders.Add(1)
	limit := MaxOutput(len(src))
	w := &cappedBuffer{max: limit}
	if err := r.md.Convert([]byte(src), w, opts...); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return "", ErrTooLarge
		}
		return "", fmt.Errorf("render markdown: %w", err)
	}
	out := addUGCRel(r.policy.SanitizeBytes(w.buf.Bytes()))
	if len(out) > limit {
		return "", ErrTooLarge
	}
	return string(out), nil
}

// RenderField is Render for a service checking user input: a source that would
// render too large is a validation error on field ("err.body_complex"), any
// other failure "err.body_render". Services call it only after existence,
// permission, mute, lock and rate have been checked: rendering is the
// expensive part of a write.
func (r *Renderer) RenderField(field, src string) (string, error) {
	html, err := r.Render(src)
	switch {
	case errors.Is(err, ErrTooLarge):
		return "", apperr.Invalid(field, "err.body_complex")
	case err != nil:
		return "", apperr.Invalid(field, "err.body_render")
	}
	return html, nil
}

// Renders is how many times Render was called (for tests).
func (r *Renderer) Renders() int64 { return r.renders.Load() }

// cappedBuffer fails the write that would take it past max, which stops goldmark.
type cappedBuffer struct {
	buf bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		return 0, ErrTooLarge
	}
	return c.buf.Write(p)
}

func (c *cappedBuffer) WriteString(s string) (int, error) {
	if c.buf.Len()+len(s) > c.max {
		return 0, ErrTooLarge
	}
	return c.buf.WriteString(s)
}

// bluemonday can add rel="nofollow" but not the full "nofollow ugc noopener" we want,
// so we rewrite the attribute it produced on every link.
var relNofollow = []byte(`rel="nofollow"`)

func addUGCRel(b []byte) []byte {
	return bytes.ReplaceAll(b, relNofollow, []byte(`rel="nofollow ugc noopener"`))
}
