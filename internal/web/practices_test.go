package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type practiceJSON struct {
	ID      int64  `json:"id"`
	GroupID int64  `json:"group_id"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Version int    `json:"version"`
	JST     struct {
		ID          int64  `json:"id"`
		Kind        string `json:"kind"`
		Voivodeship string `json:"voivodeship"`
	} `json:"jst"`
	Areas []struct {
		ID int64 `json:"id"`
	} `json:"areas"`
	Problem       string  `json:"problem"`
	ResultsHTML   string  `json:"results_html"`
	Costs         string  `json:"costs"`
	ThreadID      *int64  `json:"thread_id"`
	ReturnComment *string `json:"return_comment"`
	Attachments   []struct {
		ID  int64  `json:"id"`
		URL string `json:"url"`
	} `json:"attachments"`
}

// practiceWorld is a group with a member from a JST of the given kind and
// voivodeship, an observer, a member of another group, and staff.
type practiceWorld struct {
	env                            *testkit.Env
	group, otherGroup              model.Group
	jst                            model.JST
	member, observer, other, staff *testkit.Client
	memberID                       int64
}

func newPracticeWorld(t *testing.T, kind, voivodeship string) *practiceWorld {
	env := testkit.Start(t, dbURL)
	w := &practiceWorld{env: env, group: env.NewGroup(model.KindRural), otherGroup: env.NewGroup(model.KindUrban)}
	var err error
	w.jst, err = store.CreateJST(context.Background(), env.DB, store.NewJST{Name: "JST " + testkit.Unique(), Kind: kind, Voivodeship: voivodeship})
	if err != nil {
		t.Fatal(err)
	}
	user := func(role string, group int64, groupRole string) (testkit.User, *testkit.Client) {
		u := env.NewUser(role)
		if _, err := env.DB.Exec(`UPDATE users SET jst_id = $2 WHERE id = $1`, u.ID, w.jst.ID); err != nil {
			t.Fatal(err)
		}
		if group != 0 {
			env.AddMember(u.ID, group, groupRole)
		}
		return u, env.Login(u)
	}
	var m testkit.User
	m, w.member = user(model.RoleMember, w.group.ID, model.GroupMember)
	w.memberID = m.ID
	_, w.observer = user(model.RoleMember, w.group.ID, model.GroupObserver)
	_, w.other = user(model.RoleMember, w.otherGroup.ID, model.GroupMember)
	_, w.staff = user(model.RoleStaff, 0, "")
	return w
}

func (w *practiceWorld) create(t *testing.T, title string, extra map[string]any) practiceJSON {
	t.Helper()
	body := map[string]any{"title": title, "problem": "Brak miejsc w przedszkolach.", "solution": "Oddział przedszkolny w szkole.",
		"results": "**45** nowych miejsc, 100% chętnych przyjętych.", "costs": "300 tys. zł", "transfer": "Potrzebna sala.",
		"contact": "Jan Kowalski, referat oświaty"}
	for k, v := range extra {
		body[k] = v
	}
	r := w.member.JSON("POST", "/api/v1/practices", body)
	wantStatus(t, "create practice", r, http.StatusCreated)
	var p practiceJSON
	r.Decode(&p)
	return p
}

func (w *practiceWorld) publish(t *testing.T, id int64) {
	t.Helper()
	wantStatus(t, "submit", w.member.JSON("POST", fmt.Sprintf("/api/v1/practices/%d/submit", id), nil), http.StatusOK)
	wantStatus(t, "publish", w.staff.JSON("POST", fmt.Sprintf("/api/v1/practices/%d/publish", id), nil), http.StatusOK)
}

// The API of SPEC §4: create answers 201 with the object (a draft of the
// member's JST, its discussion thread opened in the group), another group's
// draft is 404, an edit from a stale version is 409 with the current text and
// changes nothing, a good edit 200 with the next version, every version a
// revision; staff publish, the author is told, and the filters find it.
func TestPracticeAPIContract(t *testing.T) {
	w := newPracticeWorld(t, "gmina_miejsko_wiejska", "dolnośląskie")
	var areaID int64
	if err := w.env.DB.Get(&areaID, `SELECT id FROM support_areas ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	p := w.create(t, "Boiska przy szkołach", map[string]any{"areas": []int64{areaID}})
	if p.ID == 0 || p.Status != "draft" || p.Version != 1 || p.JST.ID != w.jst.ID || p.GroupID != w.group.ID || len(p.Areas) != 1 {
		t.Fatalf("created %+v", p)
	}
	if !strings.Contains(p.ResultsHTML, "<strong>45</strong>") {
		t.Errorf("results not rendered: %q", p.ResultsHTML)
	}
	if p.ThreadID == nil {
		t.Fatal("no discussion thread")
	}
	var threadGroup int64
	if err := w.env.DB.Get(&threadGroup, `SELECT group_id FROM threads WHERE id = $1`, *p.ThreadID); err != nil || threadGroup != w.group.ID {
		t.Errorf("thread %d in group %d (%v), want %d", *p.ThreadID, threadGroup, err, w.group.ID)
	}
	path := fmt.Sprintf("/api/v1/practices/%d", p.ID)
	wantError(t, "other group reads a draft", w.other.JSON("GET", path, nil), http.StatusNotFound, "not_found")
	wantError(t, "observer edits", w.observer.JSON("PATCH", path, map[string]any{"costs": "x", "version": 1}), http.StatusForbidden, "forbidden")
	wantStatus(t, "unknown field", w.member.JSON("PATCH", path, map[string]any{"cost": "x", "version": 1}), http.StatusBadRequest)

	// Two editors start from version 1; the second save is stale.
	r := w.member.JSON("PATCH", path, map[string]any{"costs": "320 tys. zł", "version": 1})
	wantStatus(t, "edit", r, http.StatusOK)
	var edited practiceJSON
	r.Decode(&edited)
	if edited.Version != 2 || edited.Costs != "320 tys. zł" {
		t.Errorf("edited: version %d, costs %q", edited.Version, edited.Costs)
	}
	r = w.staff.JSON("PATCH", path, map[string]any{"costs": "stale text", "version": 1})
	wantError(t, "stale edit", r, http.StatusConflict, "stale_version")
	if !strings.Contains(r.String(), `"current":`) || !strings.Contains(r.String(), "320 tys. zł") {
		t.Errorf("409 does not carry the current text: %s", r.String())
	}
	var revs struct {
		Items []struct{ Version int } `json:"items"`
	}
	w.member.JSON("GET", path+"/revisions", nil).Decode(&revs)
	if len(revs.Items) != 2 || revs.Items[0].Version != 2 {
		t.Errorf("revisions: %+v", revs.Items)
	}

	// Staff return it with a comment, the author fixes and resubmits, staff publish.
	wantStatus(t, "submit", w.member.JSON("POST", path+"/submit", nil), http.StatusOK)
	wantError(t, "return without comment", w.staff.JSON("POST", path+"/return", map[string]string{"comment": ""}), http.StatusBadRequest, "validation")
	r = w.staff.JSON("POST", path+"/return", map[string]string{"comment": "Proszę dopisać koszty utrzymania."})
	wantStatus(t, "return", r, http.StatusOK)
	var returned practiceJSON
	w.member.JSON("GET", path, nil).Decode(&returned)
	if returned.Status != "returned" || returned.ReturnComment == nil || *returned.ReturnComment != "Proszę dopisać koszty utrzymania." {
		t.Errorf("returned: %+v", returned)
	}
	wantStatus(t, "edit after return", w.member.JSON("PATCH", path, map[string]any{"costs": "320 tys. zł + 20 tys. zł rocznie", "version": returned.Version}), http.StatusOK)
	w.publish(t, p.ID)
	r = w.other.JSON("GET", path, nil)
	wantStatus(t, "other group reads it published", r, http.StatusOK)
	// The discussion stays in the authors' group: another group's reader is
	// not sent to a thread that would answer 404 (page or API).
	var seen struct {
		ThreadID *int64 `json:"thread_id"`
	}
	r.Decode(&seen)
	if seen.ThreadID != nil {
		t.Errorf("another group's member is given the discussion thread %d they cannot read", *seen.ThreadID)
	}
	if page := w.other.Get(fmt.Sprintf("/praktyki/%d", p.ID)); page.Status != http.StatusOK || strings.Contains(page.String(), fmt.Sprintf(`href="/t/%d"`, *p.ThreadID)) {
		t.Errorf("another group's practice page: %d, links the unreadable thread: %v", page.Status, page.Status == http.StatusOK)
	}
	wantError(t, "member edits it published", w.member.JSON("PATCH", path, map[string]any{"costs": "x", "version": 4}), http.StatusForbidden, "forbidden")

	var notes struct {
		Items []struct {
			Kind string `json:"kind"`
			URL  string `json:"url"`
		} `json:"items"`
	}
	w.member.JSON("GET", "/api/v1/notifications", nil).Decode(&notes)
	kinds := map[string]string{}
	for _, n := range notes.Items {
		kinds[n.Kind] = n.URL
	}
	if kinds["practice_published"] != fmt.Sprintf("/praktyki/%d", p.ID) || kinds["practice_returned"] == "" {
		t.Errorf("author's notifications: %+v", notes.Items)
	}
	var audit int
	if err := w.env.DB.Get(&audit, `SELECT count(*) FROM audit_log WHERE target_type = 'practice' AND target_id = $1`, p.ID); err != nil || audit != 4 {
		t.Errorf("audit entries of the practice: %d (%v), want 4 (submit, return, submit, publish)", audit, err)
	}

	// Filters: a draft of the same JST is listed for its group only; the
	// published one by kind, voivodeship and area, and not by another kind.
	draft := w.create(t, "Szkic innej praktyki", nil)
	ids := func(c *testkit.Client, query string) map[int64]bool {
		var l struct {
			Items []practiceJSON `json:"items"`
		}
		r := c.JSON("GET", "/api/v1/practices?"+query, nil)
		wantStatus(t, "list "+query, r, http.StatusOK)
		r.Decode(&l)
		out := map[int64]bool{}
		for _, it := range l.Items {
			out[it.ID] = true
		}
		return out
	}
	for _, tc := range []struct {
		c           *testkit.Client
		query       string
		pub, drafty bool
	}{
		{w.other, "jst_kind=gmina_miejsko_wiejska&voivodeship=" + url.QueryEscape("dolnośląskie"), true, false},
		{w.other, fmt.Sprintf("area=%d&status=published", areaID), true, false},
		{w.other, "jst_kind=powiat", false, false},
		{w.other, "status=draft", false, false},
		{w.member, "status=draft", false, true},
		{w.observer, "voivodeship=" + url.QueryEscape("dolnośląskie"), true, true},
	} {
		got := ids(tc.c, tc.query)
		if got[p.ID] != tc.pub || got[draft.ID] != tc.drafty {
			t.Errorf("?%s: published listed %v (want %v), draft %v (want %v)", tc.query, got[p.ID], tc.pub, got[draft.ID], tc.drafty)
		}
	}
	wantDetails(t, "unknown kind", w.member.JSON("GET", "/api/v1/practices?jst_kind=wies", nil), "jst_kind")
}

// A file attached to a practice is stored like a meeting's (type from
// content, by checksum), downloads through /attachments/{id} with the
// practice's read rule: the group only while a draft, everyone once published.
// Observers cannot upload.
func TestPracticeAttachmentUploadDownload(t *testing.T) {
	w := newPracticeWorld(t, "powiat", "lubuskie")
	p := w.create(t, "Centrum doradztwa zawodowego", nil)
	up := fmt.Sprintf("/api/v1/practices/%d/attachments", p.ID)
	pdf := samplePDF()
	r := uploadTo(t, w.observer, up, "opis.pdf", pdf)
	wantError(t, "observer uploads", r, http.StatusForbidden, "forbidden")
	// Larger than an ordinary request body (1 MiB): the header hook must
	// grant the upload limit to who may upload to this practice.
	pdf = append(pdf, bytes.Repeat([]byte("%"), 1<<20+1000)...)
	r = uploadTo(t, w.member, up, "Raport z wdrożenia.pdf", pdf)
	wantStatus(t, "member uploads", r, http.StatusCreated)
	var at attachmentJSON
	r.Decode(&at)
	if at.Kind != "pdf" || at.MeetingID != 0 {
		t.Errorf("attachment %+v", at)
	}
	var got practiceJSON
	w.member.JSON("GET", fmt.Sprintf("/api/v1/practices/%d", p.ID), nil).Decode(&got)
	if len(got.Attachments) != 1 || got.Attachments[0].ID != at.ID {
		t.Fatalf("practice's attachments: %+v", got.Attachments)
	}
	dl := got.Attachments[0].URL
	r = w.member.Get(dl)
	wantStatus(t, "member downloads", r, http.StatusOK)
	if string(r.Body) != string(pdf) || r.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("download: %q %q", r.Header.Get("Content-Type"), r.Body)
	}
	wantStatus(t, "other group downloads a draft's file", w.other.Get(dl), http.StatusNotFound)
	w.publish(t, p.ID)
	wantStatus(t, "other group downloads a published practice's file", w.other.Get(dl), http.StatusOK)
	// Published: the member no longer edits, so no more uploads; staff may.
	wantError(t, "member uploads to a published practice", uploadTo(t, w.member, up, "b.pdf", samplePDF()), http.StatusForbidden, "forbidden")
	wantStatus(t, "staff upload", uploadTo(t, w.staff, up, "c.pdf", samplePDF()), http.StatusCreated)
	// Nor does the uploader delete the file once the practice is published;
	// staff may, and the page's delete form leads back to the practice.
	del := fmt.Sprintf("/api/v1/attachments/%d", at.ID)
	wantError(t, "uploader deletes from a published practice", w.member.JSON("DELETE", del, nil), http.StatusForbidden, "forbidden")
	r = w.staff.Form(fmt.Sprintf("/files/%d/delete", at.ID), nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/praktyki/%d#files", p.ID) {
		t.Errorf("staff delete = %d to %q", r.Status, r.Header.Get("Location"))
	}
	wantStatus(t, "deleted file", w.other.Get(dl), http.StatusNotFound)
}

// Search finds a published practice (type practice, linked to /praktyki/{id})
// for a member of any group, and a draft only for those who may read its page:
// the authors' group (members and observers) and staff.
func TestPracticeSearch(t *testing.T) {
	w := newPracticeWorld(t, "gmina_wiejska", "podlaskie")
	word := "Zywokost" + strings.ToLower(testkit.Unique()[:4])
	pub := w.create(t, "Praktyka "+word+" opublikowana", nil)
	w.publish(t, pub.ID)
	draft := w.create(t, "Praktyka "+word+" szkic", nil)
	type hits struct {
		Items []struct {
			Type string `json:"type"`
			ID   int64  `json:"id"`
			URL  string `json:"url"`
		} `json:"items"`
	}
	for name, c := range map[string]*testkit.Client{"own member": w.member, "own observer": w.observer, "staff": w.staff, "other group": w.other} {
		var h hits
		r := c.JSON("GET", "/api/v1/search?type=practice&q="+url.QueryEscape(word), nil)
		wantStatus(t, "search", r, http.StatusOK)
		r.Decode(&h)
		found := map[int64]string{}
		for _, it := range h.Items {
			if it.Type == "practice" {
				found[it.ID] = it.URL
			}
		}
		if found[pub.ID] != fmt.Sprintf("/praktyki/%d", pub.ID) {
			t.Errorf("%s: published practice not found: %+v", name, h.Items)
		}
		if _, ok := found[draft.ID]; ok != (c != w.other) {
			t.Errorf("%s: the draft found %v", name, ok)
		}
	}
}

// Without JavaScript: the form refuses a practice without a title with the
// error summary linking to the field and keeps what was typed; an edit saved
// from a stale version comes back (409) with the other person's text beside
// the editor's own, which is kept in the form.
func TestPracticeFormsWithoutJavaScript(t *testing.T) {
	w := newPracticeWorld(t, "gmina_wiejska", "opolskie")
	r := w.member.Form("/praktyki", url.Values{"group_id": {fmt.Sprint(w.group.ID)}, "jst_id": {fmt.Sprint(w.jst.ID)},
		"title": {""}, "problem": {"Mój opis problemu"}})
	wantStatus(t, "practice without a title", r, http.StatusBadRequest)
	for _, want := range []string{`href="#f-title"`, "Mój opis problemu", `aria-invalid="true"`} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	r = w.member.Form("/praktyki", url.Values{"group_id": {fmt.Sprint(w.group.ID)}, "jst_id": {fmt.Sprint(w.jst.ID)},
		"title": {"Dowozy własnym autobusem"}, "problem": {"Drogie przetargi"}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/praktyki/") {
		t.Fatalf("create by form = %d, Location %q", r.Status, r.Header.Get("Location"))
	}
	page := r.Header.Get("Location")
	edit := func(c *testkit.Client, version int, problem string) *testkit.Response {
		return c.Form(page+"/edytuj", url.Values{"version": {fmt.Sprint(version)}, "jst_id": {fmt.Sprint(w.jst.ID)},
			"title": {"Dowozy własnym autobusem"}, "problem": {problem}})
	}
	if r := edit(w.member, 1, "Drogie przetargi na dowozy"); r.Status != http.StatusSeeOther {
		t.Fatalf("edit = %d: %s", r.Status, trim(r.String()))
	}
	r = edit(w.staff, 1, "Tekst z nieaktualnej wersji")
	wantStatus(t, "stale edit by form", r, http.StatusConflict)
	for _, want := range []string{"Drogie przetargi na dowozy", "Tekst z nieaktualnej wersji", `name="version" value="2"`} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("the conflict page lacks %q", want)
		}
	}
}
