package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/store"
)

// practiceDef is a published good practice of the demo (issue 15).
type practiceDef struct {
	group, jst, author, title                            string
	areas                                                []string
	problem, solution, results, costs, transfer, contact string
	daysAgo                                              int
}

var demoPractices = []practiceDef{
	{group: "gwd-miejskie", jst: "Bydgoszcz", author: "i.michalska@bydgoszcz.example",
		title: "Nowa szkoła podstawowa na rozwijającym się osiedlu – od prognozy do otwarcia",
		areas: []string{"Analizowanie potrzeb i planowanie realizacji założonej wizji rozwoju lokalnego systemu oświaty", "Gospodarowanie zasobami materialnymi systemu oświaty"},
		problem: "Na nowych osiedlach na obrzeżach miasta w ciągu pięciu lat przybyło ok. **2 400 dzieci w wieku szkolnym**. " +
			"Dwie najbliższe szkoły pracowały na dwie zmiany, a część uczniów dojeżdżała ponad 6 km.",
		solution: "Wydział Edukacji przygotował prognozę liczby uczniów na 10 lat (dane meldunkowe, PESEL, pozwolenia na budowę) i na jej podstawie " +
			"rada miasta przyjęła uchwałę o budowie nowej szkoły z salą gimnastyczną i przedszkolem.\n\n" +
			"- projekt i budowa w formule *zaprojektuj i wybuduj*,\n- nowy obwód szkoły ustalony po konsultacjach z radami osiedli,\n" +
			"- dyrektor powołany rok przed otwarciem, by zatrudnić kadrę i przygotować ofertę zajęć.",
		results: "- **28 oddziałów** i 650 miejsc dla uczniów, przedszkole na 150 dzieci,\n- koniec nauki zmianowej w dwóch sąsiednich szkołach,\n" +
			"- średni czas dojazdu ucznia skrócony z 25 do 8 minut,\n- 94% miejsc zajętych w pierwszym roku.",
		costs:    "Ok. **68 mln zł** (w tym 22 mln zł z Rządowego Funduszu Polski Ład), utrzymanie ok. 9,5 mln zł rocznie, pokryte w większości częścią oświatową subwencji.",
		transfer: "Kluczowe jest wczesne połączenie danych meldunkowych z planami zagospodarowania. Warto powołać dyrektora przed otwarciem i ustalić obwód przed rekrutacją, a nie w jej trakcie.",
		contact:  "Iwona Michalska, Zastępczyni Dyrektora Wydziału Edukacji, Urząd Miasta Bydgoszczy, i.michalska@bydgoszcz.example",
		daysAgo:  40},
	{group: "gwd-wiejskie", jst: "Bogatynia", author: "s.kowalska@bogatynia.example",
		title: "Boiska wielofunkcyjne przy szkołach otwarte dla mieszkańców",
		areas: []string{"Gospodarowanie zasobami materialnymi systemu oświaty", "Udział rodziców w planowaniu, realizacji i ocenie usług edukacyjnych"},
		problem: "Szkoły w gminie miały zniszczone boiska żużlowe, a dzieci z sołectw nie miały gdzie bezpiecznie grać po lekcjach. " +
			"Na lekcjach WF z boisk korzystało tylko ok. 40% uczniów – reszta ćwiczyła na korytarzach.",
		solution: "Gmina zmodernizowała boiska przy **pięciu szkołach** (nawierzchnia poliuretanowa, oświetlenie, piłkochwyty). " +
			"Po lekcjach i w wakacje boiska są otwarte dla mieszkańców, pod opieką animatorów sportu zatrudnionych przez gminny ośrodek sportu. " +
			"Harmonogram ustalają rady rodziców razem z sołtysami.",
		results: "- 100% uczniów ma WF na boisku od kwietnia do października,\n- ok. **1 100 osób miesięcznie** korzysta z boisk po lekcjach,\n" +
			"- 6 nowych drużyn młodzieżowych w gminnej lidze,\n- liczba aktów wandalizmu spadła z 14 do 2 rocznie dzięki animatorom.",
		costs:    "Modernizacja ok. 3,2 mln zł (60% dofinansowania z programu Sportowa Polska), animatorzy ok. 180 tys. zł rocznie z budżetu gminy.",
		transfer: "Sprawdza się w gminach z kilkoma szkołami w sołectwach. Regulamin korzystania i animator są ważniejsze niż sama nawierzchnia.",
		contact:  "Sylwia Kowalska, Kierowniczka Referatu Oświaty, Urząd Miasta i Gminy Bogatynia, s.kowalska@bogatynia.example",
		daysAgo:  25},
	{group: "gwd-powiaty", jst: "Powiat nowosolski", author: "a.dabrowska@nowasol.example",
		title:   "Powiatowe centrum doradztwa zawodowego dla szkół ponadpodstawowych",
		areas:   []string{"System wspomagania szkół – doskonalenie nauczycieli", "Rola dyrektora i relacje z organem prowadzącym"},
		problem: "Co trzeci absolwent szkół branżowych w powiecie nie podejmował pracy w wyuczonym zawodzie, a szkoły nie znały potrzeb lokalnych pracodawców.",
		solution: "Powiat utworzył przy poradni psychologiczno-pedagogicznej **centrum doradztwa zawodowego**: dwóch doradców obsługuje wszystkie szkoły, " +
			"prowadzi bazę praktyk u 45 pracodawców i co roku przygotowuje z urzędem pracy raport o zawodach deficytowych, który dyrektorzy biorą pod uwagę przy naborze.",
		results: "- odsetek absolwentów pracujących w zawodzie wzrósł z 58% do **74%** w trzy lata,\n- 3 nowe kierunki kształcenia uzgodnione z pracodawcami,\n" +
			"- 1 200 uczniów rocznie na indywidualnych konsultacjach.",
		costs:    "Ok. 260 tys. zł rocznie (etaty doradców i materiały); start współfinansowany z programu regionalnego.",
		transfer: "Wymaga porozumienia z urzędem pracy i stałego kontaktu z cechami rzemiosła. Dobrze zacząć od jednego branżowego kierunku.",
		contact:  "Agnieszka Dąbrowska, Dyrektorka Wydziału Oświaty, Starostwo Powiatowe w Nowej Soli, a.dabrowska@nowasol.example",
		daysAgo:  12},
}

// practices writes the published demo practices (once), each with its
// discussion thread in the authors' group.
func (s *seeder) practices(ctx context.Context) error {
	var n int
	if err := s.tx.GetContext(ctx, &n, `SELECT count(*) FROM practices`); err != nil {
		return fmt.Errorf("count practices: %w", err)
	}
	if n > 0 {
		return nil
	}
	staff := s.users["doradca@forum-jst.example"]
	for _, d := range demoPractices {
		src := map[string]string{"problem": d.problem, "solution": d.solution, "results": d.results, "costs": d.costs,
			"transfer": d.transfer, "contact": d.contact}
		html := map[string]string{}
		for k, v := range src {
			h, err := s.md.Render(v)
			if err != nil {
				return err
			}
			html[k] = h
		}
		at := time.Now().Add(-time.Duration(d.daysAgo) * 24 * time.Hour)
		author, gid := s.users[d.author], s.groups[d.group]
		var areaIDs []int64
		for _, a := range d.areas {
			area, err := store.FindAreaByName(ctx, s.tx, a)
			if err != nil {
				return fmt.Errorf("seed area %q: %w", a, err)
			}
			areaIDs = append(areaIDs, area.ID)
		}
		id, err := store.CreatePractice(ctx, s.tx, store.NewPractice{GroupID: gid, JSTID: s.jst[d.jst], AuthorID: author, Title: d.title,
			PracticeParts: store.PracticeParts{Problem: d.problem, ProblemHTML: html["problem"], Solution: d.solution, SolutionHTML: html["solution"],
				Results: d.results, ResultsHTML: html["results"], Costs: d.costs, CostsHTML: html["costs"], Transfer: d.transfer,
				TransferHTML: html["transfer"], Contact: d.contact, ContactHTML: html["contact"]}})
		if err != nil {
			return err
		}
		if err := store.SetPracticeAreas(ctx, s.tx, id, areaIDs); err != nil {
			return err
		}
		body, _ := json.Marshal(map[string]any{"jst_id": s.jst[d.jst], "areas": areaIDs, "problem": d.problem, "solution": d.solution,
			"results": d.results, "costs": d.costs, "transfer": d.transfer, "contact": d.contact})
		if err := store.InsertPracticeRevision(ctx, s.tx, store.PracticeRevision{PracticeID: id, Version: 1, Title: d.title, Body: body, EditorID: author}); err != nil {
			return err
		}
		tid, err := store.CreateThread(ctx, s.tx, store.NewThread{GroupID: gid, Title: d.title, AuthorID: author, At: at})
		if err != nil {
			return err
		}
		if err := store.SetThreadAreas(ctx, s.tx, tid, areaIDs); err != nil {
			return err
		}
		first := fmt.Sprintf("Wątek do dyskusji o dobrej praktyce [%s](/praktyki/%d).", d.title, id)
		fh, err := s.md.Render(first)
		if err != nil {
			return err
		}
		if _, _, err := store.CreatePost(ctx, s.tx, store.NewPost{ThreadID: tid, AuthorID: author, Body: first, BodyHTML: fh, At: at}); err != nil {
			return err
		}
		if _, err := s.tx.ExecContext(ctx, `
			UPDATE practices SET thread_id = $2, status = 'published', created_at = $3, updated_at = $4, published_at = $4 WHERE id = $1`,
			id, tid, at, at.Add(72*time.Hour)); err != nil {
			return fmt.Errorf("publish seeded practice: %w", err)
		}
		gidp := gid
		if err := store.AppendAudit(ctx, s.tx, store.NewAuditEntry{ActorID: staff, Action: "practice.publish", TargetType: "practice",
			TargetID: id, GroupID: &gidp, Details: map[string]any{"title": d.title, "from": "submitted"}}); err != nil {
			return err
		}
	}
	return nil
}
