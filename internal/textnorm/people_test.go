package textnorm

import (
	"slices"
	"testing"
)

// People sort by surname under Polish collation: Ł between L and M, Ś after S,
// Ż after Z — not by first name and not in byte order.
func TestComparePeople(t *testing.T) {
	names := []string{"Wojciech Żak", "Anna Łukasik", "Łukasz Lis", "Zofia Sowa", "Marek Śliwa", "Jan Mazur", "Ewa Lis"}
	slices.SortFunc(names, ComparePeople)
	want := []string{"Ewa Lis", "Łukasz Lis", "Anna Łukasik", "Jan Mazur", "Zofia Sowa", "Marek Śliwa", "Wojciech Żak"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %q\nwant    %q", names, want)
	}
}
