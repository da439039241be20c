// Package markup turns user Markdown into HTML that is safe to serve: goldmark with
// raw HTML off renders it, then a bluemonday policy built once removes anything
// script-capable. Rendering happens when text is written, never when it is read.
package markup

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// Renderer is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// localImage matches the only images we allow: the forum's own attachments,
// i.e. SPEC's ^/attachments/[0-9]+(/[^/?#]*)?$ narrowed so the optional file-name
// segment cannot be a dot segment ("..", "%2e%2e": browsers resolve those to
// /attachments/ or above) and cannot hold a backslash (read as "/") or whitespace.
// The segment must therefore start with something other than "." or "%2e".
var localImage = regexp.MustCompile(
	`^/attachments/[0-9]+(/([^/?#\\\s.%]|%[013-9A-Fa-f][0-9A-Fa-f]|%2[0-9A-DFa-df])[^/?#\\\s]*)?$`)

// New builds the Markdown engine and the sanitizer policy.
func New() *Renderer {
	md := goldmark.New(
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

// Render converts Markdown source to sanitized HTML.
func (r *Renderer) Render(src string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	return string(addUGCRel(out)), nil
}

// bluemonday can add rel="nofollow" but not the full "nofollow ugc noopener" we want,
// so we rewrite the attribute it produced on every link.
var relNofollow = []byte(`rel="nofollow"`)

func addUGCRel(b []byte) []byte {
	return bytes.ReplaceAll(b, relNofollow, []byte(`rel="nofollow ugc noopener"`))
}
