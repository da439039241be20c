package markup

import (
	"strings"
	"testing"
)

// typicalPost is a ~1.2 KB Polish forum post with a list, a link and a quote.
const typicalPost = `Dzień dobry wszystkim,

w nawiązaniu do wczorajszego zebrania przesyłam krótkie podsumowanie ustaleń. Proszę
o uwagi do końca tygodnia, żebyśmy mogli przygotować ostateczną wersję na stronę.

> Zarząd zobowiązał się przedstawić harmonogram prac porządkowych przed świętami,
> a skarbnik — zestawienie wydatków za ostatni kwartał.

Najważniejsze punkty:

- sprzątanie terenu przy świetlicy w sobotę **od 9:00**, zbiórka przy bramie;
- zakup nowych ławek (wstępna wycena: ok. 2 400 zł, szczegóły u pana Łukasza);
- naprawa oświetlenia na ścieżce przy stawie — zgłoszone do gminy;
- *zbiórka podpisów* pod wnioskiem o przejście dla pieszych.

Regulamin korzystania ze świetlicy jest dostępny tutaj:
[regulamin świetlicy](https://gwd.example.pl/regulamin-swietlicy), a pełny protokół
wrzucę jako załącznik, gdy tylko przewodniczący go podpisze. Jeśli ktoś chciałby
zgłosić dodatkowe sprawy na następne spotkanie, proszę pisać w tym wątku albo
bezpośrednio do mnie. Pamiętajcie też o zgłaszaniu uszkodzeń przez formularz.

Pozdrawiam serdecznie i do zobaczenia w sobotę,
Małgorzata Żółkiewska
`

func BenchmarkRender(b *testing.B) {
	r := New()
	if n := len(typicalPost); n < 1024 || n > 2048 {
		b.Fatalf("typicalPost is %d bytes, want 1–2 KB", n)
	}
	out, err := r.Render(typicalPost)
	if err != nil {
		b.Fatal(err)
	}
	for _, want := range []string{"<ul>", "<blockquote>", `rel="nofollow ugc noopener"`} {
		if !strings.Contains(out, want) {
			b.Fatalf("output lacks %s: %s", want, out)
		}
	}
	checkInert(b, out)
	b.SetBytes(int64(len(typicalPost)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(typicalPost); err != nil {
			b.Fatal(err)
		}
	}
}
