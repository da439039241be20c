package tournament

import (
	"fmt"
	"testing"

	"github.com/gwd-jst/forumjst/internal/store"
)

// The weighted mean and the tie rule, with exact numbers. Criteria 1, 2, 3
// weigh 2, 1 and 1, so a weighted mean is (2·m1 + m2 + m3) / 4.
func TestRankWeightedMeanAndTies(t *testing.T) {
	crits := []store.Criterion{{ID: 1, Name: "Skuteczność", Weight: 2}, {ID: 2, Name: "Koszt", Weight: 1}, {ID: 3, Name: "Możliwość przeniesienia", Weight: 1}}
	entry := func(id int64, kind string, ballots int) store.TournamentEntry {
		return store.TournamentEntry{ID: id, GroupKind: kind, Ballots: ballots, PracticeTitle: fmt.Sprint("P", id)}
	}
	entries := []store.TournamentEntry{entry(10, "rural", 2), entry(11, "urban", 2), entry(12, "rural", 1),
		entry(13, "county", 2), entry(14, "urban", 2), entry(15, "county", 0)}
	sums := func(e int64, s1, s2, s3 int64, n int64) []store.ScoreSum {
		return []store.ScoreSum{{EntryID: e, CriterionID: 1, Sum: s1, Count: n}, {EntryID: e, CriterionID: 2, Sum: s2, Count: n}, {EntryID: e, CriterionID: 3, Sum: s3, Count: n}}
	}
	var all []store.ScoreSum
	all = append(all, sums(10, 8, 6, 4, 2)...)   // means 4, 3, 2 → 13/4 = 3.25
	all = append(all, sums(11, 6, 10, 10, 2)...) // means 3, 5, 5 → 16/4 = 4
	all = append(all, sums(12, 5, 3, 0, 1)...)   // means 5, 3, 0 → 3.25 with one ballot
	all = append(all, sums(13, 6, 8, 6, 2)...)   // means 3, 4, 3 → 3.25, lower on the heaviest criterion
	all = append(all, sums(14, 8, 6, 4, 2)...)   // as 10 in every respect, entered later

	rows := Rank(crits, entries, all)
	var order []int64
	for _, r := range rows {
		order = append(order, r.EntryID)
	}
	// 11 has the highest mean; 10, 14, 13 and 12 all have 3.25: 12 has
	// fewer ballots, 13 the lower mean on Skuteczność, 14 was entered after
	// 10; 15 has no ballot.
	if fmt.Sprint(order) != "[11 10 14 13 12 15]" {
		t.Fatalf("order %v", order)
	}
	want := map[int64]float64{11: 4, 10: 3.25, 14: 3.25, 13: 3.25, 12: 3.25}
	for i, r := range rows {
		if r.Rank != i+1 {
			t.Errorf("%d: rank %d", r.EntryID, r.Rank)
		}
		if r.EntryID == 15 {
			if r.WeightedMean != nil || r.CriterionMeans[0].Mean != nil {
				t.Errorf("no ballots, yet a mean: %+v", r)
			}
			continue
		}
		if r.WeightedMean == nil || *r.WeightedMean != want[r.EntryID] {
			t.Errorf("%d: weighted mean %v, want %v", r.EntryID, r.WeightedMean, want[r.EntryID])
		}
	}
	if m := rows[0].CriterionMeans; *m[0].Mean != 3 || *m[1].Mean != 5 || *m[2].Mean != 5 {
		t.Errorf("criterion means of 11: %v %v %v", *m[0].Mean, *m[1].Mean, *m[2].Mean)
	}

	kinds := ByKind(rows)
	got := ""
	for _, k := range kinds {
		got += k.Kind + ":"
		for _, r := range k.Rows {
			got += fmt.Sprintf("%d/%d ", r.EntryID, r.RankInKind)
		}
	}
	if got != "rural:10/1 12/2 urban:11/1 14/2 county:13/1 15/2 " {
		t.Errorf("by kind: %s", got)
	}
	if rows[2].EntryID != 14 || rows[2].RankInKind != 2 {
		t.Errorf("overall rows lack their rank in kind: %+v", rows[2])
	}
}

// A mean that is not a short decimal: weights 1.5 and 1, one ballot each of
// (1, 2) and (2, 2): means 1.5 and 2 → (2.25 + 2) / 2.5 = 1.7 exactly.
func TestRankFractionalWeights(t *testing.T) {
	crits := []store.Criterion{{ID: 1, Weight: 1.5}, {ID: 2, Weight: 1}}
	rows := Rank(crits, []store.TournamentEntry{{ID: 1, Ballots: 2}},
		[]store.ScoreSum{{EntryID: 1, CriterionID: 1, Sum: 3, Count: 2}, {EntryID: 1, CriterionID: 2, Sum: 4, Count: 2}})
	if *rows[0].WeightedMean != 1.7 {
		t.Errorf("weighted mean %v, want 1.7", *rows[0].WeightedMean)
	}
}
