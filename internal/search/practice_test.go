package search_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Good practices (issue 15): a published one is found by everyone, whatever
// their groups; a draft, submitted or returned one only by readers of the
// authors' group (members, observers) and staff, as its page is read
// (access.CanReadPractice).
func TestSearchPracticesFollowTheirPage(t *testing.T) {
	f := newFixture(t)
	urban, rural := testkit.NewGroup(t, f.db, model.KindUrban), testkit.NewGroup(t, f.db, model.KindRural)
	author := f.member(urban, model.GroupMember)
	observer := f.member(urban, model.GroupObserver)
	outsider := f.member(rural, model.GroupMember)
	staff := testkit.NewUser(t, f.db, model.RoleStaff)
	jst := f.exec(`INSERT INTO jst (name, kind, voivodeship) VALUES ($1, 'gmina_miejska', 'mazowieckie') RETURNING id`, "JST "+testkit.Unique())
	practice := func(title, status string) int64 {
		return f.exec(`INSERT INTO practices (group_id, jst_id, author_id, title, status, problem, published_at)
			VALUES ($1, $2, $3, $4, $5, 'Opis problemu: dowożenie dzieci', CASE WHEN $5 = 'published' THEN now() END) RETURNING id`,
			urban.ID, jst, author.ID, title, status)
	}
	published := practice("Praktyka opublikowana geotermia", "published")
	draft := practice("Praktyka robocza geotermia", "draft")
	submitted := practice("Praktyka zgłoszona geotermia", "submitted")
	returned := practice("Praktyka zwrócona geotermia", "returned")
	own := []key{{"practice", published}, {"practice", draft}, {"practice", submitted}, {"practice", returned}}

	for _, tc := range []struct {
		who  testkit.User
		want []key
	}{
		{author, own}, {observer, own}, {staff, own}, {outsider, own[:1]},
	} {
		for _, in := range []search.Input{{Q: "geotermia"}, {Q: "geotermia", Type: "practice", Sort: "newest"}, {Q: "dowozenie"}} {
			got := keys(f.search(f.actor(tc.who), in))
			if len(got) != len(tc.want) {
				t.Errorf("user %d %+v: %v, want %v", tc.who.ID, in, got, tc.want)
			}
			for _, k := range tc.want {
				if !got[k] {
					t.Errorf("user %d %+v: missing %v", tc.who.ID, in, k)
				}
			}
		}
	}
	// Hits link to the practice page; a published practice of another group
	// keeps its group and answers group and kind filters by it.
	for _, h := range f.search(f.actor(outsider), search.Input{Q: "geotermia"}).Items {
		if h.URL != fmt.Sprintf("/praktyki/%d", published) || h.GroupID != urban.ID || !strings.Contains(h.SnippetHTML, "<mark>") {
			t.Errorf("practice hit %+v", h)
		}
	}
	if r := f.search(f.actor(outsider), search.Input{Q: "geotermia", Kind: model.KindRural}); len(r.Items) != 0 {
		t.Errorf("kind filter lets another kind's practice through: %+v", r.Items)
	}
	// Publishing makes a draft public; returning it takes it back.
	f.exec(`UPDATE practices SET status = 'published', published_at = now() WHERE id = $1 RETURNING id`, draft)
	if got := keys(f.search(f.actor(outsider), search.Input{Q: "robocza"})); !got[key{"practice", draft}] {
		t.Errorf("published draft not found by outsider: %v", got)
	}
	f.exec(`UPDATE practices SET status = 'returned' WHERE id = $1 RETURNING id`, draft)
	if got := keys(f.search(f.actor(outsider), search.Input{Q: "robocza"})); len(got) != 0 {
		t.Errorf("returned practice still found by outsider: %v", got)
	}
	if got := keys(f.search(f.actor(author), search.Input{Q: "robocza"})); !got[key{"practice", draft}] {
		t.Errorf("returned practice not found by its author: %v", got)
	}
}

// The support-area filter reaches practices by their own areas (issue 15:
// a practice has support areas, like a thread).
func TestSearchPracticeAreaFilter(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	jst := f.exec(`INSERT INTO jst (name, kind, voivodeship) VALUES ($1, 'gmina_wiejska', 'opolskie') RETURNING id`, "JST "+testkit.Unique())
	var areas []int64
	if err := f.db.Select(&areas, `SELECT id FROM support_areas ORDER BY id LIMIT 2`); err != nil || len(areas) < 2 {
		t.Fatalf("areas %v %v", areas, err)
	}
	in := f.exec(`INSERT INTO practices (group_id, jst_id, author_id, title, status, published_at) VALUES ($1, $2, $3, 'Fotowoltaika na szkołach', 'published', now()) RETURNING id`, g.ID, jst, m.ID)
	out := f.exec(`INSERT INTO practices (group_id, jst_id, author_id, title, status, published_at) VALUES ($1, $2, $3, 'Fotowoltaika na przedszkolach', 'published', now()) RETURNING id`, g.ID, jst, m.ID)
	f.exec(`INSERT INTO practice_areas (practice_id, area_id) VALUES ($1, $2), ($3, $4) RETURNING practice_id`, in, areas[0], out, areas[1])
	for _, sort := range []string{"relevance", "newest"} {
		got := keys(f.search(f.actor(m), search.Input{Q: "fotowoltaika", Area: fmt.Sprint(areas[0]), Sort: sort}))
		if len(got) != 1 || !got[key{"practice", in}] {
			t.Errorf("%s: area filter on practices: %v", sort, got)
		}
	}
}
