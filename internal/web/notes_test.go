package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type noteJSON struct {
	ID        int64  `json:"id"`
	MeetingID int64  `json:"meeting_id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	BodyHTML  string `json:"body_html"`
	Version   int    `json:"version"`
	Author    struct {
		ID   int64
		Name string
	}
	EditedBy *struct {
		ID   int64
		Name string
	} `json:"edited_by"`
}

type revisionJSON struct {
	Version int    `json:"version"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Editor  struct {
		ID   int64
		Name string
	}
	PreviousTitle *string `json:"previous_title"`
	Diff          []struct {
		Op      string `json:"op"`
		Text    string `json:"text"`
		Skipped int    `json:"skipped"`
	} `json:"diff"`
}

type attendanceJSON struct {
	MyAnswer  *string `json:"my_answer"`
	Watching  bool    `json:"watching"`
	Confirmed bool    `json:"confirmed"`
	Counts    struct {
		Yes, Maybe, No, Attended int
		NoAnswer                 int `json:"no_answer"`
	} `json:"counts"`
	Items []struct {
		User struct {
			ID   int64
			Name string
		} `json:"user"`
		Answer   *string `json:"answer"`
		Attended *bool   `json:"attended"`
	} `json:"items"`
}

func createNote(t *testing.T, c *testkit.Client, meetingID int64, title, body string) noteJSON {
	t.Helper()
	r := c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", meetingID), map[string]any{"title": title, "body": body})
	wantStatus(t, "create note", r, http.StatusCreated)
	var n noteJSON
	r.Decode(&n)
	return n
}

func editNote(c *testkit.Client, id int64, version int, body string) *testkit.Response {
	return c.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", id), map[string]any{"body": body, "version": version})
}

// Who may do what with notes, files, attendance and the record (SPEC §3):
// readers of the group read, members and moderators write, observers only
// read, moderators confirm and export attendance; another group's things are
// 404 and the anonymous are sent to log in.
func TestNotesFilesAttendancePermissions(t *testing.T) {
	w := newForumWorld(t)
	mod := w.env.Login(w.moderator)
	m := createMeeting(t, mod, w.group.ID)
	n := createNote(t, mod, m.ID, "Notatka z sesji 5", "Ustalenia.")
	a := upload(t, w.env.Login(w.member), m.ID, "Program.pdf", samplePDF())

	type action struct {
		name   string
		need   string // read, write, moderate
		page   bool   // a page (anonymous: redirect) rather than the API (anonymous: 401)
		ok     int    // status when allowed
		do     func(c *testkit.Client) *testkit.Response
		method string
	}
	mid, nid := m.ID, n.ID
	actions := []action{
		{name: "list notes", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/api/v1/meetings/%d/notes", mid)) }},
		{name: "read note", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/api/v1/notes/%d", nid)) }},
		{name: "note revisions", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.Get(fmt.Sprintf("/api/v1/notes/%d/revisions", nid))
		}},
		{name: "create note", need: "write", ok: 201, do: func(c *testkit.Client) *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", mid), map[string]any{"title": "Druga notatka", "body": "x"})
		}},
		// A stale version: writers get past the permission check to the conflict.
		{name: "edit note (stale)", need: "write", ok: 409, do: func(c *testkit.Client) *testkit.Response { return editNote(c, nid, 0+1000, "zmiana") }},
		{name: "list files", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.Get(fmt.Sprintf("/api/v1/meetings/%d/attachments", mid))
		}},
		{name: "upload", need: "write", ok: 201, do: func(c *testkit.Client) *testkit.Response {
			return uploadTo(t, c, fmt.Sprintf("/api/v1/meetings/%d/attachments", mid), "plik.txt", []byte("treść "+uuid.NewString()))
		}},
		{name: "download", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(a.URL) }},
		{name: "attendance", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.Get(fmt.Sprintf("/api/v1/meetings/%d/attendance", mid))
		}},
		{name: "answer", need: "write", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.JSON("PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", mid), map[string]string{"answer": "maybe"})
		}},
		{name: "confirm attendance", need: "moderate", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/attendance/confirm", mid), map[string]any{"attended": []int64{}})
		}},
		{name: "attendance CSV", need: "moderate", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/attendance.csv", mid)) }},
		{name: "record JSON", need: "read", ok: 200, do: func(c *testkit.Client) *testkit.Response {
			return c.Get(fmt.Sprintf("/api/v1/meetings/%d/record", mid))
		}},
		{name: "record page", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/record", mid)) }},
		{name: "record Markdown", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/record.md", mid)) }},
		{name: "note page", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/n/%d", nid)) }},
		{name: "note history page", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/n/%d/history", nid)) }},
		{name: "note edit page", need: "write", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/n/%d/edit", nid)) }},
		{name: "new note page", need: "write", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/notes/new", mid)) }},
		{name: "files page", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/files", mid)) }},
		{name: "attendance page", need: "read", page: true, ok: 200, do: func(c *testkit.Client) *testkit.Response { return c.Get(fmt.Sprintf("/m/%d/attendance", mid)) }},
	}
	roles := []struct {
		name                  string
		client                func() *testkit.Client
		read, write, moderate bool
		anonymous             bool
	}{
		{name: "anonymous", client: w.env.Anonymous, anonymous: true},
		{name: "non-member", client: func() *testkit.Client { return w.env.Login(w.outsider) }},
		{name: "observer", client: func() *testkit.Client { return w.env.Login(w.observer) }, read: true},
		{name: "member", client: func() *testkit.Client { return w.env.Login(w.member) }, read: true, write: true},
		{name: "moderator", client: func() *testkit.Client { return mod }, read: true, write: true, moderate: true},
		{name: "staff", client: func() *testkit.Client { return w.env.Login(w.env.NewUser(model.RoleStaff)) }, read: true, write: true, moderate: true},
		{name: "admin", client: func() *testkit.Client { return w.env.Login(w.env.NewUser(model.RoleAdmin)) }, read: true, write: true, moderate: true},
	}
	for _, rl := range roles {
		t.Run(rl.name, func(t *testing.T) {
			c := rl.client()
			for _, ac := range actions {
				r := ac.do(c)
				allowed := map[string]bool{"read": rl.read, "write": rl.write, "moderate": rl.moderate}[ac.need]
				var want int
				switch {
				case rl.anonymous && ac.page:
					if r.Status != http.StatusFound && r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
						t.Errorf("%s: anonymous got %d %q, want a redirect to /login", ac.name, r.Status, r.Header.Get("Location"))
					}
					continue
				case rl.anonymous:
					want = http.StatusUnauthorized
				case allowed:
					want = ac.ok
				case rl.read:
					want = http.StatusForbidden
				default:
					want = http.StatusNotFound
				}
				if r.Status != want {
					t.Errorf("%s: %d, want %d: %s", ac.name, r.Status, want, trim(r.String()))
				}
				if want == http.StatusNotFound && (strings.Contains(r.String(), n.Title) || strings.Contains(r.String(), "%PDF")) {
					t.Errorf("%s: the 404 leaks the note or file", ac.name)
				}
			}
		})
	}
}

// Two people save the same version at the same moment: one wins, the other
// gets 409 with the winner's text, merges and saves; the history shows it all.
func TestConcurrentNoteEdit(t *testing.T) {
	w := newForumWorld(t)
	mod, member := w.env.Login(w.moderator), w.env.Login(w.member)
	m := createMeeting(t, mod, w.group.ID)
	n := createNote(t, mod, m.ID, "Ustalenia sesji 5", "1. Diagnoza potrzeb do końca marca.\n2. Wizyta w szkole w Lubiczu.\n3. Budżet na dowozy.")
	if n.Version != 1 || !strings.Contains(n.BodyHTML, "<ol>") {
		t.Fatalf("created %+v", n)
	}
	modText := "1. Diagnoza potrzeb do końca marca.\n2. Wizyta w szkole w Lubiczu (przeniesiona na maj).\n3. Budżet na dowozy."
	memberText := "1. Diagnoza potrzeb do końca marca.\n2. Wizyta w szkole w Lubiczu.\n3. Budżet na dowozy.\n4. Propozycja dobrej praktyki z Morawicy."

	// Both loaded version 1 and save it at once.
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*testkit.Response, 2)
	for i, save := range []struct {
		c    *testkit.Client
		text string
	}{{mod, modText}, {member, memberText}} {
		wg.Add(1)
		go func(i int, c *testkit.Client, text string) {
			defer wg.Done()
			<-start
			results[i] = editNote(c, n.ID, 1, text)
		}(i, save.c, save.text)
	}
	close(start)
	wg.Wait()
	winner, loser, winnerText, loserClient := 0, 1, modText, member
	if results[0].Status != http.StatusOK {
		winner, loser, winnerText, loserClient = 1, 0, memberText, mod
	}
	wantStatus(t, "the winning save", results[winner], http.StatusOK)
	wantError(t, "the losing save", results[loser], http.StatusConflict, "stale_version")
	var conflict struct {
		Error struct {
			Current struct {
				ID      int64  `json:"id"`
				Version int    `json:"version"`
				Body    string `json:"body"`
			} `json:"current"`
		} `json:"error"`
	}
	results[loser].Decode(&conflict)
	if cur := conflict.Error.Current; cur.ID != n.ID || cur.Version != 2 || cur.Body != winnerText {
		t.Fatalf("409 current = %+v, want version 2 with the winner's text", cur)
	}
	// The loser merges both changes and saves on top of version 2.
	merged := "1. Diagnoza potrzeb do końca marca.\n2. Wizyta w szkole w Lubiczu (przeniesiona na maj).\n3. Budżet na dowozy.\n4. Propozycja dobrej praktyki z Morawicy."
	r := editNote(loserClient, n.ID, 2, merged)
	wantStatus(t, "merged save", r, http.StatusOK)
	var saved noteJSON
	r.Decode(&saved)
	if saved.Version != 3 || saved.Body != merged {
		t.Errorf("after merging: %+v", saved)
	}
	// Saving the same text again from an old version loses nothing and is no new version.
	r = editNote(mod, n.ID, 1, merged)
	wantStatus(t, "no-op save", r, http.StatusOK)
	r.Decode(&saved)
	if saved.Version != 3 {
		t.Errorf("a no-op save made version %d", saved.Version)
	}

	var revs struct{ Items []revisionJSON }
	member.Get(fmt.Sprintf("/api/v1/notes/%d/revisions", n.ID)).Decode(&revs)
	if len(revs.Items) != 3 || revs.Items[0].Version != 3 || revs.Items[2].Version != 1 {
		t.Fatalf("revisions %+v", revs.Items)
	}
	if n := countRows(t, w.env, `SELECT count(*) FROM note_revisions WHERE note_id = $1`, n.ID); n != 3 {
		t.Errorf("%d stored revisions, want 3", n)
	}
	ops := map[string][]string{}
	for _, d := range revs.Items[1].Diff { // version 2 against 1
		ops[d.Op] = append(ops[d.Op], d.Text)
	}
	if winnerText == modText {
		if len(ops["del"]) != 1 || len(ops["add"]) != 1 || !strings.Contains(ops["add"][0], "przeniesiona na maj") {
			t.Errorf("diff of version 2: %+v", revs.Items[1].Diff)
		}
	} else if len(ops["add"]) != 1 || !strings.Contains(ops["add"][0], "Morawicy") || len(ops["del"]) != 0 {
		t.Errorf("diff of version 2: %+v", revs.Items[1].Diff)
	}
	if revs.Items[0].Editor.ID == 0 || revs.Items[2].Editor.ID != w.moderator.ID {
		t.Errorf("editors: %+v", revs.Items)
	}
	page := member.Get(fmt.Sprintf("/n/%d/history", n.ID))
	wantStatus(t, "history page", page, http.StatusOK)
	if !contains(page.String(), "Wersja 3", "Wersja 1", "<ins>", "<del>", "Dodano:", "Usunięto:", "przeniesiona na maj") {
		t.Errorf("history page lacks the versions or the diff: %s", trim(page.String()))
	}
}

// The HTML edit form: a stale save comes back 409 with the other person's text
// beside yours (kept in the textarea) and a second save merges.
func TestNoteEditFormConflict(t *testing.T) {
	w := newForumWorld(t)
	mod, member := w.env.Login(w.moderator), w.env.Login(w.member)
	m := createMeeting(t, mod, w.group.ID)
	n := createNote(t, mod, m.ID, "Notatka robocza", "Pierwszy akapit.")
	edit := member.Get(fmt.Sprintf("/n/%d/edit", n.ID)).String()
	if !contains(edit, fmt.Sprintf(`data-note-id="%d"`, n.ID), `name="version" value="1"`, "Pierwszy akapit.") {
		t.Fatalf("edit page: %s", trim(edit))
	}
	wantStatus(t, "moderator saves meanwhile", editNote(mod, n.ID, 1, "Pierwszy akapit.\n\nUwagi moderatora."), http.StatusOK)
	form := url.Values{"version": {"1"}, "title": {"Notatka robocza"}, "body": {"Pierwszy akapit poprawiony przez członka."}}
	r := member.Form(fmt.Sprintf("/n/%d/edit", n.ID), form)
	wantStatus(t, "stale form save", r, http.StatusConflict)
	page := r.String()
	if !contains(page, "Ktoś zapisał tę notatkę", "Uwagi moderatora.", ">Pierwszy akapit poprawiony przez członka.</textarea>",
		`name="version" value="2"`, fmt.Sprintf(`data-note-id="%d"`, n.ID), "Zapisz połączoną wersję") {
		t.Fatalf("conflict page: %s", trim(page))
	}
	form.Set("version", "2")
	form.Set("body", "Pierwszy akapit poprawiony przez członka.\n\nUwagi moderatora.")
	r = member.Form(fmt.Sprintf("/n/%d/edit", n.ID), form)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/n/%d", n.ID) {
		t.Fatalf("merged form save: %d %q", r.Status, r.Header.Get("Location"))
	}
	var got noteJSON
	member.Get(fmt.Sprintf("/api/v1/notes/%d", n.ID)).Decode(&got)
	if got.Version != 3 || !strings.Contains(got.Body, "poprawiony") || !strings.Contains(got.Body, "Uwagi moderatora") || got.EditedBy == nil || got.EditedBy.ID != w.member.ID {
		t.Errorf("after merging: %+v", got)
	}
	// Validation through the form: the title is kept and the error summary names it.
	r = member.Form(fmt.Sprintf("/m/%d/notes", m.ID), url.Values{"title": {"ab"}, "body": {"Treść zostaje."}})
	wantStatus(t, "short title", r, http.StatusBadRequest)
	if !contains(r.String(), `class="error-summary"`, `href="#f-title"`, "Treść zostaje.") {
		t.Errorf("new note with errors: %s", trim(r.String()))
	}
	r = member.Form(fmt.Sprintf("/m/%d/notes", m.ID), url.Values{"title": {"Notatka z formularza"}, "body": {"**Ważne**"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/n/") {
		t.Errorf("new note form: %d %q", r.Status, r.Header.Get("Location"))
	}
}

func TestNoteValidation(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	path := fmt.Sprintf("/api/v1/meetings/%d/notes", m.ID)
	wantDetails(t, "no title", member.JSON("POST", path, map[string]any{"body": "x"}), "title")
	wantDetails(t, "short title", member.JSON("POST", path, map[string]any{"title": "ab"}), "title")
	wantDetails(t, "huge body", member.JSON("POST", path, map[string]any{"title": "Notatka", "body": strings.Repeat("ą", 100001)}), "body")
	wantError(t, "unknown field", member.JSON("POST", path, map[string]any{"title": "Notatka", "tags": []string{}}), 400, "bad_request")
	n := createNote(t, member, m.ID, "  Notatka   bez treści ", "")
	if n.Title != "Notatka bez treści" || n.Body != "" {
		t.Errorf("created %+v", n)
	}
	wantDetails(t, "edit without version", member.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", n.ID), map[string]any{"body": "x"}), "version")
	r := member.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", n.ID), map[string]any{"title": "Nowy tytuł notatki", "version": 1})
	wantStatus(t, "rename", r, http.StatusOK)
	var revs struct{ Items []revisionJSON }
	member.Get(fmt.Sprintf("/api/v1/notes/%d/revisions", n.ID)).Decode(&revs)
	if len(revs.Items) != 2 || revs.Items[0].PreviousTitle == nil || *revs.Items[0].PreviousTitle != "Notatka bez treści" {
		t.Errorf("rename in history: %+v", revs.Items)
	}
	wantStatus(t, "unknown note", member.Get("/api/v1/notes/999999999"), http.StatusNotFound)
}

// A note written before revisions were kept (the demo data's) keeps its first
// text in the history when it is first edited.
func TestOldNoteKeepsItsFirstVersion(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	id, err := store.CreateNote(context.Background(), w.env.DB, store.NewNote{MeetingID: m.ID, AuthorID: w.moderator.ID,
		Title: "Notatka z sesji 3", Body: "Stara treść.", BodyHTML: "<p>Stara treść.</p>"})
	if err != nil {
		t.Fatal(err)
	}
	var revs struct{ Items []revisionJSON }
	member.Get(fmt.Sprintf("/api/v1/notes/%d/revisions", id)).Decode(&revs)
	if len(revs.Items) != 1 || revs.Items[0].Body != "Stara treść." {
		t.Fatalf("history of a note without revisions: %+v", revs.Items)
	}
	wantStatus(t, "first edit", editNote(member, id, 1, "Nowa treść."), http.StatusOK)
	member.Get(fmt.Sprintf("/api/v1/notes/%d/revisions", id)).Decode(&revs)
	if len(revs.Items) != 2 || revs.Items[1].Body != "Stara treść." || revs.Items[1].Editor.ID != w.moderator.ID || revs.Items[0].Editor.ID != w.member.ID {
		t.Errorf("history after the first edit: %+v", revs.Items)
	}
}

// Attendance: answers, "będę" watches the meeting, moderators confirm who
// came and export the list as CSV that Excel reads with Polish letters.
func TestAttendance(t *testing.T) {
	w := newForumWorld(t)
	mod, member, observer, outsider := w.env.Login(w.moderator), w.env.Login(w.member), w.env.Login(w.observer), w.env.Login(w.outsider)
	other := w.env.NewUser(model.RoleMember)
	w.env.AddMember(other.ID, w.group.ID, model.GroupMember)
	var jstID int64
	if err := w.env.DB.Get(&jstID, `INSERT INTO jst (name, kind, voivodeship) VALUES ($1, 'gmina_wiejska', 'lubelskie') RETURNING id`,
		"Gmina Żółkiewka "+testkit.Unique()); err != nil {
		t.Fatal(err)
	}
	w.env.DB.MustExec(`UPDATE users SET jst_id = $1, display_name = 'Łucja Źdźbło' WHERE id = $2`, jstID, w.member.ID)
	// A name that a spreadsheet would run as a formula.
	w.env.DB.MustExec(`UPDATE users SET display_name = '=HYPERLINK("http://evil.example")' WHERE id = $1`, other.ID)
	m := createMeeting(t, mod, w.group.ID)
	path := fmt.Sprintf("/api/v1/meetings/%d/attendance", m.ID)
	answer := func(c *testkit.Client, a string) (*testkit.Response, attendanceJSON) {
		r := c.JSON("PUT", path, map[string]string{"answer": a})
		var out attendanceJSON
		if r.Status == http.StatusOK {
			r.Decode(&out)
		}
		return r, out
	}
	watching := func() int {
		return countRows(t, w.env, `SELECT count(*) FROM meeting_watchers WHERE meeting_id = $1 AND user_id = $2`, m.ID, w.member.ID)
	}
	r, a := answer(member, "yes")
	wantStatus(t, "answer będę", r, http.StatusOK)
	if a.MyAnswer == nil || *a.MyAnswer != "yes" || !a.Watching || watching() != 1 {
		t.Errorf("after będę: %+v, watch rows %d", a, watching())
	}
	if _, a = answer(member, "no"); !(a.MyAnswer != nil && *a.MyAnswer == "no" && !a.Watching && watching() == 0) {
		t.Errorf("after nie będę: %+v, watch rows %d", a, watching())
	}
	if _, a = answer(member, "maybe"); a.Watching || watching() != 0 {
		t.Errorf("może watches: %+v", a)
	}
	answer(member, "yes")
	answer(mod, "maybe")
	wantStatus(t, "observer answers", func() *testkit.Response { r, _ := answer(observer, "yes"); return r }(), http.StatusForbidden)
	wantStatus(t, "non-member answers", func() *testkit.Response { r, _ := answer(outsider, "yes"); return r }(), http.StatusNotFound)
	r, _ = answer(member, "tak")
	wantDetails(t, "unknown answer", r, "answer")

	var list attendanceJSON
	observer.Get(path).Decode(&list)
	names := map[int64]*string{}
	for _, it := range list.Items {
		names[it.User.ID] = it.Answer
	}
	if len(list.Items) != 3 || names[w.member.ID] == nil || *names[w.member.ID] != "yes" || names[other.ID] != nil {
		t.Errorf("list %+v (observers and outsiders are not expected)", list.Items)
	}
	if _, ok := names[w.observer.ID]; ok {
		t.Error("an observer is on the attendance list")
	}
	if list.Counts.Yes != 1 || list.Counts.Maybe != 1 || list.Counts.NoAnswer != 1 || list.Confirmed {
		t.Errorf("counts %+v", list.Counts)
	}

	confirm := func(c *testkit.Client, ids ...int64) *testkit.Response {
		return c.JSON("POST", path+"/confirm", map[string]any{"attended": ids})
	}
	wantStatus(t, "member confirms", confirm(member, w.member.ID), http.StatusForbidden)
	wantStatus(t, "member exports", member.Get(fmt.Sprintf("/m/%d/attendance.csv", m.ID)), http.StatusForbidden)
	wantDetails(t, "confirm someone off the list", confirm(mod, w.outsider.ID), "attended")
	r = confirm(mod, w.member.ID, w.moderator.ID)
	wantStatus(t, "moderator confirms", r, http.StatusOK)
	r.Decode(&list)
	if !list.Confirmed || list.Counts.Attended != 2 {
		t.Errorf("after confirming: %+v", list.Counts)
	}
	for _, it := range list.Items {
		if it.Attended == nil || *it.Attended != (it.User.ID != other.ID) {
			t.Errorf("%s attended = %v", it.User.Name, it.Attended)
		}
	}

	csv := mod.Get(fmt.Sprintf("/m/%d/attendance.csv", m.ID))
	wantStatus(t, "CSV", csv, http.StatusOK)
	if ct := csv.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("CSV Content-Type %q", ct)
	}
	if d := csv.Header.Get("Content-Disposition"); !strings.HasPrefix(d, "attachment;") || !strings.Contains(d, ".csv") {
		t.Errorf("CSV Content-Disposition %q", d)
	}
	body := csv.String()
	if !strings.HasPrefix(body, "\uFEFFImię i nazwisko,JST,Odpowiedź,Obecność\n") {
		t.Errorf("CSV does not start with a BOM and the header: %q", trim(body))
	}
	for _, want := range []string{"Łucja Źdźbło,Gmina Żółkiewka", ",Będę,obecna/obecny", `"'=HYPERLINK(""http://evil.example"")",,,nieobecna/nieobecny`, ",Może,obecna/obecny"} {
		if !strings.Contains(body, want) {
			t.Errorf("CSV lacks %q:\n%s", want, body)
		}
	}

	// The HTML forms.
	r = member.Form(fmt.Sprintf("/m/%d/attendance", m.ID), url.Values{"answer": {"maybe"}, "next": {fmt.Sprintf("/m/%d", m.ID)}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/m/%d#attendance", m.ID) {
		t.Errorf("answer form: %d %q", r.Status, r.Header.Get("Location"))
	}
	r = mod.Form(fmt.Sprintf("/m/%d/attendance/confirm", m.ID), url.Values{"attended": {fmt.Sprint(other.ID)}})
	if r.Status != http.StatusSeeOther {
		t.Errorf("confirm form: %d", r.Status)
	}
	page := mod.Get(fmt.Sprintf("/m/%d/attendance", m.ID)).String()
	if !contains(page, fmt.Sprintf(`id="att-%d" name="attended" value="%d" checked`, other.ID, other.ID), "Lista obecności zapisana", "attendance.csv") {
		t.Errorf("attendance page for a moderator: %s", trim(page))
	}
	if strings.Contains(member.Get(fmt.Sprintf("/m/%d/attendance", m.ID)).String(), `name="attended"`) {
		t.Error("a member sees the confirmation form")
	}

	// Once the meeting is over, answers are closed.
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil)
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/end", m.ID), nil)
	r, _ = answer(member, "yes")
	wantError(t, "answer after the end", r, http.StatusForbidden, "meeting_ended")
}

// The meeting record gathers agenda, notes, attendance, files and the whole
// chat, as a print-friendly page and as Markdown.
func TestMeetingRecord(t *testing.T) {
	w := newForumWorld(t)
	mod, member := w.env.Login(w.moderator), w.env.Login(w.member)
	m := createMeeting(t, mod, w.group.ID)
	createNote(t, mod, m.ID, "Notatka z sesji 5", "## Najważniejsze ustalenia\n\n- sieć szkół na 6 lat")
	f := upload(t, member, m.ID, "Prezentacja gminy.pdf", samplePDF())
	member.JSON("PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", m.ID), map[string]string{"answer": "yes"})
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil)
	staff := w.env.Login(w.env.NewUser(model.RoleStaff)) // no chat rate limit
	for i := 1; i <= 60; i++ {                           // more than one chat page
		wantStatus(t, "chat", send(staff, m.ID, uuid.NewString(), fmt.Sprintf("Wiadomość numer %d", i)), http.StatusCreated)
	}
	send(mod, m.ID, uuid.NewString(), "Dziękuję za **spotkanie**\ndo zobaczenia")
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/end", m.ID), nil)

	r := member.Get(fmt.Sprintf("/m/%d/record", m.ID))
	wantStatus(t, "record page", r, http.StatusOK)
	page := r.String()
	for _, want := range []string{"Zapis spotkania: Sesja 5: Monitorowanie jakości", "<strong>Dzień 1</strong>", "Notatka z sesji 5", "Najważniejsze ustalenia",
		w.member.Name, "Będę", "Prezentacja gminy.pdf", "Wiadomość numer 1<", "Wiadomość numer 60", "<strong>spotkanie</strong>", "Drukuj"} {
		if !strings.Contains(page, want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	article := page[strings.Index(page, `<article class="record">`):]
	article = article[:strings.Index(article, "</article>")] // the page's footer (shortcuts dialog) is not the record
	if strings.Contains(article, "<form") {
		t.Error("the record has forms in it")
	}

	r = member.Get(fmt.Sprintf("/m/%d/record.md", m.ID))
	wantStatus(t, "record Markdown", r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Markdown Content-Type %q", ct)
	}
	if d := r.Header.Get("Content-Disposition"); !strings.HasPrefix(d, `attachment; filename="Zapis_spotkania_Sesja_5`) ||
		!strings.Contains(d, "filename*=UTF-8''Zapis_spotkania_Sesja_5%3A_Monitorowanie_jako%C5%9Bci.md") {
		t.Errorf("Markdown Content-Disposition %q", d)
	}
	md := r.String()
	for _, want := range []string{"# Sesja 5: Monitorowanie jakości\n", "## Program\n\n**Dzień 1**", "## Notatki z sesji", "### Notatka z sesji 5",
		"- sieć szkół na 6 lat", "| Imię i nazwisko | JST | Odpowiedź | Obecność |", "| Będę |",
		fmt.Sprintf("[Prezentacja gminy.pdf](%s%s)", w.env.URL, f.URL), "## Zapis czatu", "> Wiadomość numer 1\n", "> Wiadomość numer 60\n",
		"> Dziękuję za **spotkanie**\n> do zobaczenia"} {
		if !strings.Contains(md, want) {
			t.Errorf("record Markdown lacks %q", want)
		}
	}
	if strings.Index(md, "## Program") > strings.Index(md, "## Notatki") || strings.Index(md, "## Pliki") > strings.Index(md, "## Zapis czatu") {
		t.Error("record Markdown sections out of order")
	}

	var rec struct {
		Meeting struct{ Title string }
		Notes   []noteJSON
		Files   []attachmentJSON
		Chat    []struct{ Seq int64 }
	}
	member.Get(fmt.Sprintf("/api/v1/meetings/%d/record", m.ID)).Decode(&rec)
	if len(rec.Notes) != 1 || len(rec.Files) != 1 || len(rec.Chat) != 61 || rec.Chat[60].Seq != 61 {
		t.Errorf("record JSON: %d notes, %d files, %d messages", len(rec.Notes), len(rec.Files), len(rec.Chat))
	}
	wantStatus(t, "record of another group", w.env.Login(w.outsider).Get(fmt.Sprintf("/m/%d/record.md", m.ID)), http.StatusNotFound)
	css := w.env.Anonymous().Get(staticCSS(t, w.env.Anonymous()))
	if !strings.Contains(css.String(), "@media print") {
		t.Error("the stylesheet has no print rules")
	}
}

// The meeting page links everything: notes, files with an upload form, the
// attendance form and the record; observers get the lists without the forms.
func TestMeetingPageLinksNotesFilesAttendance(t *testing.T) {
	w := newForumWorld(t)
	mod, member := w.env.Login(w.moderator), w.env.Login(w.member)
	m := createMeeting(t, mod, w.group.ID)
	n := createNote(t, mod, m.ID, "Notatka do przeczytania", "x")
	upload(t, member, m.ID, "Agenda.pdf", samplePDF())
	page := member.Get(fmt.Sprintf("/m/%d", m.ID)).String()
	for _, want := range []string{fmt.Sprintf(`href="/n/%d"`, n.ID), fmt.Sprintf(`href="/m/%d/notes/new"`, m.ID), "Agenda.pdf",
		fmt.Sprintf(`action="/m/%d/files" enctype="multipart/form-data"`, m.ID), `for="f-file"`,
		fmt.Sprintf(`action="/m/%d/attendance"`, m.ID), `name="answer" value="yes"`, fmt.Sprintf(`href="/m/%d/record"`, m.ID),
		fmt.Sprintf(`href="/m/%d/attendance"`, m.ID)} {
		if !strings.Contains(page, want) {
			t.Errorf("meeting page lacks %s", want)
		}
	}
	obs := w.env.Login(w.observer).Get(fmt.Sprintf("/m/%d", m.ID)).String()
	if !strings.Contains(obs, "Notatka do przeczytania") || !strings.Contains(obs, "Agenda.pdf") ||
		strings.Contains(obs, `name="file"`) || strings.Contains(obs, `name="answer"`) || strings.Contains(obs, "/notes/new") {
		t.Error("observer's meeting page: lists missing or forms shown")
	}
}
