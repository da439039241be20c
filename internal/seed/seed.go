// Package seed fills a database with demo data that looks like the real programme:
// the three kinds of GWD with their real member JSTs, a common forum, one account
// per role, Polish threads tagged with support areas, one ended meeting with chat
// and notes, and one upcoming meeting. Running it again changes nothing.
package seed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// DemoPassword is the password of every demo account (printed by seed-demo).
const DemoPassword = "wspolna-nauka-2026"

// Login is one demo account, for the printout.
type Login struct {
	Email, Name, Role string
}

type jstDef struct{ name, kind, voivodeship, teryt string }

type groupDef struct {
	slug, name, kind, description string
	jst                           []jstDef
}

var groups = []groupDef{
	{"gwd-wiejskie", "GWD gmin wiejskich i miejsko-wiejskich", model.KindRural,
		"Grupa Wymiany Doświadczeń gmin wiejskich i miejsko-wiejskich.", []jstDef{
			{"Morawica", "gmina_miejsko_wiejska", "świętokrzyskie", "2604104"},
			{"Sępólno Krajeńskie", "gmina_miejsko_wiejska", "kujawsko-pomorskie", "0417044"},
			{"Koziegłowy", "gmina_miejsko_wiejska", "śląskie", "2406044"},
			{"Błonie", "gmina_miejsko_wiejska", "mazowieckie", "1405024"},
			{"Dopiewo", "gmina_wiejska", "wielkopolskie", "3021042"},
			{"Lubicz", "gmina_wiejska", "kujawsko-pomorskie", "0415052"},
			{"Długosiodło", "gmina_wiejska", "mazowieckie", "1435022"},
			{"Bogatynia", "gmina_miejsko_wiejska", "dolnośląskie", "0225014"},
		}},
	{"gwd-miejskie", "GWD gmin miejskich", model.KindUrban,
		"Grupa Wymiany Doświadczeń gmin miejskich i miast na prawach powiatu.", []jstDef{
			{"Kutno", "gmina_miejska", "łódzkie", "1005011"},
			{"Dzierżoniów", "gmina_miejska", "dolnośląskie", "0202011"},
			{"Lublin", "miasto_na_prawach_powiatu", "lubelskie", "0663011"},
			{"Bydgoszcz", "miasto_na_prawach_powiatu", "kujawsko-pomorskie", "0461011"},
			{"Poznań", "miasto_na_prawach_powiatu", "wielkopolskie", "3064011"},
			{"Goleniów", "gmina_miejsko_wiejska", "zachodniopomorskie", "3205034"},
		}},
	{"gwd-powiaty", "GWD powiatów", model.KindCounty,
		"Grupa Wymiany Doświadczeń powiatów.", []jstDef{
			{"Powiat nowosolski", "powiat", "lubuskie", ""},
			{"Powiat kutnowski", "powiat", "łódzkie", ""},
			{"Powiat bocheński", "powiat", "małopolskie", ""},
			{"Powiat gnieźnieński", "powiat", "wielkopolskie", ""},
			{"Powiat pułtuski", "powiat", "mazowieckie", ""},
		}},
	{"forum-ogolne", "Forum ogólne", model.KindCommon,
		"Sprawy wspólne dla wszystkich uczestników programu.", nil},
}

type userDef struct {
	email, name, title, jst, role string
	groupSlug, groupRole          string
}

// The named accounts: one per role, printed for the demo.
var people = []userDef{
	{"admin@forum-jst.example", "Administrator Forum", "Administrator systemu", "", model.RoleAdmin, "", ""},
	{"doradca@forum-jst.example", "Ewa Nowicka", "Koordynatorka programu", "", model.RoleStaff, "", ""},
	{"moderator@forum-jst.example", "Marek Zieliński", "Doradca GWD", "", model.RoleMember, "gwd-wiejskie", model.GroupModerator},
	{"k.wojcik@morawica.example", "Katarzyna Wójcik", "Kierowniczka Referatu Oświaty", "Morawica", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"obserwator@blonie.example", "Joanna Lewandowska", "Inspektorka ds. oświaty", "Błonie", model.RoleMember, "gwd-wiejskie", model.GroupObserver},
	{"p.mazur@kutno.example", "Piotr Mazur", "Naczelnik Wydziału Edukacji", "Kutno", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"a.dabrowska@nowasol.example", "Agnieszka Dąbrowska", "Dyrektorka Wydziału Oświaty", "Powiat nowosolski", model.RoleMember, "gwd-powiaty", model.GroupMember},
}

// Further delegates so that every group has a realistic member list.
var delegates = []userDef{
	{"t.kaczmarek@dopiewo.example", "Tomasz Kaczmarek", "Zastępca Wójta", "Dopiewo", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"m.krajewska@sepolno.example", "Monika Krajewska", "Skarbnik Gminy", "Sępólno Krajeńskie", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"r.nowak@kozieglowy.example", "Robert Nowak", "Dyrektor Zespołu Obsługi Szkół", "Koziegłowy", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"b.szymanska@lubicz.example", "Beata Szymańska", "Kierowniczka GZEAS", "Lubicz", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"j.pawlak@dlugosiodlo.example", "Jan Pawlak", "Wójt Gminy", "Długosiodło", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"s.kowalska@bogatynia.example", "Sylwia Kowalska", "Kierowniczka Referatu Oświaty", "Bogatynia", model.RoleMember, "gwd-wiejskie", model.GroupMember},
	{"d.grabowska@dzierzoniow.example", "Dorota Grabowska", "Zastępczyni Burmistrza", "Dzierżoniów", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"k.sadowski@lublin.example", "Krzysztof Sadowski", "Dyrektor Wydziału Oświaty i Wychowania", "Lublin", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"i.michalska@bydgoszcz.example", "Iwona Michalska", "Zastępczyni Dyrektora Wydziału Edukacji", "Bydgoszcz", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"w.jankowski@poznan.example", "Wojciech Jankowski", "Radny, Komisja Oświaty", "Poznań", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"e.wrobel@goleniow.example", "Elżbieta Wróbel", "Kierowniczka Wydziału Oświaty", "Goleniów", model.RoleMember, "gwd-miejskie", model.GroupMember},
	{"l.kowalczyk@kutnowski.example", "Łukasz Kowalczyk", "Naczelnik Wydziału Edukacji", "Powiat kutnowski", model.RoleMember, "gwd-powiaty", model.GroupMember},
	{"h.zajac@bochnia.example", "Halina Zając", "Członkini Zarządu Powiatu", "Powiat bocheński", model.RoleMember, "gwd-powiaty", model.GroupMember},
	{"g.krol@gniezno.example", "Grzegorz Król", "Inspektor ds. oświaty", "Powiat gnieźnieński", model.RoleMember, "gwd-powiaty", model.GroupMember},
}

// Run seeds the database and returns the demo logins.
func Run(ctx context.Context, db *sqlx.DB, md *markup.Renderer) ([]Login, error) {
	s := &seeder{db: db, md: md, jst: map[string]int64{}, groups: map[string]int64{}, users: map[string]int64{}}
	// The demo data is written before anyone follows it live: nothing to announce.
	err := store.InTx(ctx, store.NewDB(db, topic.Discard{}), func(tx *store.Tx) error {
		tx.Quiet()
		s.tx = tx
		// One seed at a time, even if two `make run`s start together.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(4242001)`); err != nil {
			return fmt.Errorf("seed lock: %w", err)
		}
		steps := []func(context.Context) error{s.organisations, s.accounts, s.threads, s.meetings, s.practices, s.tournaments, s.reviews}
		for _, step := range steps {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Login
	for _, p := range people {
		role := p.role
		if p.groupRole != "" {
			role = p.groupRole + " (" + p.groupSlug + ")"
		}
		out = append(out, Login{Email: p.email, Name: p.name, Role: role})
	}
	return out, nil
}

type seeder struct {
	db     *sqlx.DB
	tx     *store.Tx
	md     *markup.Renderer
	jst    map[string]int64
	groups map[string]int64
	users  map[string]int64
}

func (s *seeder) organisations(ctx context.Context) error {
	for _, g := range groups {
		grp, err := store.GetGroupBySlug(ctx, s.tx, g.slug)
		if errors.Is(err, store.ErrNotFound) {
			grp, err = store.CreateGroup(ctx, s.tx, store.NewGroup{Name: g.name, Slug: g.slug, Kind: g.kind, Description: g.description})
		}
		if err != nil {
			return fmt.Errorf("seed group %s: %w", g.slug, err)
		}
		s.groups[g.slug] = grp.ID
		for _, j := range g.jst {
			found, err := store.FindJST(ctx, s.tx, j.name, j.kind)
			if errors.Is(err, store.ErrNotFound) {
				var teryt *string
				if j.teryt != "" {
					teryt = &j.teryt
				}
				found, err = store.CreateJST(ctx, s.tx, store.NewJST{Name: j.name, Kind: j.kind, Voivodeship: j.voivodeship, TERYT: teryt})
			}
			if err != nil {
				return fmt.Errorf("seed jst %s: %w", j.name, err)
			}
			s.jst[j.name] = found.ID
		}
	}
	return nil
}

func (s *seeder) accounts(ctx context.Context) error {
	hash, err := accounts.HashPassword(DemoPassword, accounts.DefaultArgon2)
	if err != nil {
		return err
	}
	for _, p := range append(append([]userDef{}, people...), delegates...) {
		u, err := store.GetUserByEmail(ctx, s.tx, p.email)
		if errors.Is(err, store.ErrNotFound) {
			var jst *int64
			if id, ok := s.jst[p.jst]; ok {
				jst = &id
			}
			var id int64
			id, err = store.CreateUser(ctx, s.tx, store.NewUser{Email: p.email, Name: p.name, JobTitle: p.title, JSTID: jst, Role: p.role, PasswordHash: hash})
			u.ID = id
		}
		if err != nil {
			return fmt.Errorf("seed user %s: %w", p.email, err)
		}
		s.users[p.email] = u.ID
		if p.groupSlug != "" {
			if _, err := store.PutMembership(ctx, s.tx, u.ID, s.groups[p.groupSlug], p.groupRole); err != nil {
				return err
			}
		}
	}
	return nil
}

type postDef struct {
	author string
	body   string
}

type threadDef struct {
	group  string
	title  string
	areas  []string
	pinned bool
	posts  []postDef
}

var threads = []threadDef{
	{"gwd-wiejskie", "Jak przygotować diagnozę potrzeb oświatowych gminy?",
		[]string{"Analizowanie potrzeb i planowanie realizacji założonej wizji rozwoju lokalnego systemu oświaty", "Zarządzanie oświatą na poziomie organu prowadzącego"}, false, []postDef{
			{"k.wojcik@morawica.example", "Przed następną sesją mamy przygotować diagnozę potrzeb. Od czego zaczynaliście?\n\nU nas pierwszy krok to zestawienie danych z **SIO** i prognoza demograficzna na 6 lat."},
			{"t.kaczmarek@dopiewo.example", "My zaczęliśmy od rozmów z dyrektorami – każdy dostał krótką ankietę:\n\n1. liczba oddziałów i uczniów w ostatnich 5 latach,\n2. potrzeby remontowe,\n3. braki kadrowe.\n\nDopiero potem dane demograficzne."},
			{"moderator@forum-jst.example", "Dobry kierunek. Proszę pamiętać, że diagnoza ma kończyć się **rekomendacjami** – nie tylko opisem stanu. Wzór tabeli rekomendacji omówimy na sesji."},
			{"m.krajewska@sepolno.example", "Z perspektywy skarbnika dorzucę: warto od razu policzyć koszt utrzymania ucznia w każdej szkole. To ułatwia rozmowę z radą."},
		}},
	{"gwd-wiejskie", "Subwencja oświatowa 2027 – jak planujecie budżet szkół?",
		[]string{"Planowanie budżetowe"}, false, []postDef{
			{"m.krajewska@sepolno.example", "Czy ktoś ma już szacunki części oświatowej subwencji na 2027 r.? Zastanawiamy się, jak ująć podwyżki dla nauczycieli w projekcie budżetu."},
			{"r.nowak@kozieglowy.example", "Przyjmujemy ostrożny wariant i rezerwę celową. Szczegóły wrzucę po sesji budżetowej rady."},
		}},
	{"gwd-wiejskie", "Dowozy uczniów – doświadczenia z przetargów",
		[]string{"Gospodarowanie zasobami materialnymi systemu oświaty"}, false, []postDef{
			{"b.szymanska@lubicz.example", "W tym roku w przetargu na dowozy wpłynęła tylko jedna oferta, o 40% droższa. Jak to rozwiązujecie?"},
			{"j.pawlak@dlugosiodlo.example", "Część tras obsługujemy własnym autobusem gminnym – przy dłuższej perspektywie wychodzi taniej. Chętnie podzielę się kalkulacją."},
			{"k.wojcik@morawica.example", "U nas pomogło podzielenie zamówienia na części (osobno każda trasa)."},
		}},
	{"gwd-wiejskie", "Żłobek w budynku po szkole – zadanie oświaty czy opieki?",
		[]string{"Gospodarowanie zasobami materialnymi systemu oświaty"}, false, []postDef{
			{"t.kaczmarek@dopiewo.example", "Po wygaszeniu małej szkoły zostaje budynek. U nas rada chce tam otworzyć żłobek gminny. Czy ktoś prowadzi żłobek w strukturze oświaty?"},
			{"k.wojcik@morawica.example", "Żłobki to nie oświata w sensie ustawy – u nas żłobek jest osobną jednostką, a szkoła tylko wynajmuje mu część budynku."},
		}},
	{"gwd-miejskie", "Żłobki miejskie a wydział oświaty",
		[]string{"Zarządzanie oświatą na poziomie organu prowadzącego"}, false, []postDef{
			{"p.mazur@kutno.example", "Czy w waszych miastach żłobki podlegają wydziałowi oświaty, czy spraw społecznych?"},
		}},
	{"gwd-miejskie", "Monitorowanie wyników egzaminu ósmoklasisty – jakie wskaźniki?",
		[]string{"Monitorowanie jakości usług edukacyjnych"}, false, []postDef{
			{"p.mazur@kutno.example", "Jakie wskaźniki poza średnim wynikiem śledzicie? Myślimy o **edukacyjnej wartości dodanej** i odsetku uczniów poniżej 30%."},
			{"k.sadowski@lublin.example", "W Lublinie raport dla rady zawiera też porównanie z gminami o podobnej wielkości – dane są w raportach OKE."},
		}},
	{"gwd-powiaty", "Współpraca z dyrektorami szkół ponadpodstawowych",
		[]string{"Rola dyrektora i relacje z organem prowadzącym"}, false, []postDef{
			{"a.dabrowska@nowasol.example", "Jak często spotykacie się z dyrektorami szkół ponadpodstawowych? U nas to narada raz w kwartale, ale dyrektorzy chcieliby częściej."},
			{"h.zajac@bochnia.example", "Raz w miesiącu krótkie spotkanie online, raz w semestrze narada w starostwie. Sprawdza się."},
		}},
	{"forum-ogolne", "Witamy na Forum Współpracy JST",
		[]string{"Zarządzanie oświatą na poziomie organu prowadzącego"}, true, []postDef{
			{"doradca@forum-jst.example", "Witamy wszystkich uczestników programu!\n\nTo miejsce na rozmowy **między sesjami** GWD. Zasady:\n\n- piszemy pod imieniem i nazwiskiem,\n- dzielimy się doświadczeniem, nie danymi osobowymi uczniów,\n- pytania techniczne kierujemy do zespołu programu."},
		}},
}

func (s *seeder) threads(ctx context.Context) error {
	for gi, slug := range []string{"gwd-wiejskie", "gwd-miejskie", "gwd-powiaty", "forum-ogolne"} {
		gid := s.groups[slug]
		n, err := store.CountThreads(ctx, s.tx, gid)
		if err != nil {
			return err
		}
		if n > 0 {
			continue // already seeded
		}
		base := time.Now().Add(-time.Duration(20-gi) * 24 * time.Hour)
		for ti, t := range threads {
			if t.group != slug {
				continue
			}
			at := base.Add(time.Duration(ti) * 26 * time.Hour)
			tid, err := store.CreateThread(ctx, s.tx, store.NewThread{GroupID: gid, Title: t.title, AuthorID: s.users[t.posts[0].author], At: at})
			if err != nil {
				return err
			}
			var areaIDs []int64
			for _, a := range t.areas {
				area, err := store.FindAreaByName(ctx, s.tx, a)
				if err != nil {
					return fmt.Errorf("seed area %q: %w", a, err)
				}
				areaIDs = append(areaIDs, area.ID)
			}
			if err := store.SetThreadAreas(ctx, s.tx, tid, areaIDs); err != nil {
				return err
			}
			if t.pinned {
				if _, err := s.tx.ExecContext(ctx, `UPDATE threads SET pinned = true WHERE id = $1`, tid); err != nil {
					return fmt.Errorf("pin seeded thread: %w", err)
				}
			}
			for pi, p := range t.posts {
				html, err := s.md.Render(p.body)
				if err != nil {
					return err
				}
				if _, _, err := store.CreatePost(ctx, s.tx, store.NewPost{ThreadID: tid, AuthorID: s.users[p.author], Body: p.body,
					BodyHTML: html, At: at.Add(time.Duration(pi) * 3 * time.Hour)}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *seeder) meetings(ctx context.Context) error {
	gid := s.groups["gwd-wiejskie"]
	n, err := store.CountMeetings(ctx, s.tx, gid)
	if err != nil || n > 0 {
		return err
	}
	warsaw, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return err
	}
	day := func(offsetDays, hour int) time.Time {
		d := time.Now().In(warsaw).AddDate(0, 0, offsetDays)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, warsaw)
	}
	mod := s.users["moderator@forum-jst.example"]

	pastAgenda := "**Dzień 1**\n\n- 10:00 Powitanie w Urzędzie Gminy Morawica\n- 10:30 Planowanie sieci szkół – przykład gminy gospodarza\n- 13:00 Wizyta w Szkole Podstawowej\n\n**Dzień 2**\n\n- 9:00 Praca nad diagnozą potrzeb\n- 12:00 Podsumowanie i zadania na kolejną sesję"
	past, err := s.meeting(ctx, store.NewMeeting{GroupID: gid, Title: "Sesja 3: Planowanie sieci szkół", StartsAt: day(-35, 10), EndsAt: day(-34, 14),
		Location: "Urząd Gminy Morawica", Agenda: pastAgenda, CreatedBy: mod})
	if err != nil {
		return err
	}
	if _, err := store.SetMeetingStatus(ctx, s.tx, past.ID, "live"); err != nil {
		return err
	}
	chat := []postDef{
		{"moderator@forum-jst.example", "Dzień dobry, zaczynamy czat sesji 3. Pytania do prezentacji proszę pisać tutaj."},
		{"k.wojcik@morawica.example", "Witamy w Morawicy! Prezentacja o sieci szkół będzie dostępna w notatkach."},
		{"t.kaczmarek@dopiewo.example", "Jak liczyliście koszt dowozu po zmianie obwodów?"},
		{"k.wojcik@morawica.example", "Koszt na ucznia dla każdej trasy, potem porównanie wariantów – pokażę tabelę po przerwie."},
		{"m.krajewska@sepolno.example", "Czy rada gminy miała wgląd w warianty przed konsultacjami?"},
		{"k.wojcik@morawica.example", "Tak, komisja oświaty dostała wszystkie trzy warianty miesiąc wcześniej."},
		{"moderator@forum-jst.example", "Dziękuję wszystkim. Zadanie na sesję 4: szkic diagnozy potrzeb własnej gminy."},
	}
	for i, c := range chat {
		html, err := s.md.Render(c.body)
		if err != nil {
			return err
		}
		if _, err := store.InsertChatMessage(ctx, s.tx, store.NewChatMessage{MeetingID: past.ID, AuthorID: s.users[c.author],
			ClientID: uuid.NewString(), Body: c.body, BodyHTML: html, At: day(-35, 10).Add(time.Duration(30+i*7) * time.Minute)}); err != nil {
			return err
		}
	}
	if _, err := store.SetMeetingStatus(ctx, s.tx, past.ID, "ended"); err != nil {
		return err
	}
	noteBody := "## Najważniejsze ustalenia\n\n1. Sieć szkół planujemy w horyzoncie 6 lat, na podstawie prognozy demograficznej.\n2. Każdy wariant zmiany obwodów ma policzony koszt dowozu na ucznia.\n3. Rada gminy dostaje warianty przed konsultacjami społecznymi.\n4. Budynek wygaszanej szkoły: oświata oddaje go na żłobek gminny (przykład Dopiewa).\n\n## Zadania na sesję 4\n\n- szkic diagnozy potrzeb (tabela rekomendacji),\n- propozycja dobrej praktyki z własnej gminy."
	noteHTML, err := s.md.Render(noteBody)
	if err != nil {
		return err
	}
	if _, err := store.CreateNote(ctx, s.tx, store.NewNote{MeetingID: past.ID, AuthorID: mod, Title: "Notatka z sesji 3", Body: noteBody, BodyHTML: noteHTML}); err != nil {
		return err
	}

	nextAgenda := "**Dzień 1**\n\n- 10:00 Powitanie w Gminie Dopiewo\n- 10:30 Budżet oświaty: subwencja, dotacje, wydatki własne\n- 14:00 Wizyta w szkole\n\n**Dzień 2**\n\n- 9:00 Prezentacja szkiców diagnoz\n- 12:00 Ranking propozycji dobrych praktyk"
	_, err = s.meeting(ctx, store.NewMeeting{GroupID: gid, Title: "Sesja 4: Budżet oświaty", StartsAt: day(21, 10), EndsAt: day(22, 14),
		Location: "Urząd Gminy Dopiewo", Agenda: nextAgenda, CreatedBy: mod})
	return err
}

func (s *seeder) meeting(ctx context.Context, m store.NewMeeting) (model.Meeting, error) {
	html, err := s.md.Render(m.Agenda)
	if err != nil {
		return model.Meeting{}, err
	}
	m.AgendaHTML = html
	return store.CreateMeeting(ctx, s.tx, m)
}

// reviews puts one material of the training programme up for review (issue
// 15 item 3), open to the three GWD groups, with comments, a reply and a
// staff response. It has no draft document: the seed writes no files (the
// upload directory is the server's); staff upload one on the material's page.
func (s *seeder) reviews(ctx context.Context) error {
	const title = "Program szkolenia – moduł 2: Planowanie budżetowe"
	var n int
	if err := s.tx.GetContext(ctx, &n, `SELECT count(*) FROM reviews WHERE title = $1`, title); err != nil || n > 0 {
		return err
	}
	staff := s.users["doradca@forum-jst.example"]
	desc := "Projekt modułu 2 programu szkolenia dla JST. Prosimy o ocenę każdej sekcji: czy jest **jasna**, **wymaga zmian** czy jest **niejasna**, i o konkretne propozycje. Uwagi zbiera zespół programu i przekazuje ORE."
	descHTML, err := s.md.Render(desc)
	if err != nil {
		return err
	}
	id, err := store.InsertReview(ctx, s.tx, store.NewReview{Title: title, Description: desc, DescriptionHTML: descHTML,
		Deadline: time.Now().AddDate(0, 0, 30), AuthorID: staff})
	if err != nil {
		return err
	}
	if err := store.SetReviewGroups(ctx, s.tx, id, []int64{s.groups["gwd-wiejskie"], s.groups["gwd-miejskie"], s.groups["gwd-powiaty"]}); err != nil {
		return err
	}
	type commentDef struct {
		author, rating, body string
		reply                *commentDef
		response, reason     string
	}
	sections := []struct {
		number, title, body string
		key                 []int64
		comments            []commentDef
	}{
		{"2.1", "Subwencja oświatowa i jej algorytm", "Uczestnik poznaje zasady podziału części oświatowej subwencji ogólnej: wagi, standard A i liczbę uczniów przeliczeniowych.\n\n**Efekty uczenia się:**\n\n- wyjaśnia, od czego zależy kwota subwencji gminy,\n- porównuje subwencję z wydatkami bieżącymi na oświatę.", []int64{2, 1},
			[]commentDef{
				{author: "k.wojcik@morawica.example", rating: "needs_changes", body: "Brakuje przykładu liczenia uczniów przeliczeniowych dla małej szkoły wiejskiej – to u nas najważniejsze.",
					reply:    &commentDef{author: "t.kaczmarek@dopiewo.example", body: "Popieram. Przykład z wagą dla szkół w gminach do 5 tys. mieszkańców bardzo by pomógł."},
					response: "accepted", reason: "Dodamy przykład z gminy wiejskiej w wersji 2."},
				{author: "p.mazur@kutno.example", rating: "clear", body: "Sekcja czytelna, dobrze opisany algorytm."},
			}},
		{"2.2", "Wydatki bieżące i majątkowe", "Jak planować wydatki bieżące (wynagrodzenia, utrzymanie budynków) i majątkowe (inwestycje) w budżecie oświaty; rola klasyfikacji budżetowej (dział 801).", []int64{2, 2},
			[]commentDef{
				{author: "a.dabrowska@nowasol.example", rating: "unclear", body: "Nie wiadomo, czy moduł obejmuje też szkoły ponadpodstawowe prowadzone przez powiat."},
				{author: "i.michalska@bydgoszcz.example", rating: "needs_changes", body: "Proponuję dodać tabelę z typowymi paragrafami klasyfikacji.", response: "rejected", reason: "Tabela paragrafów jest w materiałach uzupełniających do modułu 4."},
			}},
		{"2.3", "Budżet zadaniowy w oświacie", "Budżet zadaniowy jako narzędzie zarządzania: cele, mierniki, koszty zadań. Przykłady z gmin uczestniczących w programie.", []int64{2, 3}, nil},
	}
	for _, sec := range sections {
		html, err := s.md.Render(sec.body)
		if err != nil {
			return err
		}
		sid, err := store.InsertReviewSection(ctx, s.tx, store.NewReviewSection{ReviewID: id, Number: sec.number, SortKey: sec.key,
			Title: sec.title, Body: sec.body, BodyHTML: html})
		if err != nil {
			return err
		}
		for _, c := range sec.comments {
			html, err := s.md.Render(c.body)
			if err != nil {
				return err
			}
			rating := c.rating
			cid, err := store.InsertReviewComment(ctx, s.tx, store.NewReviewComment{SectionID: sid, AuthorID: s.users[c.author], Rating: &rating, Body: c.body, BodyHTML: html})
			if err != nil {
				return err
			}
			if c.reply != nil {
				rhtml, err := s.md.Render(c.reply.body)
				if err != nil {
					return err
				}
				if _, err := store.InsertReviewComment(ctx, s.tx, store.NewReviewComment{SectionID: sid, AuthorID: s.users[c.reply.author], ReplyTo: &cid,
					Body: c.reply.body, BodyHTML: rhtml}); err != nil {
					return err
				}
			}
			if c.response != "" {
				if err := store.RespondReviewComment(ctx, s.tx, cid, c.response, c.reason, staff); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
