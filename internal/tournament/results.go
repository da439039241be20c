package tournament

import (
	"cmp"
	"context"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Results are a round's ranking: overall and per kind of group.
//
// An entry's weighted mean is Σ weight·(mean score on the criterion) / Σ
// weight, computed exactly (as a fraction) and rounded only when shown.
// Ranking: the higher weighted mean first; on a tie, more ballots first;
// then the higher mean on the criterion with the highest weight (the first
// listed if several share it); then the entry entered earlier. Entries
// without a ballot come last, in the order they were entered.
type Results struct {
	TournamentID int64       `json:"tournament_id"`
	Title        string      `json:"title"`
	Status       string      `json:"status"`
	ClosedAt     *time.Time  `json:"closed_at"`
	Criteria     []Criterion `json:"criteria"`
	Overall      []Row       `json:"overall"`
	ByKind       []Ranking   `json:"by_kind"`
}

// Ranking is the ranking among the entries of one kind of group.
type Ranking struct {
	Kind string `json:"kind"`
	Rows []Row  `json:"rows"`
}

// Row is one entry's result. Means are rounded to four decimals (nil: no
// ballot yet).
type Row struct {
	Rank           int             `json:"rank"`
	RankInKind     int             `json:"rank_in_kind"`
	EntryID        int64           `json:"entry_id"`
	PracticeID     int64           `json:"practice_id"`
	Title          string          `json:"title"`
	GroupID        int64           `json:"group_id"`
	GroupName      string          `json:"group_name"`
	GroupKind      string          `json:"group_kind"`
	JST            JST             `json:"jst"`
	Ballots        int             `json:"ballots"`
	WeightedMean   *float64        `json:"weighted_mean"`
	CriterionMeans []CriterionMean `json:"criterion_means"`

	exact    *big.Rat // the weighted mean, exactly
	topMean  *big.Rat // the mean on the highest-weighted criterion
	sequence int64    // entry id: earlier entries first
}

type CriterionMean struct {
	CriterionID int64    `json:"criterion_id"`
	Mean        *float64 `json:"mean"`
}

// Results answers the ranking: to staff at any time, to the round's
// participants once it is closed (before that it does not exist for them).
func (s *Service) Results(ctx context.Context, a *access.Actor, id int64) (Results, error) {
	t, _, err := s.load(ctx, s.db, a, id)
	if err != nil {
		return Results{}, err
	}
	status := s.status(t)
	if status != StatusClosed && !a.IsStaff() {
		return Results{}, apperr.ErrNotFound
	}
	crits, err := store.TournamentCriteria(ctx, s.db, id)
	if err != nil {
		return Results{}, err
	}
	entries, err := store.TournamentEntries(ctx, s.db, id)
	if err != nil {
		return Results{}, err
	}
	sums, err := store.TournamentScoreSums(ctx, s.db, id)
	if err != nil {
		return Results{}, err
	}
	res := Results{TournamentID: t.ID, Title: t.Title, Status: status, ClosedAt: t.ClosedAt, Criteria: []Criterion{}}
	for _, c := range crits {
		res.Criteria = append(res.Criteria, Criterion{ID: c.ID, Name: c.Name, Weight: c.Weight})
	}
	res.Overall = Rank(crits, entries, sums)
	res.ByKind = ByKind(res.Overall)
	return res, nil
}

// Rank computes every entry's result and orders them by the stated rule.
func Rank(crits []store.Criterion, entries []store.TournamentEntry, sums []store.ScoreSum) []Row {
	type key struct{ entry, crit int64 }
	sum := make(map[key]int64, len(sums))
	for _, s := range sums {
		sum[key{s.EntryID, s.CriterionID}] = s.Sum
	}
	// Weights have two decimals: in hundredths they are whole numbers and
	// the arithmetic stays exact.
	weights := make([]int64, len(crits))
	var wTotal int64
	top := -1
	for i, c := range crits {
		weights[i] = int64(math.Round(c.Weight * 100))
		wTotal += weights[i]
		if top < 0 || weights[i] > weights[top] {
			top = i
		}
	}
	rows := make([]Row, 0, len(entries))
	for _, e := range entries {
		r := Row{EntryID: e.ID, PracticeID: e.PracticeID, Title: e.PracticeTitle, GroupID: e.GroupID, GroupName: e.GroupName,
			GroupKind: e.GroupKind, JST: JST{ID: e.JSTID, Name: e.JSTName}, Ballots: e.Ballots,
			CriterionMeans: make([]CriterionMean, len(crits)), sequence: e.ID}
		n := int64(e.Ballots)
		var weighted int64
		for i, c := range crits {
			r.CriterionMeans[i].CriterionID = c.ID
			s := sum[key{e.ID, c.ID}]
			weighted += weights[i] * s
			if n > 0 {
				m := big.NewRat(s, n)
				r.CriterionMeans[i].Mean = rounded(m)
				if i == top {
					r.topMean = m
				}
			}
		}
		if n > 0 && wTotal > 0 {
			r.exact = big.NewRat(weighted, n*wTotal)
			r.WeightedMean = rounded(r.exact)
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, compareRows)
	for i := range rows {
		rows[i].Rank = i + 1
	}
	return rows
}

// compareRows is the ranking rule (see Results).
func compareRows(a, b Row) int {
	if (a.exact == nil) != (b.exact == nil) {
		if a.exact == nil {
			return 1
		}
		return -1
	}
	if a.exact != nil {
		if c := b.exact.Cmp(a.exact); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(b.Ballots, a.Ballots); c != 0 {
		return c
	}
	if a.topMean != nil && b.topMean != nil {
		if c := b.topMean.Cmp(a.topMean); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.sequence, b.sequence)
}

// ByKind splits a ranked list by the kind of the entering group, in the
// order rural, urban, county, common; each keeps the overall order.
func ByKind(rows []Row) []Ranking {
	out := []Ranking{}
	for _, k := range model.GroupKinds {
		var rk Ranking
		rk.Kind = k
		for _, r := range rows {
			if r.GroupKind == k {
				r.RankInKind = len(rk.Rows) + 1
				rk.Rows = append(rk.Rows, r)
			}
		}
		if len(rk.Rows) > 0 {
			out = append(out, rk)
		}
	}
	// The overall rows learn their rank within their kind too (the CSV).
	inKind := map[int64]int{}
	for _, rk := range out {
		for _, r := range rk.Rows {
			inKind[r.EntryID] = r.RankInKind
		}
	}
	for i := range rows {
		rows[i].RankInKind = inKind[rows[i].EntryID]
	}
	return out
}

func rounded(r *big.Rat) *float64 {
	f, _ := r.Float64()
	v := math.Round(f*10000) / 10000
	return &v
}
