// Package tournament is the tournament of good practices (issue 15 item 2):
// staff open a round with a voting period, the groups that take part, the
// number of practices each may enter and weighted criteria; members of those
// groups enter their own practices before voting opens and score every entry
// (0–5 per criterion, never their own JST's) while it is open; staff close
// the round and the ranking is published.
//
// Ballots are secret: nothing this package answers names who voted what,
// except a voter's own ballot to that voter. Staff see ballot counts per
// entry (also live, on topic tournament:ID) and the results at any time;
// members see the results once the round is closed.
package tournament

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Limits of a round as staff open it.
const (
	MaxCriteria    = 10
	maxDescription = 5000
	maxWeight      = 1000
	MaxScore       = 5
)

// Status of a round, from its dates and whether it was closed.
const (
	StatusEntries  = "entries"  // practices are entered; voting has not started
	StatusVoting   = "voting"   // the voting period is on
	StatusCounting = "counting" // voting ended; staff have not closed it yet
	StatusClosed   = "closed"   // results are published
)

// Errors a person can act on.
var (
	ErrVotingNotOpen = &apperr.Unprocessable{Code: "voting_not_open", Message: "voting in this round has not started yet"}
	ErrVotingEnded   = &apperr.Unprocessable{Code: "voting_ended", Message: "the voting period of this round is over"}
	ErrClosed        = &apperr.Unprocessable{Code: "tournament_closed", Message: "this round is closed"}
	ErrEntriesClosed = &apperr.Unprocessable{Code: "entries_closed", Message: "practices are entered only until voting starts"}
	ErrEntryLimit    = &apperr.Unprocessable{Code: "entry_limit", Message: "your group has entered as many practices as this round allows"}
	ErrOwnJST        = &apperr.Denied{Code: "own_jst", Message: "you do not vote on a practice of your own JST"}
	ErrAlreadyIn     = &apperr.Conflict{Code: "already_entered", Message: "this practice is already in the round"}
)

// Service owns tournament rounds. Safe for concurrent use.
type Service struct {
	db  *store.DB
	now func() time.Time
}

func New(db *sqlx.DB, announcer topic.Announcer) *Service {
	return &Service{db: store.NewDB(db, announcer), now: time.Now}
}

// Round is a round as the API shows it to the actor.
type Round struct {
	ID             int64       `json:"id"`
	Title          string      `json:"title"`
	Description    string      `json:"description"`
	MaxEntries     int         `json:"max_entries"`
	VotingStartsAt time.Time   `json:"voting_starts_at"`
	VotingEndsAt   time.Time   `json:"voting_ends_at"`
	CreatedAt      time.Time   `json:"created_at"`
	ClosedAt       *time.Time  `json:"closed_at"`
	Status         string      `json:"status"`
	Groups         []Group     `json:"groups"`
	Criteria       []Criterion `json:"criteria"`
	Entries        []Entry     `json:"entries"`
	// What the actor may do now.
	CanEnter   bool `json:"can_enter"`
	CanVote    bool `json:"can_vote"`
	CanClose   bool `json:"can_close"`
	HasResults bool `json:"results_visible"`
	// Staff: the round's aggregates (ballot counts per entry are on the entries).
	Staff bool `json:"-"`
}

// Summary is a round in a list.
type Summary struct {
	ID             int64      `json:"id"`
	Title          string     `json:"title"`
	VotingStartsAt time.Time  `json:"voting_starts_at"`
	VotingEndsAt   time.Time  `json:"voting_ends_at"`
	ClosedAt       *time.Time `json:"closed_at"`
	Status         string     `json:"status"`
}

type Group struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Entries int    `json:"entries"`
}

type Criterion struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

type JST struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Entry is a practice in a round. Ballots is set for staff only; MyBallot
// is the actor's own ballot (criterion id → score), nil if none.
type Entry struct {
	ID         int64     `json:"id"`
	PracticeID int64     `json:"practice_id"`
	Title      string    `json:"title"`
	GroupID    int64     `json:"group_id"`
	GroupName  string    `json:"group_name"`
	GroupKind  string    `json:"group_kind"`
	JST        JST       `json:"jst"`
	CreatedAt  time.Time `json:"created_at"`
	Ballots    *int      `json:"ballots,omitempty"`
	OwnJST     bool      `json:"own_jst"`
	// CanWithdraw: the actor may take the entry back (its group's member or
	// staff, before voting starts).
	CanWithdraw bool           `json:"can_withdraw"`
	MyBallot    map[string]int `json:"my_ballot,omitempty"`
	myScores    map[int64]int  // MyBallot by criterion id, for the pages
}

// MyScore is the actor's score on a criterion, or -1.
func (e Entry) MyScore(criterionID int64) int {
	if s, ok := e.myScores[criterionID]; ok {
		return s
	}
	return -1
}

// Ballot is the answer to a vote: the voter's own ballot.
type Ballot struct {
	TournamentID int64          `json:"tournament_id"`
	EntryID      int64          `json:"entry_id"`
	Scores       map[string]int `json:"scores"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// CriterionInput is one criterion of a new round.
type CriterionInput struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// Input is a round as staff open it.
type Input struct {
	Title          string           `json:"title"`
	Description    string           `json:"description"`
	MaxEntries     int              `json:"max_entries"`
	VotingStartsAt *time.Time       `json:"voting_starts_at"`
	VotingEndsAt   *time.Time       `json:"voting_ends_at"`
	GroupIDs       []int64          `json:"group_ids"`
	Criteria       []CriterionInput `json:"criteria"`
}

func (s *Service) status(t store.Tournament) string {
	now := s.now()
	switch {
	case t.ClosedAt != nil:
		return StatusClosed
	case now.Before(t.VotingStartsAt):
		return StatusEntries
	case now.Before(t.VotingEndsAt):
		return StatusVoting
	default:
		return StatusCounting
	}
}

func groupIDs(gs []store.TournamentGroup) []int64 {
	out := make([]int64, len(gs))
	for i, g := range gs {
		out[i] = g.GroupID
	}
	return out
}

// Validate checks a new round's input (also used by the form before its
// dates could be read).
func (s *Service) Validate(ctx context.Context, in *Input) error {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	v := &apperr.Validation{}
	if n := utf8.RuneCountInString(in.Title); n < 3 || n > 200 {
		v.Add("title", "err.title_length")
	}
	if utf8.RuneCountInString(in.Description) > maxDescription {
		v.Add("description", "err.too_long")
	}
	switch {
	case in.VotingStartsAt == nil:
		v.Add("voting_starts_at", "err.required")
	case in.VotingEndsAt == nil:
		v.Add("voting_ends_at", "err.required")
	case !in.VotingEndsAt.After(*in.VotingStartsAt):
		v.Add("voting_ends_at", "err.tournament_period")
	case !in.VotingEndsAt.After(s.now()):
		v.Add("voting_ends_at", "err.tournament_past")
	}
	if in.MaxEntries < 1 || in.MaxEntries > 20 {
		v.Add("max_entries", "err.tournament_max_entries")
	}
	if len(in.GroupIDs) == 0 {
		v.Add("group_ids", "err.tournament_groups")
	} else {
		ids := slices.Compact(slices.Sorted(slices.Values(in.GroupIDs)))
		found, err := store.ExistingGroupIDs(ctx, s.db, ids)
		if err != nil {
			return err
		}
		if len(found) != len(ids) {
			v.Add("group_ids", "err.invalid_choice")
		}
		in.GroupIDs = ids
	}
	var crits []CriterionInput
	seen := map[string]bool{}
	for i, c := range in.Criteria {
		c.Name = strings.TrimSpace(c.Name)
		field := "criteria." + strconv.Itoa(i)
		switch n := utf8.RuneCountInString(c.Name); {
		case n == 0 || n > 100:
			v.Add(field, "err.tournament_criterion_name")
		case seen[strings.ToLower(c.Name)]:
			v.Add(field, "err.tournament_criterion_twice")
		case !(c.Weight > 0) || c.Weight > maxWeight || math.Abs(math.Round(c.Weight*100)-c.Weight*100) > 1e-6:
			v.Add(field, "err.tournament_weight")
		}
		seen[strings.ToLower(c.Name)] = true
		crits = append(crits, c)
	}
	switch {
	case len(crits) == 0:
		v.Add("criteria", "err.tournament_criteria")
	case len(crits) > MaxCriteria:
		v.Add("criteria", "err.tournament_criteria_many")
	}
	in.Criteria = crits
	return v.Err()
}

// Create opens a round (staff).
func (s *Service) Create(ctx context.Context, a *access.Actor, in Input) (Round, error) {
	if err := a.AdministerTournament(); err != nil {
		return Round{}, err
	}
	if err := s.Validate(ctx, &in); err != nil {
		return Round{}, err
	}
	nt := store.NewTournament{Title: in.Title, Description: in.Description, MaxEntries: in.MaxEntries,
		VotingStartsAt: *in.VotingStartsAt, VotingEndsAt: *in.VotingEndsAt, CreatedBy: a.UserID, GroupIDs: in.GroupIDs}
	names := make([]string, len(in.Criteria))
	for i, c := range in.Criteria {
		nt.Criteria = append(nt.Criteria, store.NewCriterion{Name: c.Name, Weight: c.Weight})
		names[i] = fmt.Sprintf("%s (%g)", c.Name, c.Weight)
	}
	var id int64
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		var err error
		if id, err = store.CreateTournament(ctx, tx, nt); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Tournament, id), 0)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "tournament.open",
			TargetType: "tournament", TargetID: id, Details: map[string]any{"title": in.Title,
				"max_entries": in.MaxEntries, "groups": len(in.GroupIDs), "criteria": strings.Join(names, ", ")}})
	})
	if err != nil {
		return Round{}, err
	}
	return s.Get(ctx, a, id)
}

// List lists the rounds the actor may see, newest first.
func (s *Service) List(ctx context.Context, a *access.Actor, p store.Page) ([]Summary, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	uid := a.UserID
	if a.IsStaff() {
		uid = 0
	}
	rows, err := store.ListTournaments(ctx, s.db, uid, p)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(rows))
	for i, t := range rows {
		out[i] = Summary{ID: t.ID, Title: t.Title, VotingStartsAt: t.VotingStartsAt, VotingEndsAt: t.VotingEndsAt,
			ClosedAt: t.ClosedAt, Status: s.status(t)}
	}
	return out, nil
}

// load reads a round and its groups and checks that the actor may see it.
func (s *Service) load(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.Tournament, []store.TournamentGroup, error) {
	if err := a.LoggedIn(); err != nil {
		return store.Tournament{}, nil, err
	}
	t, err := store.GetTournament(ctx, q, id, false)
	if err != nil {
		return t, nil, err
	}
	gs, err := store.TournamentGroups(ctx, q, id)
	if err != nil {
		return t, nil, err
	}
	if err := a.ReadTournament(groupIDs(gs)); err != nil {
		return t, nil, err
	}
	return t, gs, nil
}

// CanFollow answers ErrNotFound when the actor may not follow the round live.
func (s *Service) CanFollow(ctx context.Context, a *access.Actor, id int64) error {
	_, _, err := s.load(ctx, s.db, a, id)
	return err
}

// actorJST is the actor's own JST (0: none).
func (s *Service) actorJST(ctx context.Context, a *access.Actor) (int64, error) {
	u, err := store.GetUser(ctx, s.db, a.UserID)
	if err != nil {
		return 0, err
	}
	if u.JSTID == nil {
		return 0, nil
	}
	return *u.JSTID, nil
}

// Get is a round as the actor sees it: staff with ballot counts, a voter with
// their own ballots.
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (Round, error) {
	t, gs, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return Round{}, err
	}
	crits, err := store.TournamentCriteria(ctx, s.db, id)
	if err != nil {
		return Round{}, err
	}
	entries, err := store.TournamentEntries(ctx, s.db, id)
	if err != nil {
		return Round{}, err
	}
	gids := groupIDs(gs)
	r := Round{ID: t.ID, Title: t.Title, Description: t.Description, MaxEntries: t.MaxEntries,
		VotingStartsAt: t.VotingStartsAt, VotingEndsAt: t.VotingEndsAt, CreatedAt: t.CreatedAt, ClosedAt: t.ClosedAt,
		Status: s.status(t), Staff: a.IsStaff(), Groups: []Group{}, Criteria: []Criterion{}, Entries: []Entry{}}
	for _, g := range gs {
		r.Groups = append(r.Groups, Group{ID: g.GroupID, Name: g.Name, Kind: g.Kind, Entries: g.Entries})
	}
	for _, c := range crits {
		r.Criteria = append(r.Criteria, Criterion{ID: c.ID, Name: c.Name, Weight: c.Weight})
	}
	voter := a.VoteTournament(gids) == nil
	r.CanVote = voter && r.Status == StatusVoting
	r.CanEnter = r.Status == StatusEntries && len(openGroups(a, gs, t.MaxEntries)) > 0
	r.CanClose = a.IsStaff() && r.Status != StatusClosed
	r.HasResults = r.Status == StatusClosed || a.IsStaff()
	mine := map[int64]map[int64]int{}
	var jst int64
	if voter {
		scores, err := store.VoterScores(ctx, s.db, id, a.UserID)
		if err != nil {
			return Round{}, err
		}
		for _, sc := range scores {
			if mine[sc.EntryID] == nil {
				mine[sc.EntryID] = map[int64]int{}
			}
			mine[sc.EntryID][sc.CriterionID] = sc.Score
		}
		if jst, err = s.actorJST(ctx, a); err != nil {
			return Round{}, err
		}
	}
	for _, e := range entries {
		v := Entry{ID: e.ID, PracticeID: e.PracticeID, Title: e.PracticeTitle, GroupID: e.GroupID, GroupName: e.GroupName,
			GroupKind: e.GroupKind, JST: JST{ID: e.JSTID, Name: e.JSTName}, CreatedAt: e.CreatedAt,
			OwnJST: jst != 0 && e.JSTID == jst, CanWithdraw: r.Status == StatusEntries && a.EnterTournament(gids, e.GroupID) == nil}
		if a.IsStaff() {
			n := e.Ballots
			v.Ballots = &n
		}
		if m := mine[e.ID]; m != nil {
			v.myScores = m
			v.MyBallot = make(map[string]int, len(m))
			for c, sc := range m {
				v.MyBallot[strconv.FormatInt(c, 10)] = sc
			}
		}
		r.Entries = append(r.Entries, v)
	}
	return r, nil
}

// openGroups are the round's groups for which the actor may enter a
// practice and which have entered fewer than max.
func openGroups(a *access.Actor, gs []store.TournamentGroup, max int) []int64 {
	var out []int64
	for _, g := range gs {
		if g.Entries < max && len(a.EntersFor([]int64{g.GroupID})) > 0 {
			out = append(out, g.GroupID)
		}
	}
	return out
}

// Choice is a practice the actor may enter.
type Choice struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	GroupID int64  `json:"group_id"`
}

// Choices lists the practices the actor may enter into the round now (the
// entry form's options).
func (s *Service) Choices(ctx context.Context, a *access.Actor, id int64) ([]Choice, error) {
	t, gs, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return nil, err
	}
	out := []Choice{}
	groups := openGroups(a, gs, t.MaxEntries)
	if s.status(t) != StatusEntries || len(groups) == 0 {
		return out, nil
	}
	ps, err := store.EnterablePractices(ctx, s.db, id, groups)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out = append(out, Choice{ID: p.ID, Title: p.Title, GroupID: p.GroupID})
	}
	return out, nil
}

// Enter puts one of a participating group's own published practices (every
// voter of every group must be able to read it) into the round, before voting starts, up to the round's limit
// per group — counted under the group's row lock in the round, so entries
// made at once cannot pass it.
func (s *Service) Enter(ctx context.Context, a *access.Actor, id, practiceID int64) (Entry, error) {
	_, gs, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return Entry{}, err
	}
	gids := groupIDs(gs)
	if len(a.EntersFor(gids)) == 0 {
		return Entry{}, apperr.ErrForbidden // observers only read
	}
	p, err := store.GetPracticeRef(ctx, s.db, practiceID)
	if errors.Is(err, apperr.ErrNotFound) {
		return Entry{}, apperr.Invalid("practice_id", "err.tournament_practice")
	}
	if err != nil {
		return Entry{}, err
	}
	// Only one's own group's practices: another group's is not a choice,
	// whatever its status (a draft of theirs must not be confirmed to exist).
	if !slices.Contains(a.EntersFor(gids), p.GroupID) || p.Status != "published" {
		return Entry{}, apperr.Invalid("practice_id", "err.tournament_practice")
	}
	if err := a.EnterTournament(gids, p.GroupID); err != nil {
		return Entry{}, err
	}
	var entryID int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, err := store.GetTournament(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if st := s.status(t); st == StatusClosed {
			return ErrClosed
		} else if st != StatusEntries {
			return ErrEntriesClosed
		}
		n, err := store.LockTournamentGroup(ctx, tx, id, p.GroupID)
		if err != nil {
			return err
		}
		if n >= t.MaxEntries {
			return ErrEntryLimit
		}
		entryID, err = store.CreateTournamentEntry(ctx, tx, id, p.GroupID, p.ID, a.UserID)
		if store.IsUniqueViolation(err, "") {
			return ErrAlreadyIn
		}
		if err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Tournament, id), 0)
		gid := p.GroupID
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "tournament.enter",
			TargetType: "tournament", TargetID: id, GroupID: &gid,
			Details: map[string]any{"title": t.Title, "practice": p.Title, "practice_id": p.ID}})
	})
	if err != nil {
		return Entry{}, err
	}
	r, err := s.Get(ctx, a, id)
	if err != nil {
		return Entry{}, err
	}
	for _, e := range r.Entries {
		if e.ID == entryID {
			return e, nil
		}
	}
	return Entry{}, apperr.ErrNotFound
}

// Withdraw takes an entry back out of the round, before voting starts: a
// member of the entry's group or staff.
func (s *Service) Withdraw(ctx context.Context, a *access.Actor, id, entryID int64) error {
	_, gs, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return err
	}
	e, err := store.GetTournamentEntry(ctx, s.db, id, entryID)
	if err != nil {
		return err
	}
	if err := a.EnterTournament(groupIDs(gs), e.GroupID); err != nil {
		return err
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, err := store.GetTournament(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if st := s.status(t); st == StatusClosed {
			return ErrClosed
		} else if st != StatusEntries {
			return ErrEntriesClosed
		}
		if err := store.DeleteTournamentEntry(ctx, tx, id, entryID); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Tournament, id), 0)
		gid := e.GroupID
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "tournament.withdraw",
			TargetType: "tournament", TargetID: id, GroupID: &gid,
			Details: map[string]any{"title": t.Title, "practice": e.PracticeTitle, "practice_id": e.PracticeID}})
	})
}

// ParseScores reads a ballot's scores keyed by criterion id (as JSON object
// keys are strings).
func ParseScores(in map[string]int) (map[int64]int, error) {
	out := make(map[int64]int, len(in))
	for k, v := range in {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.Invalid("scores", "err.tournament_scores")
		}
		out[id] = v
	}
	return out, nil
}

// Vote stores the actor's ballot on an entry: every criterion scored 0–5,
// during the voting period, never on their own JST's practice; a second
// ballot replaces the first. Individual ballots are not audited: who voted
// on which entry is part of the ballot's secret.
func (s *Service) Vote(ctx context.Context, a *access.Actor, id, entryID int64, scores map[int64]int) (Ballot, error) {
	_, gs, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return Ballot{}, err
	}
	if err := a.VoteTournament(groupIDs(gs)); err != nil {
		return Ballot{}, err
	}
	e, err := store.GetTournamentEntry(ctx, s.db, id, entryID)
	if err != nil {
		return Ballot{}, err
	}
	jst, err := s.actorJST(ctx, a)
	if err != nil {
		return Ballot{}, err
	}
	if jst != 0 && jst == e.JSTID {
		return Ballot{}, ErrOwnJST
	}
	crits, err := store.TournamentCriteria(ctx, s.db, id)
	if err != nil {
		return Ballot{}, err
	}
	v := &apperr.Validation{}
	known := map[int64]bool{}
	for _, c := range crits {
		known[c.ID] = true
		sc, ok := scores[c.ID]
		switch {
		case !ok:
			v.Add("scores."+strconv.FormatInt(c.ID, 10), "err.tournament_score_missing")
		case sc < 0 || sc > MaxScore:
			v.Add("scores."+strconv.FormatInt(c.ID, 10), "err.tournament_score_range")
		}
	}
	for c := range scores {
		if !known[c] {
			v.Add("scores", "err.tournament_scores")
		}
	}
	if err := v.Err(); err != nil {
		return Ballot{}, err
	}
	var at time.Time
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// Shared row lock: a close waits for this ballot, and no ballot
		// lands after the close.
		t, err := store.GetTournament(ctx, tx, id, true)
		if err != nil {
			return err
		}
		switch s.status(t) {
		case StatusClosed:
			return ErrClosed
		case StatusEntries:
			return ErrVotingNotOpen
		case StatusCounting:
			return ErrVotingEnded
		}
		if at, err = store.PutBallot(ctx, tx, entryID, a.UserID, scores); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Tournament, id), 0)
		return nil
	})
	if err != nil {
		return Ballot{}, err
	}
	b := Ballot{TournamentID: id, EntryID: entryID, Scores: make(map[string]int, len(scores)), UpdatedAt: at}
	for c, sc := range scores {
		b.Scores[strconv.FormatInt(c, 10)] = sc
	}
	return b, nil
}

// Close closes the round (staff): no ballot changes any more and the
// results are published to the participants.
func (s *Service) Close(ctx context.Context, a *access.Actor, id int64) (Round, error) {
	if err := a.AdministerTournament(); err != nil {
		return Round{}, err
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, err := store.LockTournamentForClose(ctx, tx, id)
		if err != nil {
			return err
		}
		if t.ClosedAt != nil {
			return ErrClosed
		}
		if err := store.CloseTournament(ctx, tx, id, a.UserID); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Tournament, id), 0)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "tournament.close",
			TargetType: "tournament", TargetID: id, Details: map[string]any{"title": t.Title}})
	})
	if err != nil {
		return Round{}, err
	}
	return s.Get(ctx, a, id)
}

// Groups lists every group for the form (staff).
func (s *Service) Groups(ctx context.Context, a *access.Actor) ([]Group, error) {
	if err := a.AdministerTournament(); err != nil {
		return nil, err
	}
	gs, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = Group{ID: g.ID, Name: g.Name, Kind: g.Kind}
	}
	return out, nil
}

// BallotCounts is the round's live state for its topic (no permission
// check: the live layer asked CanFollow first).
func (s *Service) BallotCounts(ctx context.Context, id int64) (store.TournamentHead, error) {
	return store.GetTournamentHead(ctx, s.db, id)
}
