package markup

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// benignPolish are ordinary posts used as extra fuzz seeds, so that mutations
// start from realistic Markdown as well as from attacks.
var benignPolish = []string{
	"Zażółć gęślą jaźń — **ąęłńóśźż** i _ĄĘŁŃÓŚŹŻ_.",
	"# Zebranie zarządu\n\nW czwartek o 18:00 w świetlicy. Proszę o potwierdzenie.",
	"Lista zakupów:\n\n- mąka\n- jajka\n  - 10 sztuk\n- śmietana 18%\n\n1. najpierw sklep\n2. potem poczta",
	"| Imię | Kwota |\n|:-----|------:|\n| Łukasz | 12,50 zł |\n| Źdźisław | 7 zł |",
	"> Cytat z poprzedniego posta:\n> ~~stara cena~~ nowa cena\n\nZgadzam się.",
	"Zobacz https://gwd.example.pl/wątek/12 albo [regulamin](/regulamin \"Regulamin\") lub <kontakt@gwd.example.pl>.",
	"Plan budowy: ![plan](/attachments/41/plan-budowy.png \"Plan\")",
	"```go\nfmt.Println(\"cześć\")\n```\n\n`kod` i zwykły tekst",
	"Pierwsza linia\ndruga linia\n\n---\n\nStopka [1][przyp]\n\n[przyp]: https://example.pl/przypis",
}

// FuzzRender checks that no input, whether valid UTF-8 or not, makes Render panic,
// that valid UTF-8 never makes it fail except by being too large once rendered,
// and that whatever comes out is inert, within MaxOutput and nested at most
// MaxNesting deep.
//
//	go test -run '^$' -fuzz FuzzRender -fuzztime 3m ./internal/markup/
func FuzzRender(f *testing.F) {
	for _, v := range loadXSSCorpus(f) {
		f.Add(v.src)
	}
	for _, s := range benignPolish {
		f.Add(s)
	}
	f.Add(strings.Repeat(">", 100) + " a")
	f.Add(strings.Repeat("- ", 100) + "a")
	f.Add(strings.Repeat("> 1. ", 50) + "a")
	r := New()
	f.Fuzz(func(t *testing.T, src string) {
		out, err := r.Render(src)
		if errors.Is(err, ErrTooLarge) {
			return
		}
		if err != nil {
			if utf8.ValidString(src) {
				t.Fatalf("Render(%q) failed on valid UTF-8: %v", src, err)
			}
			return
		}
		if len(out) > MaxOutput(len(src)) {
			t.Fatalf("Render(%q) made %d bytes, over MaxOutput", src, len(out))
		}
		if d := maxDepth(out); d > MaxNesting {
			t.Fatalf("Render(%q) nested quotes and lists %d deep\noutput: %q", src, d, out)
		}
		if vs := inertViolations(out); len(vs) > 0 {
			t.Fatalf("Render(%q) is not inert\noutput: %q\nviolations:\n  %s", src, out, strings.Join(vs, "\n  "))
		}
	})
}
