package loadtest

import "fmt"

// bodies are the Markdown sources of the seeded posts: a handful of distinct
// texts, from a one-liner to a long post with a list, links, a quote and a
// table, rendered once with internal/markup and reused.
var bodies = []string{
	`Dziękuję, to bardzo pomocne. U nas wygląda to podobnie.`,

	`Zgadzam się z przedmówcą. Warto jeszcze sprawdzić, czy **arkusz organizacyjny** uwzględnia godziny
z art. 42 Karty Nauczyciela — w zeszłym roku kilka gmin miało z tym problem przy zatwierdzaniu.`,

	`Dzień dobry,

czy ktoś z Państwa przygotowywał już **informację o stanie realizacji zadań oświatowych** według
nowego wzoru? Interesuje mnie głównie część dotycząca wyników egzaminów i tego, jak pokazać
porównanie z poprzednimi latami, żeby rada gminy nie utonęła w tabelach.

Pozdrawiam,
Agnieszka`,

	`Podsyłam link do materiałów z ostatniego szkolenia:
[prezentacja o subwencji oświatowej](https://gwd.example.pl/materialy/subwencja-2026.pdf).

Najważniejsze wnioski:

- wagi dla uczniów w szkołach na wsi nie zmieniają się w tym roku;
- **dodatek za dowozy** liczymy od liczby uczniów faktycznie dowożonych, nie uprawnionych;
- korekta subwencji w październiku — warto wcześniej zweryfikować dane w SIO.`,

	`> Czy ktoś ma dobry wzór regulaminu dowozu uczniów niepełnosprawnych?

Mamy regulamin przyjęty uchwałą w 2024 roku, sprawdził się dobrze. Kluczowe było doprecyzowanie,
kiedy rodzic dowozi dziecko sam i jak liczymy zwrot kosztów (wzór z rozporządzenia, iloczyn
odległości i stawki). Mogę przesłać wersję edytowalną — proszę o kontakt przez profil.`,

	`## Podsumowanie spotkania GWD z 12 marca

Dziękuję wszystkim za udział. Krótko, co ustaliliśmy:

1. **Diagnoza potrzeb** — każda gmina uzupełnia ankietę do końca miesiąca.
2. Wspólne szkolenie dla dyrektorów szkół z planowania budżetu zadaniowego w maju.
3. Wymiana doświadczeń dotyczących *sieci szkół* — kolejne spotkanie w Łomiankach.

Materiały i lista obecności są w zakładce spotkania. Jeśli ktoś ma uwagi do protokołu,
proszę pisać w tym wątku do piątku.`,

	`Odpowiadając na pytanie o koszty utrzymania budynków: u nas w gminie **koszt ogrzewania**
w przeliczeniu na ucznia wzrósł o ok. 18% rok do roku, głównie w dwóch najstarszych szkołach.
Rozważamy termomodernizację z programu regionalnego, ale wkład własny jest wysoki.

| Szkoła | Uczniowie | Koszt ogrzewania (zł) |
|---|---:|---:|
| SP w Brzózce | 143 | 212 000 |
| SP w Zalesiu | 87 | 168 500 |
| ZS w Kamionce | 301 | 254 300 |

Czy ktoś korzystał z doradztwa energetycznego w ramach WFOŚiGW?`,

	`Bardzo dobre pytanie. Z naszych doświadczeń wynika, że **rodzice** chętniej angażują się
w konsultacje, gdy spotkanie odbywa się w szkole, a nie w urzędzie, i gdy dostają materiały
wcześniej. W tym roku zrobiliśmy też krótką ankietę online — zwrot był ok. 40%, czyli znacznie
więcej niż z ankiet papierowych. Wyniki opublikowaliśmy na stronie gminy, co też pomogło
w budowaniu zaufania.`,

	`Krótka informacja organizacyjna: w przyszłym tygodniu nie będzie mnie w urzędzie,
w sprawach pilnych proszę kontaktować się z panią Katarzyną z wydziału oświaty (tel. w stopce).`,

	`Wracając do tematu **monitorowania jakości usług edukacyjnych** — przygotowaliśmy zestaw
wskaźników, które co roku pokazujemy radzie:

- średnie wyniki egzaminu ósmoklasisty na tle powiatu i województwa;
- odsetek uczniów objętych pomocą psychologiczno-pedagogiczną;
- liczba uczniów przypadających na oddział oraz na etat nauczyciela;
- wydatki bieżące na ucznia z podziałem na źródła finansowania;
- udział uczniów w zajęciach dodatkowych i konkursach.

Pełne zestawienie jest w [arkuszu wskaźników](https://gwd.example.pl/wskazniki), można kopiować.
Będę wdzięczna za uwagi, zwłaszcza od gmin miejskich, bo nasze dane są typowo wiejskie.`,

	`Dziękuję za podsumowanie. Jedna uwaga do punktu drugiego: szkolenie z budżetu zadaniowego
warto zrobić **przed** przygotowaniem projektu budżetu, czyli najpóźniej we wrześniu. W maju
dyrektorzy będą zajęci rekrutacją i arkuszami.`,

	`### Pytanie o wsparcie uczniów szczególnie uzdolnionych

Szukamy przykładów dobrych praktyk z mniejszych gmin. U nas w szkołach jest po kilku takich
uczniów i trudno zebrać grupę na zajęcia rozwijające. Czy ktoś organizuje zajęcia
**międzyszkolne** albo współpracuje z uczelnią?

Znam program [„Zdolni z Pomorza”](https://gwd.example.pl/zdolni), ale on jest wojewódzki.
Zastanawiamy się nad czymś w rodzaju:

- wspólnej grupy dla 3–4 szkół, zajęcia w soboty;
- stypendium gminnego za osiągnięcia (uchwała rady);
- mentoringu nauczycieli z liceum powiatowego.

Będę wdzięczny za każdą wskazówkę, także o tym, co **nie** zadziałało.`,
}

// postingBody is what the posting benchmark sends: about 1 KB of Polish Markdown
// with bold text, a list and a link; n makes every post distinct.
func postingBody(worker int, n int64) string {
	return fmt.Sprintf(`Dzień dobry,

dziękuję za dotychczasowe wpisy. Po naradzie z dyrektorami szkół proponuję, żebyśmy na
najbliższym spotkaniu GWD omówili **plan sieci szkół na lata 2027–2030** oraz wspólne
zasady dowozu uczniów. Zebrałem najważniejsze sprawy:

- aktualizacja prognozy demograficznej (dane z ewidencji ludności, stan na 31 grudnia);
- **koszty utrzymania** małych szkół filialnych w porównaniu z kosztem dowozu;
- możliwość wspólnego zamówienia usług przewozowych przez kilka gmin;
- konsultacje z radami rodziców i związkami zawodowymi — harmonogram;
- **opinia kuratorium** i terminy uchwał intencyjnych.

Wzór analizy, z którego korzystaliśmy w zeszłym roku, jest tutaj:
[analiza sieci szkół – wzór](https://gwd.example.pl/materialy/siec-szkol-wzor.xlsx).
Proszę o uzupełnienie danych swojej gminy do piątku, wtedy przygotuję zestawienie zbiorcze
i roześlę je przed spotkaniem, żeby każdy mógł się przygotować.

Pozdrawiam serdecznie,
uczestnik %d (wpis %d)`, worker, n)
}

var (
	firstNames = []string{"Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Joanna", "Magdalena",
		"Elżbieta", "Monika", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Marcin", "Michał", "Grzegorz",
		"Jerzy", "Łukasz", "Wojciech", "Zbigniew", "Józef", "Dorota", "Beata", "Jolanta", "Urszula", "Grażyna"}
	lastNames = []string{"Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając", "Król", "Wróbel", "Dudek",
		"Pawlak", "Sikora", "Baran", "Duda", "Szewczyk", "Michalak", "Walczak", "Stępień", "Pietrzak", "Kaczmarek",
		"Grabowski", "Żak", "Łuczak", "Ślusarczyk", "Gołąb", "Wąs", "Jóźwiak", "Kołodziej", "Bąk", "Kubiak"}
	jobTitles = []string{"Inspektor ds. oświaty", "Kierownik referatu oświaty", "Skarbnik gminy", "Sekretarz gminy",
		"Dyrektor CUW", "Główna księgowa CUW", "Wójt", "Zastępca burmistrza", "Specjalista ds. dowozów", "Naczelnik wydziału edukacji"}
	places = []string{"Brzózka", "Zalesie", "Kamionka", "Łomianki", "Żółkiewka", "Sędziszów", "Wola Mała", "Grębów",
		"Jeżów", "Łęki Szlacheckie", "Trzcianka", "Ostrówek", "Świerczów", "Nowa Dęba", "Radomyśl", "Kęty", "Żabno",
		"Ciężkowice", "Dąbrowa", "Mszana", "Ślesin", "Górzno", "Łabiszyn", "Pątnów", "Bełchatów", "Czersk", "Gniew",
		"Złotów", "Kórnik", "Pszczew", "Wąsosz", "Rajgród", "Sejny", "Biała Rawska", "Przasnysz", "Opinogóra",
		"Bieliny", "Łagów", "Pińczów", "Włoszczowa"}
	voivodeships = []string{"mazowieckie", "podkarpackie", "lubelskie", "śląskie", "wielkopolskie", "pomorskie",
		"małopolskie", "łódzkie", "świętokrzyskie", "podlaskie"}
	topics = []string{"Diagnoza potrzeb edukacyjnych", "Subwencja oświatowa na 2027 rok", "Dowóz uczniów do szkół",
		"Arkusze organizacyjne – terminy", "Sieć szkół i przedszkoli", "Budżet zadaniowy w oświacie",
		"Wynagrodzenia nauczycieli i średnie z art. 30", "Termomodernizacja budynków szkolnych",
		"Pomoc psychologiczno-pedagogiczna", "Uczniowie z Ukrainy – organizacja nauki", "Rekrutacja do przedszkoli",
		"Monitorowanie jakości usług edukacyjnych", "Konsultacje z rodzicami", "Doskonalenie zawodowe nauczycieli",
		"Stypendia dla uczniów zdolnych", "Centrum usług wspólnych – doświadczenia", "Informacja o stanie realizacji zadań oświatowych",
		"Zwrot kosztów dowozu przez rodziców", "Likwidacja szkoły filialnej – procedura", "Żywienie w szkołach",
		"Dotacje dla przedszkoli niepublicznych", "Świetlice szkolne po lekcjach", "Kontrola RIO w oświacie",
		"Awans zawodowy nauczycieli – zmiany", "Wspólne zamówienia usług przewozowych", "Egzamin ósmoklasisty – wyniki",
		"Cyfryzacja szkół i sprzęt", "Bezpieczeństwo w szkołach", "Współpraca z dyrektorami szkół", "Plan spotkań GWD"}
)

func threadTitle(i int) string {
	t := topics[i%len(topics)]
	switch i % 4 {
	case 1:
		return t + " – " + places[(i/4)%len(places)]
	case 2:
		return t + " (pytanie)"
	case 3:
		return t + ": doświadczenia gmin"
	}
	return t
}
