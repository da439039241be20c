package search_test

import (
	"context"
	"testing"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/pgadmin"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The "done when" on the demo data (make run): Katarzyna Wójcik of the
// rural group types "oswiata zlobek" without Polish letters and finds her
// group's thread and session note, and nothing of a group she may not read —
// the urban group's thread on the same subject included — in either order.
func TestSearchDoneWhenOnDemoData(t *testing.T) {
	ctx := context.Background()
	// A database of its own: the demo's common groups are readable by
	// everyone and would add hits to the other tests' exact counts.
	server, stop, err := pgadmin.ServerURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop() })
	demoURL, drop, err := pgadmin.CreateDatabase(ctx, server, pgadmin.TestDBPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = drop() })
	db := testkit.Open(t, demoURL)
	svc, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, svc: svc}
	if _, err := seed.Run(ctx, f.db, markup.New()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	u, err := store.GetUserByEmail(ctx, f.db, "k.wojcik@morawica.example")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := store.ListUserMemberships(ctx, f.db, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := access.NewActor(u, ms)
	var readable []int64
	if err := f.db.Select(&readable, `SELECT g.id FROM groups g WHERE g.kind = 'common'
		OR EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = g.id AND m.user_id = $1)`, u.ID); err != nil {
		t.Fatal(err)
	}
	may := map[int64]bool{}
	for _, id := range readable {
		may[id] = true
	}
	for _, sort := range []string{"relevance", "newest"} {
		r := f.search(a, search.Input{Q: "oswiata zlobek", Sort: sort})
		titles := map[string]string{}
		for _, h := range r.Items {
			titles[h.Type+" "+h.Title] = h.URL
			if !may[h.GroupID] && h.Type != "practice" {
				t.Errorf("%s: hit of a group she may not read: %+v", sort, h)
			}
		}
		if titles["thread Żłobek w budynku po szkole – zadanie oświaty czy opieki?"] == "" || titles["note Notatka z sesji 3"] == "" {
			t.Errorf("%s: the rural thread and the note are not both found: %v", sort, titles)
		}
		if _, ok := titles["thread Żłobki miejskie a wydział oświaty"]; ok {
			t.Errorf("%s: the urban group's thread was found", sort)
		}
	}
}
