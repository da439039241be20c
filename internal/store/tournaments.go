package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Tournament is a round of the tournament of good practices (issue 15).
type Tournament struct {
	ID             int64      `db:"id"`
	Title          string     `db:"title"`
	Description    string     `db:"description"`
	MaxEntries     int        `db:"max_entries"`
	VotingStartsAt time.Time  `db:"voting_starts_at"`
	VotingEndsAt   time.Time  `db:"voting_ends_at"`
	CreatedAt      time.Time  `db:"created_at"`
	ClosedAt       *time.Time `db:"closed_at"`
}

// NewTournament is a round as staff open it.
type NewTournament struct {
	Title          string
	Description    string
	MaxEntries     int
	VotingStartsAt time.Time
	VotingEndsAt   time.Time
	CreatedBy      int64
	GroupIDs       []int64
	Criteria       []NewCriterion
}

type NewCriterion struct {
	Name   string
	Weight float64
}

// TournamentGroup is a participating group.
type TournamentGroup struct {
	GroupID int64  `db:"group_id"`
	Name    string `db:"name"`
	Kind    string `db:"kind"`
	Entries int    `db:"entries"`
}

// Criterion is one scored aspect of an entry; Weight has two decimals.
type Criterion struct {
	ID       int64   `db:"id"`
	Position int     `db:"position"`
	Name     string  `db:"name"`
	Weight   float64 `db:"weight"`
}

// TournamentEntry is a practice entered into a round.
type TournamentEntry struct {
	ID            int64     `db:"id"`
	GroupID       int64     `db:"group_id"`
	GroupName     string    `db:"group_name"`
	GroupKind     string    `db:"group_kind"`
	PracticeID    int64     `db:"practice_id"`
	PracticeTitle string    `db:"practice_title"`
	JSTID         int64     `db:"jst_id"`
	JSTName       string    `db:"jst_name"`
	CreatedAt     time.Time `db:"created_at"`
	Ballots       int       `db:"ballots"`
}

// PracticeRef is what entering needs to know of a practice.
type PracticeRef struct {
	ID      int64  `db:"id"`
	GroupID int64  `db:"group_id"`
	JSTID   int64  `db:"jst_id"`
	Title   string `db:"title"`
	Status  string `db:"status"`
}

// CreateTournament stores a round with its groups and criteria (in the
// caller's unit of work).
func CreateTournament(ctx context.Context, q Q, t NewTournament) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "create tournament", `
		INSERT INTO tournaments (title, description, max_entries, voting_starts_at, voting_ends_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.Title, t.Description, t.MaxEntries, t.VotingStartsAt, t.VotingEndsAt, nullID(t.CreatedBy))
	if err != nil {
		return 0, err
	}
	for _, g := range t.GroupIDs {
		if _, err := q.ExecContext(ctx, `INSERT INTO tournament_groups (tournament_id, group_id) VALUES ($1, $2)`, id, g); err != nil {
			return 0, fmt.Errorf("add tournament group: %w", err)
		}
	}
	for i, c := range t.Criteria {
		if _, err := q.ExecContext(ctx, `INSERT INTO tournament_criteria (tournament_id, position, name, weight) VALUES ($1, $2, $3, $4)`,
			id, i+1, c.Name, c.Weight); err != nil {
			return 0, fmt.Errorf("add tournament criterion: %w", err)
		}
	}
	return id, nil
}

const tournamentCols = `t.id, t.title, t.description, t.max_entries, t.voting_starts_at, t.voting_ends_at, t.created_at, t.closed_at`

// GetTournament reads a round; lock takes its row lock (closing, voting).
func GetTournament(ctx context.Context, q Q, id int64, lock bool) (Tournament, error) {
	var out Tournament
	query := `SELECT ` + tournamentCols + ` FROM tournaments t WHERE t.id = $1`
	if lock {
		query += ` FOR SHARE`
	}
	err := one(ctx, q, &out, "get tournament", query, id)
	return out, err
}

// LockTournamentForClose takes the round's row exclusively: a ballot holds
// it shared, so a close waits for ballots in flight and none comes after.
func LockTournamentForClose(ctx context.Context, q Q, id int64) (Tournament, error) {
	var out Tournament
	err := one(ctx, q, &out, "lock tournament", `SELECT `+tournamentCols+` FROM tournaments t WHERE t.id = $1 FOR UPDATE`, id)
	return out, err
}

// ListTournaments lists rounds newest first: every round (userID 0, staff)
// or those in which one of the user's groups takes part.
func ListTournaments(ctx context.Context, q Q, userID int64, p Page) ([]Tournament, error) {
	out := []Tournament{}
	err := selectAll(ctx, q, &out, "list tournaments", `
		SELECT `+tournamentCols+` FROM tournaments t
		WHERE $1 = 0 OR EXISTS (
			SELECT 1 FROM tournament_groups tg JOIN memberships m ON m.group_id = tg.group_id
			WHERE tg.tournament_id = t.id AND m.user_id = $1)
		ORDER BY t.voting_starts_at DESC, t.id DESC
		LIMIT $2 OFFSET $3`, userID, p.Limit, p.Offset)
	return out, err
}

// TournamentGroups lists a round's groups with how many practices each entered.
func TournamentGroups(ctx context.Context, q Q, id int64) ([]TournamentGroup, error) {
	out := []TournamentGroup{}
	err := selectAll(ctx, q, &out, "list tournament groups", `
		SELECT g.id AS group_id, g.name, g.kind,
		       (SELECT count(*) FROM tournament_entries e WHERE e.tournament_id = tg.tournament_id AND e.group_id = g.id) AS entries
		FROM tournament_groups tg JOIN groups g ON g.id = tg.group_id
		WHERE tg.tournament_id = $1
		ORDER BY g.name COLLATE "pl-x-icu", g.id`, id)
	return out, err
}

// TournamentCriteria lists a round's criteria in their order.
func TournamentCriteria(ctx context.Context, q Q, id int64) ([]Criterion, error) {
	out := []Criterion{}
	err := selectAll(ctx, q, &out, "list tournament criteria", `
		SELECT id, position, name, weight FROM tournament_criteria WHERE tournament_id = $1 ORDER BY position`, id)
	return out, err
}

const entrySelect = `
	SELECT e.id, e.group_id, g.name AS group_name, g.kind AS group_kind, e.practice_id, p.title AS practice_title,
	       p.jst_id, j.name AS jst_name, e.created_at,
	       (SELECT count(*) FROM tournament_ballots b WHERE b.entry_id = e.id) AS ballots
	FROM tournament_entries e
	JOIN groups g ON g.id = e.group_id
	JOIN practices p ON p.id = e.practice_id
	JOIN jst j ON j.id = p.jst_id`

// TournamentEntries lists a round's entries in the order they were made.
// Ballots is an aggregate: the service shows it to staff only.
func TournamentEntries(ctx context.Context, q Q, id int64) ([]TournamentEntry, error) {
	out := []TournamentEntry{}
	err := selectAll(ctx, q, &out, "list tournament entries", entrySelect+` WHERE e.tournament_id = $1 ORDER BY e.id`, id)
	return out, err
}

// GetTournamentEntry reads one entry of a round.
func GetTournamentEntry(ctx context.Context, q Q, tournamentID, entryID int64) (TournamentEntry, error) {
	var out TournamentEntry
	err := one(ctx, q, &out, "get tournament entry", entrySelect+` WHERE e.tournament_id = $1 AND e.id = $2`, tournamentID, entryID)
	return out, err
}

// GetPracticeRef reads the core of a practice.
func GetPracticeRef(ctx context.Context, q Q, id int64) (PracticeRef, error) {
	var out PracticeRef
	err := one(ctx, q, &out, "get practice", `SELECT id, group_id, jst_id, title, status FROM practices WHERE id = $1`, id)
	return out, err
}

// EnterablePractices lists the published practices of these
// groups that are not in the round yet, by title.
func EnterablePractices(ctx context.Context, q Q, tournamentID int64, groupIDs []int64) ([]PracticeRef, error) {
	out := []PracticeRef{}
	err := selectAll(ctx, q, &out, "list enterable practices", `
		SELECT p.id, p.group_id, p.jst_id, p.title, p.status FROM practices p
		WHERE p.group_id = ANY($2) AND p.status = 'published'
		  AND NOT EXISTS (SELECT 1 FROM tournament_entries e WHERE e.tournament_id = $1 AND e.practice_id = p.id)
		ORDER BY p.title COLLATE "pl-x-icu", p.id`, tournamentID, pq.Array(groupIDs))
	return out, err
}

// LockTournamentGroup takes the row lock of a group's place in a round and
// counts its entries under it: two entries at once are ordered here, so the
// second sees the first and the limit holds. ErrNotFound: not a participant.
func LockTournamentGroup(ctx context.Context, q Q, tournamentID, groupID int64) (entries int, err error) {
	var ok int
	if err := one(ctx, q, &ok, "lock tournament group", `
		SELECT 1 FROM tournament_groups WHERE tournament_id = $1 AND group_id = $2 FOR UPDATE`, tournamentID, groupID); err != nil {
		return 0, err
	}
	err = one(ctx, q, &entries, "count tournament entries", `
		SELECT count(*) FROM tournament_entries WHERE tournament_id = $1 AND group_id = $2`, tournamentID, groupID)
	return entries, err
}

// CreateTournamentEntry enters a practice; a practice already in the round
// is a unique violation (tournament_entries_tournament_id_practice_id_key).
func CreateTournamentEntry(ctx context.Context, q Q, tournamentID, groupID, practiceID, userID int64) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "create tournament entry", `
		INSERT INTO tournament_entries (tournament_id, group_id, practice_id, entered_by) VALUES ($1, $2, $3, $4) RETURNING id`,
		tournamentID, groupID, practiceID, nullID(userID))
	return id, err
}

// PutBallot stores a voter's ballot on an entry, replacing an earlier one:
// one row per (entry, voter), its scores rewritten whole.
func PutBallot(ctx context.Context, q Q, entryID, voterID int64, scores map[int64]int) (time.Time, error) {
	var at time.Time
	if err := one(ctx, q, &at, "put ballot", `
		INSERT INTO tournament_ballots (entry_id, voter_id) VALUES ($1, $2)
		ON CONFLICT (entry_id, voter_id) DO UPDATE SET updated_at = now()
		RETURNING updated_at`, entryID, voterID); err != nil {
		return time.Time{}, err
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM tournament_scores WHERE entry_id = $1 AND voter_id = $2`, entryID, voterID); err != nil {
		return time.Time{}, fmt.Errorf("clear ballot scores: %w", err)
	}
	for c, s := range scores {
		if _, err := q.ExecContext(ctx, `INSERT INTO tournament_scores (entry_id, voter_id, criterion_id, score) VALUES ($1, $2, $3, $4)`,
			entryID, voterID, c, s); err != nil {
			return time.Time{}, fmt.Errorf("store ballot score: %w", err)
		}
	}
	return at, nil
}

// BallotScore is one score of one ballot; the voter is never part of it.
type BallotScore struct {
	EntryID     int64 `db:"entry_id"`
	CriterionID int64 `db:"criterion_id"`
	Score       int   `db:"score"`
}

// VoterScores is a voter's own ballots in a round (for their page only).
func VoterScores(ctx context.Context, q Q, tournamentID, voterID int64) ([]BallotScore, error) {
	out := []BallotScore{}
	err := selectAll(ctx, q, &out, "list own ballots", `
		SELECT s.entry_id, s.criterion_id, s.score
		FROM tournament_scores s JOIN tournament_entries e ON e.id = s.entry_id
		WHERE e.tournament_id = $1 AND s.voter_id = $2`, tournamentID, voterID)
	return out, err
}

// ScoreSum is the total of one criterion's scores on one entry, over its
// ballots: aggregates only, so no query of the results names a voter.
type ScoreSum struct {
	EntryID     int64 `db:"entry_id"`
	CriterionID int64 `db:"criterion_id"`
	Sum         int64 `db:"sum"`
	Count       int64 `db:"count"`
}

// TournamentScoreSums sums every entry's scores per criterion.
func TournamentScoreSums(ctx context.Context, q Q, tournamentID int64) ([]ScoreSum, error) {
	out := []ScoreSum{}
	err := selectAll(ctx, q, &out, "sum tournament scores", `
		SELECT s.entry_id, s.criterion_id, sum(s.score)::bigint AS sum, count(*) AS count
		FROM tournament_scores s JOIN tournament_entries e ON e.id = s.entry_id
		WHERE e.tournament_id = $1
		GROUP BY s.entry_id, s.criterion_id`, tournamentID)
	return out, err
}

// TournamentHead is what the live topic tournament:ID follows: whether the
// round is closed and each entry's ballot count.
type TournamentHead struct {
	Closed bool
	Counts map[int64]int
}

func GetTournamentHead(ctx context.Context, q Q, id int64) (TournamentHead, error) {
	var closed bool
	if err := one(ctx, q, &closed, "tournament head", `SELECT closed_at IS NOT NULL FROM tournaments WHERE id = $1`, id); err != nil {
		return TournamentHead{}, err
	}
	var rows []struct {
		EntryID int64 `db:"id"`
		Ballots int   `db:"ballots"`
	}
	if err := selectAll(ctx, q, &rows, "tournament ballot counts", `
		SELECT e.id, (SELECT count(*) FROM tournament_ballots b WHERE b.entry_id = e.id) AS ballots
		FROM tournament_entries e WHERE e.tournament_id = $1`, id); err != nil {
		return TournamentHead{}, err
	}
	h := TournamentHead{Closed: closed, Counts: make(map[int64]int, len(rows))}
	for _, r := range rows {
		h.Counts[r.EntryID] = r.Ballots
	}
	return h, nil
}

// CloseTournament marks a round closed (once).
func CloseTournament(ctx context.Context, q Q, id, by int64) error {
	return execOne(ctx, q, "close tournament", `
		UPDATE tournaments SET closed_at = now(), closed_by = $2 WHERE id = $1 AND closed_at IS NULL`, id, nullID(by))
}

// DeleteTournamentEntry withdraws an entry (it has no ballots: entries are
// withdrawn only before voting starts).
func DeleteTournamentEntry(ctx context.Context, q Q, tournamentID, entryID int64) error {
	return execOne(ctx, q, "delete tournament entry", `DELETE FROM tournament_entries WHERE tournament_id = $1 AND id = $2`, tournamentID, entryID)
}
