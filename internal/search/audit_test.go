package search_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// post adds a thread of one post to g and returns the post's id.
func (f *fixture) post(g model.Group, author int64, title, body string) (thread, post int64) {
	f.t.Helper()
	thread = f.exec(`INSERT INTO threads (group_id, title, author_id, post_count) VALUES ($1, $2, $3, 1) RETURNING id`, g.ID, title, author)
	post = f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html) VALUES ($1, 1, $2, $3, '') RETURNING id`, thread, author, body)
	return thread, post
}

// Issue 13 item 2 end to end through the index: letters folded both ways,
// endings, the last word as a prefix, phrases and exclusions.
func TestSearchPolishQueriesEndToEnd(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	a := f.actor(m)
	_, lodzPL := f.post(g, m.ID, "Wątek pierwszy", "Spotkanie w Łódź odbędzie się w maju.")
	_, lodzASCII := f.post(g, m.ID, "Wątek drugi", "Spotkanie w lodz bez polskich liter.")
	_, zlobek := f.post(g, m.ID, "Wątek trzeci", "Żłobek gminny otwarty.")
	_, szkoly := f.post(g, m.ID, "Wątek czwarty", "Remont szkoły podstawowej.")
	_, szkolach := f.post(g, m.ID, "Wątek piąty", "W naszych szkołach brakuje nauczycieli.")
	_, przedszkole := f.post(g, m.ID, "Wątek szósty", "Nowe przedszkole samorządowe.")
	_, phrase := f.post(g, m.ID, "Wątek siódmy", "Gmina organizuje dowóz uczniów do szkół.")
	_, reversed := f.post(g, m.ID, "Wątek ósmy", "Uczniów dowóz kosztuje, a dowóz dzieci mniej.")
	_, subwencja := f.post(g, m.ID, "Wątek dziewiąty", "Budżet i subwencja oświatowa.")
	_, budzet := f.post(g, m.ID, "Wątek dziesiąty", "Budżet gminy na rok szkolny.")

	posts := func(q string) map[int64]bool {
		t.Helper()
		out := map[int64]bool{}
		for _, h := range f.search(a, search.Input{Q: q, Type: "post"}).Items {
			out[h.ID] = true
		}
		return out
	}
	for _, tc := range []struct {
		q        string
		want     []int64
		mustNot  []int64
		describe string
	}{
		{"Łódź", []int64{lodzPL, lodzASCII}, nil, "Łódź finds lodz and Łódź"},
		{"lodz", []int64{lodzPL, lodzASCII}, nil, "lodz finds Łódź"},
		{"zlobek", []int64{zlobek}, nil, "zlobek finds Żłobek"},
		{"szkoła", []int64{szkoly, szkolach}, []int64{przedszkole}, "szkoła finds szkoły and szkołach"},
		{"nowe przedszk", []int64{przedszkole}, nil, "the last word is a prefix"},
		{`"dowóz uczniów"`, []int64{phrase}, []int64{reversed}, "a phrase keeps order and adjacency"},
		{`"dowoz uczniow"`, []int64{phrase}, []int64{reversed}, "a phrase without Polish letters"},
		{"budżet -subwencja", []int64{budzet}, []int64{subwencja}, "-word excludes"},
		{`dowóz -"dowóz uczniów"`, []int64{reversed}, []int64{phrase}, `-"phrase" excludes`},
	} {
		got := posts(tc.q)
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("%s: %q misses post %d (got %v)", tc.describe, tc.q, id, got)
			}
		}
		for _, id := range tc.mustNot {
			if got[id] {
				t.Errorf("%s: %q found post %d", tc.describe, tc.q, id)
			}
		}
	}
}

// A post whose text looks like HTML, <mark> included, comes back escaped:
// the only markup in a snippet is the <mark> the search adds.
func TestSearchSnippetOfHTMLLookingPost(t *testing.T) {
	f := newFixture(t)
	g := testkit.NewGroup(t, f.db, model.KindRural)
	m := f.member(g, model.GroupMember)
	_, id := f.post(g, m.ID, `Tytuł <i>kursywa</i>`,
		`Zobacz <mark>ważne</mark> i <img src=x onerror="alert(1)"> oraz <a href="javascript:alert(2)">link</a> &amp; szkoła`)
	r := f.search(f.actor(m), search.Input{Q: "szkoła", Type: "post"})
	if len(r.Items) != 1 || r.Items[0].ID != id {
		t.Fatalf("hits %+v", r.Items)
	}
	s := r.Items[0].SnippetHTML
	rest := strings.ReplaceAll(strings.ReplaceAll(s, "<mark>", ""), "</mark>", "")
	if strings.ContainsAny(rest, "<>") || strings.Count(s, "<mark>") != 1 || !strings.Contains(s, "<mark>szkoła</mark>") ||
		!strings.Contains(s, "&lt;mark") || !strings.Contains(s, "&amp;amp;") {
		t.Fatalf("snippet not escaped: %s", s)
	}
	// The title-only hit escapes the title as well.
	r = f.search(f.actor(m), search.Input{Q: "kursywa", Type: "thread"})
	if len(r.Items) != 1 || strings.Contains(r.Items[0].SnippetHTML, "<i>") || !strings.Contains(r.Items[0].SnippetHTML, "&lt;i") {
		t.Fatalf("title snippet %+v", r.Items)
	}
}

// Every filter narrows the hits to what it names, in both orders.
func TestSearchFiltersNarrow(t *testing.T) {
	f := newFixture(t)
	rural, county := testkit.NewGroup(t, f.db, model.KindRural), testkit.NewGroup(t, f.db, model.KindCounty)
	m, m2 := f.member(rural, model.GroupMember), f.member(rural, model.GroupMember)
	f.exec(`INSERT INTO memberships (user_id, group_id, role) VALUES ($1, $2, 'member') RETURNING user_id`, m.ID, county.ID)
	a := f.actor(m)
	area := f.exec(`SELECT id FROM support_areas ORDER BY id LIMIT 1`)
	oldT, oldP := f.post(rural, m.ID, "Kanalizacja dawna", "kanalizacja w 2020")
	f.exec(`UPDATE threads SET created_at = '2020-03-01T10:00:00Z' WHERE id = $1 RETURNING id`, oldT)
	f.exec(`UPDATE posts SET created_at = '2020-03-01T10:00:00Z' WHERE id = $1 RETURNING id`, oldP)
	f.exec(`UPDATE search_docs SET created_at = '2020-03-01T10:00:00Z' WHERE (kind, ref_id) IN (('thread', $1), ('post', $2)) RETURNING 1`, oldT, oldP)
	areaT, areaP := f.post(rural, m.ID, "Kanalizacja z obszarem", "kanalizacja i obszar")
	f.exec(`INSERT INTO thread_areas (thread_id, area_id) VALUES ($1, $2) RETURNING thread_id`, areaT, area)
	otherT, otherP := f.post(rural, m2.ID, "Kanalizacja innego autora", "kanalizacja autora drugiego")
	countyT, countyP := f.post(county, m.ID, "Kanalizacja w powiecie", "kanalizacja powiatowa")
	c := f.content(rural, m.ID, "Kanalizacja spotkanie", "kanalizacja na spotkaniu")

	all := []key{{"thread", oldT}, {"post", oldP}, {"thread", areaT}, {"post", areaP}, {"thread", otherT}, {"post", otherP},
		{"thread", countyT}, {"post", countyP}, {"thread", c.thread}, {"post", c.post}, {"meeting", c.meeting}, {"note", c.note},
		{"message", c.message}, {"file", c.file}}
	for _, tc := range []struct {
		name string
		in   search.Input
		want []key
	}{
		{"none", search.Input{}, all},
		{"group", search.Input{GroupID: fmt.Sprint(county.ID)}, []key{{"thread", countyT}, {"post", countyP}}},
		{"group kind", search.Input{Kind: model.KindCounty}, []key{{"thread", countyT}, {"post", countyP}}},
		{"area", search.Input{Area: fmt.Sprint(area)}, []key{{"thread", areaT}, {"post", areaP}}},
		{"author", search.Input{AuthorID: fmt.Sprint(m2.ID)}, []key{{"thread", otherT}, {"post", otherP}}},
		{"to", search.Input{To: "2020-03-01"}, []key{{"thread", oldT}, {"post", oldP}}},
		{"from-to", search.Input{From: "2020-02-01", To: "2020-03-31"}, []key{{"thread", oldT}, {"post", oldP}}},
		{"from", search.Input{From: time.Now().AddDate(0, 0, -1).Format("2006-01-02"), Type: "thread", GroupID: fmt.Sprint(rural.ID)},
			[]key{{"thread", areaT}, {"thread", otherT}, {"thread", c.thread}}},
		{"type note", search.Input{Type: "note"}, []key{{"note", c.note}}},
		{"type message", search.Input{Type: "message"}, []key{{"message", c.message}}},
		{"type file", search.Input{Type: "file"}, []key{{"file", c.file}}},
		{"type meeting", search.Input{Type: "meeting"}, []key{{"meeting", c.meeting}}},
	} {
		for _, sort := range []string{"relevance", "newest"} {
			in := tc.in
			in.Q, in.Sort = "kanalizacja", sort
			got := keys(f.search(a, in))
			if len(got) != len(tc.want) {
				t.Errorf("%s %s: %d hits %v, want %v", tc.name, sort, len(got), got, tc.want)
				continue
			}
			for _, k := range tc.want {
				if !got[k] {
					t.Errorf("%s %s: missing %v in %v", tc.name, sort, k, got)
				}
			}
		}
	}
	// Newest first is in date order; relevance puts titles above bodies.
	r := f.search(a, search.Input{Q: "kanalizacja", Sort: "newest"})
	for i := 1; i < len(r.Items); i++ {
		if r.Items[i].CreatedAt.After(r.Items[i-1].CreatedAt) {
			t.Errorf("newest first out of order at %d: %v after %v", i, r.Items[i].CreatedAt, r.Items[i-1].CreatedAt)
		}
	}
}

// Hidden documents are found by moderators of their own group only: a
// moderator elsewhere who is a plain member here does not find them.
func TestSearchHiddenOnlyForModeratorsOfTheGroup(t *testing.T) {
	f := newFixture(t)
	g, elsewhere := testkit.NewGroup(t, f.db, model.KindRural), testkit.NewGroup(t, f.db, model.KindUrban)
	m := f.member(g, model.GroupMember)
	modElsewhere := f.member(elsewhere, model.GroupModerator)
	f.exec(`INSERT INTO memberships (user_id, group_id, role) VALUES ($1, $2, 'member') RETURNING user_id`, modElsewhere.ID, g.ID)
	th, _ := f.post(g, m.ID, "Ukryty temat melioracji", "melioracja rowów")
	hp := f.exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html, hidden) VALUES ($1, 2, $2, 'melioracja ukryta', '', true) RETURNING id`, th, m.ID)
	got := keys(f.search(f.actor(modElsewhere), search.Input{Q: "melioracja"}))
	if got[key{"post", hp}] || len(got) != 2 {
		t.Fatalf("a moderator of another group finds the hidden post: %v", got)
	}
}
