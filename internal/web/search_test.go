package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type searchHit struct {
	Type        string `json:"type"`
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	Title       string `json:"title"`
	SnippetHTML string `json:"snippet_html"`
	GroupID     int64  `json:"group_id"`
	Author      struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"author"`
	CreatedAt string `json:"created_at"`
}

type searchPage struct {
	Items   []searchHit `json:"items"`
	Page    int         `json:"page"`
	Limit   int         `json:"limit"`
	HasMore bool        `json:"has_more"`
}

// The "done when": a rural member types "oswiata zlobek" without
// Polish letters and finds their group's thread and note, nothing of the urban
// group, through the API and the page.
func TestSearchAPIAndPage(t *testing.T) {
	env := testkit.Start(t, dbURL)
	rural, urban := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	u, other := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(u.ID, rural.ID, model.GroupMember)
	env.AddMember(other.ID, urban.ID, model.GroupMember)
	var tid, nid, utid int64
	db := env.DB
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.Get(&tid, `INSERT INTO threads (group_id, title, author_id) VALUES ($1, 'Żłobek w gminie a budżet oświaty', $2) RETURNING id`, rural.ID, u.ID))
	var mid int64
	must(db.Get(&mid, `INSERT INTO meetings (group_id, title, starts_at, ends_at, created_by) VALUES ($1, 'Sesja 3', now(), now() + interval '1 day', $2) RETURNING id`, rural.ID, u.ID))
	must(db.Get(&nid, `INSERT INTO notes (meeting_id, author_id, title, body, body_html) VALUES ($1, $2, 'Notatka z sesji', 'Ustalenia: oświata, nowy żłobek <b>x</b>.', '') RETURNING id`, mid, u.ID))
	must(db.Get(&utid, `INSERT INTO threads (group_id, title, author_id) VALUES ($1, 'Żłobek miejski i oświata', $2) RETURNING id`, urban.ID, other.ID))

	c := env.Login(u)
	r := c.JSON("GET", "/api/v1/search?q=oswiata+zlobek", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("search = %d %s", r.Status, r)
	}
	var res searchPage
	r.Decode(&res)
	found := map[string]bool{}
	for _, h := range res.Items {
		found[h.URL] = true
		if h.GroupID != rural.ID {
			t.Errorf("hit of another group: %+v", h)
		}
		if strings.Contains(h.SnippetHTML, "<b>") {
			t.Errorf("snippet carries the author's markup: %s", h.SnippetHTML)
		}
	}
	if !found[fmt.Sprintf("/t/%d", tid)] || !found[fmt.Sprintf("/n/%d", nid)] || res.Page != 1 || res.Limit != 20 || res.HasMore {
		t.Fatalf("result %+v", res)
	}
	// Asking for the other group by id answers an empty list, as if it did not exist.
	r = c.JSON("GET", fmt.Sprintf("/api/v1/search?q=zlobek&group_id=%d", urban.ID), nil)
	r.Decode(&res)
	if r.Status != http.StatusOK || len(res.Items) != 0 {
		t.Fatalf("other group's search: %d %s", r.Status, r)
	}

	// The page: the box keeps the query, hits are marked, the header has the box.
	p := c.Get("/search?q=" + url.QueryEscape("oswiata zlobek"))
	body := p.String()
	if p.Status != http.StatusOK || !strings.Contains(body, `value="oswiata zlobek"`) || !strings.Contains(body, "<mark>Żłobek</mark>") ||
		!strings.Contains(body, fmt.Sprintf(`href="/n/%d"`, nid)) || strings.Contains(body, fmt.Sprintf(`href="/t/%d"`, utid)) {
		t.Fatalf("page %d: %s", p.Status, body)
	}
	idx := c.Get("/")
	if !strings.Contains(idx.String(), `id="site-search"`) || !strings.Contains(idx.String(), `action="/search"`) {
		t.Fatalf("no search box in the header")
	}
	// No results with a filter offers to drop the filters.
	p = c.Get(fmt.Sprintf("/search?q=zlobek&type=file&group_id=%d", rural.ID))
	if p.Status != http.StatusOK || !strings.Contains(p.String(), `href="/search?q=zlobek"`) {
		t.Fatalf("empty filtered page %d: %s", p.Status, p)
	}
	// A query with no words is explained on the page, not a 500.
	p = c.Get("/search?q=%22")
	if p.Status != http.StatusBadRequest || !strings.Contains(p.String(), `id="e-q"`) {
		t.Fatalf("lone quote page %d", p.Status)
	}
	// Visitors are sent to log in; the API answers 401.
	if r := env.Anonymous().JSON("GET", "/api/v1/search?q=zlobek", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous API search = %d", r.Status)
	}
	if p := env.Anonymous().Get("/search?q=zlobek"); p.Status == http.StatusOK {
		t.Fatalf("anonymous search page = %d", p.Status)
	}
}

// Malformed queries answer 200 with hits or 400 with a message on the field,
// never a 500 and never internals.
func TestSearchBadInput(t *testing.T) {
	env := testkit.Start(t, dbURL)
	c := env.Login(env.NewUser(model.RoleMember))
	cases := []struct {
		query  string
		status int
		field  string
	}{
		{"q=", 400, "q"},
		{"q=%22", 400, "q"},
		{"q=-", 400, "q"},
		{"q=-szkola", 400, "q"},
		{"q=" + url.QueryEscape(strings.Repeat("!?.,;", 100)), 400, "q"},
		{"q=" + url.QueryEscape(strings.Repeat("!?.,", 50)), 400, "q"},
		{"q=" + url.QueryEscape(`a & b | !c <-> d:* 'e' \f`), 400, "q"},
		{"q=" + url.QueryEscape(`ab & cd | !ef <-> gh:* 'ij' \kl`), 200, ""},
		{"q=%FF%FE", 400, "q"},
		{"q=ab%00cd", 200, ""},
		{"q=" + url.QueryEscape(`"szkoła w`), 200, ""},
		{"q=szkola&page=0", 400, "page"},
		{"q=szkola&page=51", 400, "page"},
		{"q=szkola&page=x", 400, "page"},
		{"q=szkola&sort=best", 400, "sort"},
		{"q=szkola&type=tournament", 400, "type"},
		{"q=szkola&kind=village", 400, "kind"},
		{"q=szkola&group_id=abc", 400, "group_id"},
		{"q=szkola&author_id=-3", 400, "author_id"},
		{"q=szkola&area=99999999999999999999", 400, "area"},
		{"q=szkola&from=2026-13-01", 400, "from"},
		{"q=szkola&from=2026-05-02&to=2026-05-01", 400, "to"},
		{"q=szkola&from=2026-05-01&to=2026-05-01&sort=newest&page=2", 200, ""},
		{"q=" + strings.Repeat("a", 201), 400, "q"},
		{"q=" + url.QueryEscape(strings.Repeat("szkoła ", 500)), 400, "q"},
		{"q=%00", 400, "q"},
		{"q=%22%00%22", 400, "q"},
		{"q=szko%C5", 400, "q"},
		{"q=szkola&from=%FF", 400, "from"},
		{"q=szkola&type=%00", 400, "type"},
		{"q=szkola&group_id=%00", 400, "group_id"},
	}
	// Longer than the server reads as a request line: refused before any
	// handler, never a 500.
	for _, path := range []string{"/api/v1/search?q=", "/search?q="} {
		if r := c.Get(path + strings.Repeat("a", 20_000)); r.Status >= 500 || r.Status < 400 {
			t.Errorf("%s of 20,000 letters: %d", path, r.Status)
		}
	}
	for _, tc := range cases {
		r := c.JSON("GET", "/api/v1/search?"+tc.query, nil)
		checkNoLeak(t, tc.query, r.Body)
		if r.Status != tc.status {
			t.Errorf("%s: %d %s", tc.query, r.Status, r)
			continue
		}
		if tc.field != "" && (r.ErrorCode() != "validation" || !strings.Contains(r.String(), `"`+tc.field+`"`)) {
			t.Errorf("%s: %s", tc.query, r)
		}
		if p := c.Get("/search?" + tc.query); p.Status >= 500 {
			t.Errorf("page %s: %d", tc.query, p.Status)
		}
	}
}

// SPEC §4's answer, key for key, for every kind of hit, and every hit's link
// opens the exact place for the member who found it: /t/, /p/, /n/, /m/, the
// chat message's anchor on the page that shows it, the file, the practice.
//
// The database session runs in Warsaw time, as a server configured so would:
// the answer's times are still UTC (SPEC §4).
func TestSearchAPIContractAndLinks(t *testing.T) {
	warsaw, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	qs := warsaw.Query()
	qs.Set("timezone", "Europe/Warsaw")
	warsaw.RawQuery = qs.Encode()
	env := testkit.Start(t, warsaw.String())
	g := env.NewGroup(model.KindRural)
	u := env.NewUser(model.RoleMember)
	env.AddMember(u.ID, g.ID, model.GroupMember)
	c := env.Login(u)
	db := env.DB
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	word := "wodociag" + strings.ToLower(testkit.Unique())
	var tid, pid, mid, nid, jst, prid int64
	must(db.Get(&tid, `INSERT INTO threads (group_id, title, author_id, post_count) VALUES ($1, $2, $3, 1) RETURNING id`, g.ID, "Wątek "+word, u.ID))
	must(db.Get(&pid, `INSERT INTO posts (thread_id, position, author_id, body, body_html) VALUES ($1, 1, $2, $3, '<p>x</p>') RETURNING id`, tid, u.ID, "Wpis o "+word))
	must(db.Get(&mid, `INSERT INTO meetings (group_id, title, starts_at, ends_at, agenda, created_by) VALUES ($1, $2, now(), now() + interval '1 hour', '', $3) RETURNING id`, g.ID, "Sesja "+word, u.ID))
	must(db.Get(&nid, `INSERT INTO notes (meeting_id, author_id, title, body, body_html) VALUES ($1, $2, 'Notatka', $3, '<p>x</p>') RETURNING id`, mid, u.ID, "Notatka o "+word))
	for seq := 1; seq <= 60; seq++ {
		body := fmt.Sprintf("wiadomość %d", seq)
		if seq == 57 {
			body = "Czat o " + word
		}
		must(db.Get(new(int64), `INSERT INTO chat_messages (meeting_id, seq, author_id, client_id, body, body_html) VALUES ($1, $2, $3, gen_random_uuid(), $4, $4) RETURNING id`, mid, seq, u.ID, body))
	}
	file := upload(t, c, mid, word+"-plan.pdf", samplePDF())
	must(db.Get(&jst, `INSERT INTO jst (name, kind, voivodeship) VALUES ($1, 'gmina_wiejska', 'lubelskie') RETURNING id`, "JST "+testkit.Unique()))
	must(db.Get(&prid, `INSERT INTO practices (group_id, jst_id, author_id, title, status, problem, published_at) VALUES ($1, $2, $3, $4, 'published', 'Opis', now()) RETURNING id`,
		g.ID, jst, u.ID, "Praktyka "+word))

	r := c.JSON("GET", "/api/v1/search?q="+word, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("search = %d %s", r.Status, r)
	}
	var raw map[string]json.RawMessage
	r.Decode(&raw)
	if got := sortedKeys(raw); got != "has_more,items,limit,page" {
		t.Errorf("answer keys %s", got)
	}
	var items []map[string]json.RawMessage
	must(json.Unmarshal(raw["items"], &items))
	want := map[string]string{
		"thread": fmt.Sprintf("/t/%d", tid), "post": fmt.Sprintf("/p/%d", pid), "meeting": fmt.Sprintf("/m/%d", mid),
		"note": fmt.Sprintf("/n/%d", nid), "message": fmt.Sprintf("/m/%d?after=56#c57", mid),
		"file": fmt.Sprintf("/attachments/%d", file.ID), "practice": fmt.Sprintf("/praktyki/%d", prid),
	}
	seen := map[string]bool{}
	for _, it := range items {
		if got := sortedKeys(it); got != "author,created_at,group_id,id,snippet_html,title,type,url" {
			t.Errorf("hit keys %s", got)
		}
		var h searchHit
		b, _ := json.Marshal(it)
		must(json.Unmarshal(b, &h))
		var author map[string]json.RawMessage
		must(json.Unmarshal(it["author"], &author))
		if got := sortedKeys(author); got != "id,jst,name" || h.Author.ID != u.ID {
			t.Errorf("%s author %s", h.Type, it["author"])
		}
		if at, err := time.Parse(time.RFC3339Nano, h.CreatedAt); err != nil || !strings.HasSuffix(h.CreatedAt, "Z") || at.IsZero() {
			t.Errorf("%s created_at %q is not RFC 3339 UTC", h.Type, h.CreatedAt)
		}
		if h.GroupID != g.ID || h.Title == "" || !strings.Contains(h.SnippetHTML, "<mark>") {
			t.Errorf("hit %+v", h)
		}
		if want[h.Type] != h.URL {
			t.Errorf("%s url %q, want %q", h.Type, h.URL, want[h.Type])
			continue
		}
		seen[h.Type] = true
		page := c.Get(h.URL)
		if h.Type == "post" {
			// A post's permalink sends to its thread's page, at the post.
			loc := page.Header.Get("Location")
			if page.Status != http.StatusFound || !strings.HasPrefix(loc, fmt.Sprintf("/t/%d", tid)) || !strings.HasSuffix(loc, fmt.Sprintf("#p%d", pid)) {
				t.Errorf("post link %s = %d to %q", h.URL, page.Status, loc)
			}
			page = c.Get(loc)
		}
		if page.Status != http.StatusOK {
			t.Errorf("%s link %s = %d", h.Type, h.URL, page.Status)
		}
		if h.Type == "message" && !strings.Contains(page.String(), `id="c57"`) {
			t.Errorf("the chat page at %s does not show message 57", h.URL)
		}
	}
	for typ := range want {
		if !seen[typ] {
			t.Errorf("no %s hit", typ)
		}
	}
	// A validation error is SPEC §4's error object with the field named.
	r = c.JSON("GET", "/api/v1/search?q=%22", nil)
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.Decode(&e)
	if r.Status != http.StatusBadRequest || e.Error.Code != "validation" || e.Error.Message == "" || !strings.Contains(r.String(), `"q"`) {
		t.Errorf("lone quote = %d %s", r.Status, r)
	}
}

func sortedKeys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// The author filter is a visible control on the page (not a hidden field one
// cannot see or drop), reached without JavaScript from a person's profile.
func TestSearchAuthorFilterOnThePage(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g := env.NewGroup(model.KindRural)
	u, author := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(u.ID, g.ID, model.GroupMember)
	env.AddMember(author.ID, g.ID, model.GroupMember)
	for _, who := range []int64{u.ID, author.ID} {
		if _, err := env.DB.Exec(`INSERT INTO threads (group_id, title, author_id) VALUES ($1, 'Retencja wody w szkole', $2)`, g.ID, who); err != nil {
			t.Fatal(err)
		}
	}
	c := env.Login(u)

	prof := c.Get(fmt.Sprintf("/u/%d", author.ID)).String()
	if !regexp.MustCompile(`<form [^>]*action="/search"[^>]*>`).MatchString(prof) ||
		!strings.Contains(prof, fmt.Sprintf(`name="author_id" value="%d"`, author.ID)) {
		t.Fatalf("the profile offers no search in the person's writing")
	}
	p := c.Get(fmt.Sprintf("/search?q=retencja&author_id=%d", author.ID))
	body := p.String()
	box := regexp.MustCompile(`<input [^>]*name="author_id"[^>]*>`).FindString(body)
	if p.Status != http.StatusOK || !strings.Contains(box, `type="checkbox"`) || !strings.Contains(box, "checked") ||
		!strings.Contains(body, author.Name) || strings.Count(body, `class="hit"`) != 1 {
		t.Fatalf("author filter on the page %d: %q", p.Status, box)
	}
	// Unchecked, the form sends no author_id and finds both threads.
	if n := strings.Count(c.Get("/search?q=retencja").String(), `class="hit"`); n != 2 {
		t.Fatalf("without the author: %d hits", n)
	}
}
