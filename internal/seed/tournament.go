package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/store"
)

// The tournament of good practices (issue 15): a closed round with ballots,
// so that `make run` shows a ranking, and a round open for voting.

type seedPractice struct{ title, jst, group, author string }

// The practices entered. The practice library's own seed may provide
// practices of its own; these are looked up by title and created (published,
// with only the core columns) when missing, so either seed may run first.
var tournamentPractices = []seedPractice{
	{"Wspólny dowóz uczniów do szkół gminy Dopiewo", "Dopiewo", "gwd-wiejskie", "t.kaczmarek@dopiewo.example"},
	{"Gminny program wsparcia uczniów zdolnych w Lubiczu", "Lubicz", "gwd-wiejskie", "b.szymanska@lubicz.example"},
	{"Nowa szkoła w Bydgoszczy projektowana z mieszkańcami", "Bydgoszcz", "gwd-miejskie", "i.michalska@bydgoszcz.example"},
	{"Budżet oświatowy Kutna otwarty dla dyrektorów szkół", "Kutno", "gwd-miejskie", "p.mazur@kutno.example"},
	{"Powiatowe centrum wspomagania szkół w Kutnie", "Powiat kutnowski", "gwd-powiaty", "l.kowalczyk@kutnowski.example"},
}

const seedRoundClosed = "Turniej dobrych praktyk 2026 – runda jesienna"
const seedRoundVoting = "Turniej dobrych praktyk 2026 – runda zimowa"

func (s *seeder) practiceID(ctx context.Context, p seedPractice) (int64, error) {
	var id int64
	err := s.tx.GetContext(ctx, &id, `SELECT id FROM practices WHERE title = $1 ORDER BY id LIMIT 1`, p.title)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.tx.GetContext(ctx, &id, `
			INSERT INTO practices (group_id, jst_id, author_id, title, status, published_at)
			VALUES ($1, $2, $3, $4, 'published', now()) RETURNING id`,
			s.groups[p.group], s.jst[p.jst], s.users[p.author], p.title)
	}
	if err != nil {
		return 0, fmt.Errorf("seed practice %q: %w", p.title, err)
	}
	return id, nil
}

func (s *seeder) tournaments(ctx context.Context) error {
	var n int
	if err := s.tx.GetContext(ctx, &n, `SELECT count(*) FROM tournaments WHERE title IN ($1, $2)`, seedRoundClosed, seedRoundVoting); err != nil || n > 0 {
		return err
	}
	practices := make([]int64, len(tournamentPractices))
	for i, p := range tournamentPractices {
		id, err := s.practiceID(ctx, p)
		if err != nil {
			return err
		}
		practices[i] = id
	}
	staff := s.users["doradca@forum-jst.example"]
	gids := []int64{s.groups["gwd-wiejskie"], s.groups["gwd-miejskie"], s.groups["gwd-powiaty"]}
	crits := []store.NewCriterion{{Name: "Skuteczność", Weight: 2}, {Name: "Koszt", Weight: 1}, {Name: "Możliwość przeniesienia", Weight: 1.5}}
	now := time.Now()

	closed, err := store.CreateTournament(ctx, s.tx, store.NewTournament{Title: seedRoundClosed,
		Description: "Pierwsza runda turnieju: każda grupa zgłasza do dwóch praktyk, a członkowie grup oceniają praktyki innych samorządów.",
		MaxEntries:  2, VotingStartsAt: now.AddDate(0, 0, -30), VotingEndsAt: now.AddDate(0, 0, -16), CreatedBy: staff, GroupIDs: gids, Criteria: crits})
	if err != nil {
		return err
	}
	entries := make([]int64, len(practices))
	for i, p := range tournamentPractices {
		if entries[i], err = store.CreateTournamentEntry(ctx, s.tx, closed, s.groups[p.group], practices[i], s.users[p.author]); err != nil {
			return err
		}
	}
	criteria, err := store.TournamentCriteria(ctx, s.tx, closed)
	if err != nil {
		return err
	}
	// Ballots: each voter scores the entries that are not their own JST's.
	voters := []struct {
		email  string
		scores [][3]int // per entry: Skuteczność, Koszt, Możliwość przeniesienia
	}{
		{"k.wojcik@morawica.example", [][3]int{{4, 3, 5}, {5, 4, 4}, {5, 2, 3}, {4, 4, 5}, {3, 4, 4}}},
		{"m.krajewska@sepolno.example", [][3]int{{5, 4, 4}, {4, 4, 3}, {4, 3, 3}, {5, 5, 4}, {4, 3, 4}}},
		{"p.mazur@kutno.example", [][3]int{{4, 4, 5}, {5, 3, 4}, {5, 3, 4}, {0, 0, 0}, {4, 5, 5}}},
		{"k.sadowski@lublin.example", [][3]int{{3, 4, 4}, {4, 3, 4}, {5, 2, 4}, {4, 4, 4}, {3, 3, 4}}},
		{"a.dabrowska@nowasol.example", [][3]int{{5, 5, 5}, {4, 4, 4}, {4, 3, 3}, {4, 5, 5}, {3, 3, 3}}},
		{"h.zajac@bochnia.example", [][3]int{{4, 4, 4}, {5, 4, 5}, {4, 3, 4}, {3, 4, 4}, {4, 4, 4}}},
	}
	for _, v := range voters {
		vid := s.users[v.email]
		var jst sql.NullInt64
		if err := s.tx.GetContext(ctx, &jst, `SELECT jst_id FROM users WHERE id = $1`, vid); err != nil {
			return err
		}
		for i, sc := range v.scores {
			if jst.Valid && jst.Int64 == s.jst[tournamentPractices[i].jst] {
				continue // never one's own JST's practice
			}
			ballot := map[int64]int{criteria[0].ID: sc[0], criteria[1].ID: sc[1], criteria[2].ID: sc[2]}
			if _, err := store.PutBallot(ctx, s.tx, entries[i], vid, ballot); err != nil {
				return err
			}
		}
	}
	if err := store.CloseTournament(ctx, s.tx, closed, staff); err != nil {
		return err
	}
	for _, a := range []string{"tournament.open", "tournament.close"} {
		if err := store.AppendAudit(ctx, s.tx, store.NewAuditEntry{ActorID: staff, Action: a, TargetType: "tournament", TargetID: closed,
			Details: map[string]any{"title": seedRoundClosed}}); err != nil {
			return err
		}
	}

	// A round open for voting, with two entries and no ballot yet.
	open, err := store.CreateTournament(ctx, s.tx, store.NewTournament{Title: seedRoundVoting,
		Description: "Druga runda: praktyki zarządzania zasobami oświaty.", MaxEntries: 1,
		VotingStartsAt: now.AddDate(0, 0, -1), VotingEndsAt: now.AddDate(0, 0, 13), CreatedBy: staff,
		GroupIDs: gids[:2], Criteria: crits})
	if err != nil {
		return err
	}
	for _, i := range []int{0, 2} {
		p := tournamentPractices[i]
		if _, err := store.CreateTournamentEntry(ctx, s.tx, open, s.groups[p.group], practices[i], s.users[p.author]); err != nil {
			return err
		}
	}
	return store.AppendAudit(ctx, s.tx, store.NewAuditEntry{ActorID: staff, Action: "tournament.open", TargetType: "tournament", TargetID: open,
		Details: map[string]any{"title": seedRoundVoting}})
}
