package markup

import (
	"strings"
	"testing"
)

func TestRenderBasics(t *testing.T) {
	r := New()
	cases := []struct {
		name, in    string
		want, avoid []string
	}{
		{"bold", "**ważne**", []string{"<strong>ważne</strong>"}, nil},
		{"link gets ugc rel", "[strona](https://example.pl)", []string{`href="https://example.pl"`, `rel="nofollow ugc noopener"`}, nil},
		{"autolink", "zob. https://gwd.example.pl/x", []string{`<a href="https://gwd.example.pl/x"`}, nil},
		{"raw html dropped", "<script>alert(1)</script>\n\ntekst", []string{"tekst"}, []string{"<script"}},
		{"javascript url", "[x](javascript:alert(1))", nil, []string{"javascript:"}},
		{"remote image dropped", "![a](https://evil.example/p.png)", nil, []string{"evil.example"}},
		{"local image kept", "![plan](/attachments/12/plan.png)", []string{`src="/attachments/12/plan.png"`}, nil},
		{"heading ids dropped", "# Tytuł", []string{"<h1>Tytuł</h1>"}, []string{"id="}},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>", "<td>1</td>"}, nil},
		{"strikethrough", "~~stare~~", []string{"<del>stare</del>"}, nil},
		{"rejected link leaves plain text", "[klik](javascript:alert(1) \"tytuł\")", []string{"<p>klik</p>"}, []string{"<a", "tytuł"}},
		{"link title dropped", "[strona](https://example.pl \"tytuł\")", []string{`<a href="https://example.pl" rel="nofollow ugc noopener">strona</a>`}, []string{"title="}},
		{"image title kept", "![plan](/attachments/12/plan.png \"Plan\")", []string{`title="Plan"`}, nil},
		{"polish attachment name", "![ż](/attachments/3/żółw-ąę.png)", []string{`src="/attachments/3/%C5%BC%C3%B3%C5%82w-%C4%85%C4%99.png"`}, nil},
		{"attachment without name", "![a](/attachments/3)", []string{`src="/attachments/3"`}, nil},
		{"attachment dot segment dropped", "![a](/attachments/3/..) ![b](/attachments/3/%2e%2E)", nil, []string{"src="}},
		{"protocol-relative image dropped", "![a](//evil.example/attachments/1/p.png)", nil, []string{"src=", "evil"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Render(c.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render(%q) = %q, want it to contain %q", c.in, got, w)
				}
			}
			for _, a := range c.avoid {
				if strings.Contains(got, a) {
					t.Errorf("Render(%q) = %q, must not contain %q", c.in, got, a)
				}
			}
		})
	}
}
