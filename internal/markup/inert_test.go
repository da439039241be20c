package markup

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/unicode/norm"
)

// This file holds the independent oracle used by the XSS corpus test and by
// FuzzRender: it parses rendered output with a real HTML5 parser (the same
// algorithm browsers use) and checks the resulting tree against allowlists
// written from SPEC §7, not from the bluemonday policy in markup.go, so that a
// loosened policy cannot make its own test pass.

// allowedAttrs lists every element that may appear in rendered output and the
// attributes each may carry.
var allowedAttrs = map[string]map[string]bool{
	"p": {}, "br": {}, "hr": {}, "strong": {}, "em": {}, "del": {}, "s": {},
	"code": {"class": true}, "pre": {}, "blockquote": {},
	"ul": {}, "ol": {"start": true}, "li": {},
	"h1": {}, "h2": {}, "h3": {}, "h4": {}, "h5": {}, "h6": {},
	"table": {}, "thead": {}, "tbody": {}, "tr": {},
	"th": {"align": true}, "td": {"align": true},
	"sup": {}, "sub": {},
	"a":   {"href": true, "rel": true, "title": true},
	"img": {"src": true, "alt": true, "title": true},
}

var (
	// specImage is the attachment pattern from the spec, deliberately not the
	// localImage variable of markup.go.
	specImage   = regexp.MustCompile(`^/attachments/[0-9]+(/[^/?#]*)?$`)
	codeClass   = regexp.MustCompile(`^language-[A-Za-z0-9_+-]+$`)
	olStart     = regexp.MustCompile(`^[0-9]+$`)
	cellAlign   = regexp.MustCompile(`^(left|right|center)$`)
	allowedURLs = map[string]bool{"http": true, "https": true, "mailto": true}
)

const wantRel = "nofollow ugc noopener"

// checkInert fails t with one message per violation found in rendered HTML.
func checkInert(t testing.TB, out string) {
	t.Helper()
	for _, v := range inertViolations(out) {
		t.Errorf("not inert: %s\noutput: %q", v, out)
	}
}

// inertViolations returns a description of everything in out that is not on the
// allowlists; nil means out is inert. It has no dependency on testing so that the
// fuzz target and the corpus test share it.
func inertViolations(out string) []string {
	// Posts are embedded inside a <div> of the page body, so parse in that context.
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(out), ctx)
	if err != nil {
		return []string{"html parse: " + err.Error()}
	}
	var vs []string
	add := func(format string, args ...any) { vs = append(vs, fmt.Sprintf(format, args...)) }
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			// Text is inert by construction.
		case html.ElementNode:
			checkElement(n, add)
		case html.CommentNode:
			// Comments can carry IE conditional-comment tricks; the sanitizer strips them.
			add("comment node %q", n.Data)
		default:
			add("unexpected node type %d (%q)", n.Type, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return vs
}

func checkElement(n *html.Node, add func(string, ...any)) {
	name := n.Data
	if n.Namespace != "" {
		add("foreign-content element <%s:%s>", n.Namespace, name)
		return
	}
	allowed, ok := allowedAttrs[name]
	if !ok {
		add("element <%s> not allowed", name)
	}
	var rel *string
	for i := range n.Attr {
		a := &n.Attr[i]
		key := strings.ToLower(a.Key)
		switch {
		case a.Namespace != "":
			add("<%s> has namespaced attribute %s:%s", name, a.Namespace, a.Key)
			continue
		case key == "id", key == "style", strings.HasPrefix(key, "on"):
			add("<%s> has forbidden attribute %s=%q", name, key, a.Val)
			continue
		case !allowed[key]:
			add("<%s> has attribute %s=%q not on its allowlist", name, key, a.Val)
			continue
		}
		switch name + "." + key {
		case "a.href":
			if why := unsafeURL(a.Val); why != "" {
				add("<a href=%q>: %s", a.Val, why)
			}
		case "a.rel":
			rel = &a.Val
		case "img.src":
			if why := unsafeImage(a.Val); why != "" {
				add("<img src=%q>: %s", a.Val, why)
			}
		case "code.class":
			if !codeClass.MatchString(a.Val) {
				add("<code class=%q> is not language-*", a.Val)
			}
		case "ol.start":
			if !olStart.MatchString(a.Val) {
				add("<ol start=%q> is not a number", a.Val)
			}
		case "th.align", "td.align":
			if !cellAlign.MatchString(a.Val) {
				add("<%s align=%q> is not left/right/center", name, a.Val)
			}
		}
	}
	if name == "a" && (rel == nil || *rel != wantRel) {
		got := "none"
		if rel != nil {
			got = fmt.Sprintf("%q", *rel)
		}
		add("<a> must carry rel=%q, has %s", wantRel, got)
	}
}

// normalizeURL undoes what a browser undoes before it looks at a URL's scheme,
// and more. v comes from the HTML parser, so character references are already
// decoded exactly once, as a browser decodes them (decoding again would flag
// hrefs like "&#106;avascript:", which browsers read as the relative URL "&" plus
// a fragment). On top of that it removes all whitespace, control and format
// characters (tab, newline, NUL, zero-width joiners, BOM, bidi marks, U+FFFD),
// folds look-alike characters (fullwidth ｊ → j, ： → :) and lower-cases.
func normalizeURL(v string) string {
	v = strings.Map(func(r rune) rune {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.IsSpace(r) ||
			unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, v)
	return strings.ToLower(norm.NFKC.String(v))
}

// unsafeURL returns why an href value is unacceptable, or "" if it is an
// http(s) or mailto URL or a relative reference without a scheme.
func unsafeURL(v string) string {
	n := normalizeURL(v)
	// A scheme is whatever precedes the first ':' when no '/', '?' or '#' comes
	// first (WHATWG URL parsing would reject some of these as schemes, but treating
	// them as one is the stricter reading).
	// An empty one (":x") is not a scheme to any browser, since schemes must
	// start with a letter.
	i := strings.IndexAny(n, `:/?#\`)
	if i <= 0 || n[i] != ':' {
		return ""
	}
	if scheme := n[:i]; !allowedURLs[scheme] {
		return fmt.Sprintf("scheme %q not allowed", scheme)
	}
	return ""
}

// unsafeImage returns why an img src is unacceptable, or "" if it points into the
// forum's own attachments.
func unsafeImage(v string) string {
	if !specImage.MatchString(v) {
		return "not an /attachments/ URL"
	}
	// The pattern's last segment admits characters a browser would reinterpret.
	if strings.ContainsAny(v, "\\\t\n\r") {
		return "backslash or whitespace inside an attachment URL"
	}
	if n := normalizeURL(v); n != strings.ToLower(v) {
		return fmt.Sprintf("attachment URL changes under normalization to %q", n)
	}
	for seg := range strings.SplitSeq(v, "/") {
		// WHATWG URL parsing treats "%2e" like "." when spotting dot segments.
		if seg = strings.ReplaceAll(strings.ToLower(seg), "%2e", "."); seg == "." || seg == ".." {
			return "dot segment in attachment URL"
		}
	}
	return ""
}

// TestInertViolationsCatches makes sure the oracle itself rejects what it must;
// a checker that accepts everything would make every other test here vacuous.
func TestInertViolationsCatches(t *testing.T) {
	bad := []string{
		`<script>alert(1)</script>`,
		`<img src="/attachments/1/a.png" onerror="alert(1)">`,
		`<img src="https://evil.example/p.png">`,
		`<img src="//evil.example/attachments/1/p.png">`,
		`<img src="/attachments/1/..">`,
		`<img src="/attachments/1/%2E%2e">`,
		`<img src="/attachments/1/a\b.png">`,
		`<a href="javascript:alert(1)" rel="nofollow ugc noopener">x</a>`,
		`<a href="JaVa&#x09;ScRiPt&colon;alert(1)" rel="nofollow ugc noopener">x</a>`,
		`<a href="&#x0A;javascript:alert(1)" rel="nofollow ugc noopener">x</a>`,
		"<a href=\"java\u200bscript:alert(1)\" rel=\"nofollow ugc noopener\">x</a>",
		`<a href="ｊａｖａｓｃｒｉｐｔ：alert(1)" rel="nofollow ugc noopener">x</a>`,
		`<a href="data:text/html,x" rel="nofollow ugc noopener">x</a>`,
		`<a href="vbscript:msgbox(1)" rel="nofollow ugc noopener">x</a>`,
		`<a href="https://ok.example">no rel</a>`,
		`<a href="https://ok.example" rel="nofollow">weak rel</a>`,
		`<a title="t">no rel</a>`,
		`<h1 id="x">t</h1>`,
		`<p style="color:red">t</p>`,
		`<code class="x">t</code>`,
		`<ol start="1 onclick">`,
		`<table><tr><td align="justify">x</td></tr></table>`,
		`<svg><p>x</p></svg>`,
		`<math><mi>x</mi></math>`,
		`<!-- c -->`,
		`<span>x</span>`,
		`<iframe srcdoc="x"></iframe>`,
		`<form action="/x"><input></form>`,
	}
	for _, b := range bad {
		if len(inertViolations(b)) == 0 {
			t.Errorf("inertViolations(%q) found nothing", b)
		}
	}
	good := []string{
		"",
		"<p>zwykły tekst &lt;script&gt; ąęłńóśźż</p>\n",
		`<p><a href="https://ok.example/a?b=1#c" rel="nofollow ugc noopener" title="t">x</a></p>`,
		`<p><a href="/t/12#post-3" rel="nofollow ugc noopener">x</a> <a href="mailto:a@b.pl" rel="nofollow ugc noopener">m</a></p>`,
		`<p><img src="/attachments/12/plan.png" alt="plan" title="t"><img src="/attachments/7"></p>`,
		`<pre><code class="language-go">x</code></pre><ol start="3"><li>a</li></ol>`,
		// Browsers decode references once: this is the relative URL "&" + fragment.
		`<a href="&amp;#106;avascript:alert(1)" rel="nofollow ugc noopener">x</a>`,
		`<a href="&amp;#0:" rel="nofollow ugc noopener"></a>`,
		`<table><thead><tr><th align="left">a</th></tr></thead><tbody><tr><td align="center">1</td></tr></tbody></table>`,
	}
	for _, g := range good {
		if vs := inertViolations(g); len(vs) != 0 {
			t.Errorf("inertViolations(%q) = %q, want none", g, vs)
		}
	}
}
