package search

import (
	"strings"
	"testing"
	"time"
)

func TestParseBuildsSafeTSQuery(t *testing.T) {
	cases := []struct{ q, want string }{
		{"oswiata zlobek", "('oswiat':* | 'oswiac':*) & 'zlob':*"},
		{"Oświata ŻŁOBEK", "('oswiat':* | 'oswiac':*) & 'zlob':*"},
		{"szkołach", "'szkol':*"},
		{"Łódź", "'lodz':*"},
		{`"dowóz uczniów"`, "('dowoz':* <-> 'uczni':*)"},
		{`"szkoła w mieście"`, "('szkol':* <-> 'w' <-> 'miesc':*)"},
		{"budżet -subwencja", "('budzet':* | 'budzec':*) & !'subwencj':*"},
		{`transport -"dowóz uczniów"`, "('transport':* | 'transporc':*) & !('dowoz':* <-> 'uczni':*)"},
		{`"projekt budżetu"`, "(('projekt':* | 'projekc':*) <-> ('budzet':* | 'budzec':*))"},
		{"covid-19", "'covid':* & '19'"},
		{"a b c", ""},
		{`"`, ""},
		{`""""`, ""},
		{"-", ""},
		{"& | ! <-> :* ' \\", ""},
		{"it's", "'it'"},
		{strings.Repeat("słowo ", 30), strings.TrimSuffix(strings.Repeat("'slow':* & ", 10), " & ")},
	}
	for _, tc := range cases {
		if got := parse(tc.q).tsquery(); got != tc.want {
			t.Errorf("parse(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

// The words that bound a query's share of documents are its searched-for
// words one by one, phrases split, exclusions left out.
func TestWordsBoundTheQuery(t *testing.T) {
	got := strings.Join(parse(`"dowóz uczniów" budżet -subwencja`).words(), " ; ")
	if want := "'dowoz':* ; 'uczni':* ; ('budzet':* | 'budzec':*)"; got != want {
		t.Errorf("words = %q, want %q", got, want)
	}
}

func TestStem(t *testing.T) {
	for w, want := range map[string]string{"szkola": "szkol", "szkolach": "szkol", "szkoly": "szkol", "oswiaty": "oswiat",
		"uczniow": "uczni", "zlobek": "zlob", "zlobka": "zlob", "stolowce": "stolow", "stolowek": "stolow", "rada": "rada", "lodz": "lodz", "gminie": "gmin"} {
		if got := stem(w); got != want {
			t.Errorf("stem(%q) = %q, want %q", w, got, want)
		}
	}
}

// A snippet escapes what the author wrote and adds nothing but <mark>.
func TestSnippetEscapesThenMarks(t *testing.T) {
	hl := parse("szkoła").highlights()
	got, _ := snippet(`<script>alert(1)</script> Nasze **szkoły** & "przedszkola" <b>Szkołach</b>`, hl)
	// Emphasis marks go; < and > stay, escaped.
	want := `&lt;script&gt;alert(1)&lt;/script&gt; Nasze <mark>szkoły</mark> &amp; &#34;przedszkola&#34; &lt;b&gt;<mark>Szkołach</mark>&lt;/b&gt;`
	if got != want {
		t.Fatalf("snippet =\n%s\nwant\n%s", got, want)
	}
	// A comparison keeps its sign; only a quote's or a heading's marker at
	// the start of a line goes.
	got, _ = snippet("## Wyniki\n> Cytat o szkole\n  > dalej\nWynik > 30% w szkołach, #1 w powiecie", hl)
	want = `Wyniki Cytat o <mark>szkole</mark> dalej Wynik &gt; 30% w <mark>szkołach</mark>, #1 w powiecie`
	if got != want {
		t.Fatalf("snippet =\n%s\nwant\n%s", got, want)
	}
	long := strings.Repeat("Ala ma kota. ", 40) + "Tu jest żłobek gminny. " + strings.Repeat("Koniec tekstu. ", 40)
	got, found := snippet(long, parse("zlobek").highlights())
	if !strings.Contains(got, "<mark>żłobek</mark>") || !strings.HasPrefix(got, "… ") || !strings.HasSuffix(got, " …") || !found {
		t.Fatalf("window around the hit: %s", got)
	}
	if n := len([]rune(got)); n > snippetRunes+40 {
		t.Fatalf("snippet of %d runes", n)
	}
}

// Malformed input is a validation error on q or a query with words, never a
// tsquery that PostgreSQL could refuse (the store test runs these for real).
func TestValidateMalformed(t *testing.T) {
	zone := time.UTC
	for _, q := range []string{"", "   ", `"`, "-", "--", "-szkoła", `-"a b"`, strings.Repeat("!?.,;", 100), "\xff\xfe", "a"} {
		_, _, err := validate(Input{Q: q}, zone)
		if err == nil {
			t.Errorf("%q: no validation error", q)
		}
	}
	for _, in := range []Input{{Q: "x1", Page: "0"}, {Q: "ab", Page: "51"}, {Q: "ab", Sort: "best"}, {Q: "ab", Type: "tournament"},
		{Q: "ab", Kind: "village"}, {Q: "ab", From: "yesterday"}, {Q: "ab", From: "2026-05-02", To: "2026-05-01"}, {Q: "ab", GroupID: "-1"}} {
		if _, _, err := validate(in, zone); err == nil {
			t.Errorf("%+v: no validation error", in)
		}
	}
	sq, _, err := validate(Input{Q: "ab", From: "2026-05-01", To: "2026-05-01", Page: "2", Sort: "newest"}, zone)
	if err != nil || !sq.Newest || sq.Offset != PerPage || sq.To.Sub(*sq.From) != 24*time.Hour {
		t.Fatalf("%+v %v", sq, err)
	}
}
