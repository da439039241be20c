package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/reviews"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Opinions on training materials (issue 15 item 3).

type reviewJSON struct {
	ID       int64 `json:"id"`
	Open     bool  `json:"open"`
	Document *struct {
		Filename string `json:"filename"`
		Kind     string `json:"kind"`
		Checksum string `json:"checksum"`
		URL      string `json:"url"`
	} `json:"document"`
	Sections []struct {
		ID      int64          `json:"id"`
		Number  string         `json:"number"`
		Ratings map[string]int `json:"ratings"`
	} `json:"sections"`
	CanComment    bool `json:"can_comment"`
	CanAdminister bool `json:"can_administer"`
}

type reviewCommentJSON struct {
	ID       int64   `json:"id"`
	ReplyTo  *int64  `json:"reply_to"`
	Rating   *string `json:"rating"`
	BodyHTML string  `json:"body_html"`
	Response *struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"response"`
}

// reviewFixture: a material open to one group, with a member, an observer,
// a member of another group, and staff; one section.
type reviewFixture struct {
	env                        *testkit.Env
	staff, member, observer    *testkit.Client
	outsider                   *testkit.Client
	memberUser                 testkit.User
	reviewID, sectionID, other int64 // other: a second section
}

func newReviewFixture(t *testing.T, mutate ...func(*config.Config)) reviewFixture {
	t.Helper()
	env := testkit.Start(t, dbURL, mutate...)
	g, elsewhere := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	su, mu, ou, xu := env.NewUser(model.RoleStaff), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(mu.ID, g.ID, model.GroupMember)
	env.AddMember(ou.ID, g.ID, model.GroupObserver)
	env.AddMember(xu.ID, elsewhere.ID, model.GroupMember)
	f := reviewFixture{env: env, staff: env.Login(su), member: env.Login(mu), observer: env.Login(ou), outsider: env.Login(xu), memberUser: mu}
	r := f.staff.JSON("POST", "/api/v1/reviews", map[string]any{"title": "Program szkolenia – moduł 2: Planowanie budżetowe",
		"description": "Projekt do **zaopiniowania**.", "deadline": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339),
		"group_ids": []int64{g.ID}})
	wantStatus(t, "create review", r, http.StatusCreated)
	var rv reviewJSON
	r.Decode(&rv)
	f.reviewID = rv.ID
	f.sectionID = f.addSection(t, "2.1", "Cele modułu")
	f.other = f.addSection(t, "2.10", "Ewaluacja")
	return f
}

func (f reviewFixture) addSection(t *testing.T, number, title string) int64 {
	t.Helper()
	r := f.staff.JSON("POST", fmt.Sprintf("/api/v1/reviews/%d/sections", f.reviewID), map[string]any{
		"number": number, "title": title, "body": "Tekst sekcji " + number + ".\n\n<script>alert(1)</script>"})
	wantStatus(t, "add section "+number, r, http.StatusCreated)
	var s struct {
		ID       int64  `json:"id"`
		BodyHTML string `json:"body_html"`
	}
	r.Decode(&s)
	if strings.Contains(s.BodyHTML, "<script") {
		t.Errorf("section text not sanitized: %s", s.BodyHTML)
	}
	return s.ID
}

func (f reviewFixture) comment(t *testing.T, c *testkit.Client, sectionID int64, body map[string]any) *testkit.Response {
	t.Helper()
	return c.JSON("POST", fmt.Sprintf("/api/v1/sections/%d/comments", sectionID), body)
}

// Who may see and do what: staff administer, members of the chosen groups
// comment, observers read, everyone else gets 404 — the page, the API and the
// document alike.
func TestReviewPermissions(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t)
	rp := fmt.Sprintf("/api/v1/reviews/%d", f.reviewID)

	// The document: PDF or DOCX only, decided from the content.
	for name, content := range map[string][]byte{"notatki.txt": []byte("zwykły tekst"), "program.pdf": []byte("MZ\x90\x00not a pdf"), "dane.xlsx": sampleOffice(t, "xlsx")} {
		wantDetails(t, "upload "+name, uploadTo(t, f.staff, rp+"/document", name, content), "file")
	}
	wantError(t, "member uploads", uploadTo(t, f.member, rp+"/document", "p.pdf", samplePDF()), http.StatusForbidden, "forbidden")
	wantError(t, "outsider uploads", uploadTo(t, f.outsider, rp+"/document", "p.pdf", samplePDF()), http.StatusNotFound, "not_found")
	pdf := samplePDF()
	r := uploadTo(t, f.staff, rp+"/document", "Moduł 2 – projekt.pdf", pdf)
	wantStatus(t, "upload pdf", r, http.StatusOK)
	var rv reviewJSON
	r.Decode(&rv)
	if rv.Document == nil || rv.Document.Kind != "pdf" || rv.Document.Checksum != sha(pdf) {
		t.Fatalf("document = %+v", rv.Document)
	}
	// A DOCX replaces it; the PDF's stored file goes (no other row uses it).
	docx := sampleOffice(t, "docx")
	wantStatus(t, "upload docx", uploadTo(t, f.staff, rp+"/document", "Moduł 2.docx", docx), http.StatusOK)
	if files := strings.Join(uploadDir(t, f.env), " "); strings.Contains(files, sha(pdf)) || !strings.Contains(files, sha(docx)) {
		t.Errorf("upload directory after replacing: %s", files)
	}

	// The sweep of the upload directory counts the material's document as
	// in use, however old the file: only unreferenced files go.
	old := time.Now().Add(-3 * time.Hour)
	stray := filepath.Join(f.env.Config.UploadDir, strings.Repeat("ab", 32))
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{stray, filepath.Join(f.env.Config.UploadDir, sha(docx))} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.env.App.Notes.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files := strings.Join(uploadDir(t, f.env), " "); strings.Contains(files, filepath.Base(stray)) || !strings.Contains(files, sha(docx)) {
		t.Errorf("upload directory after the sweep: %s", files)
	}

	doc := fmt.Sprintf("/opiniowanie/%d/dokument", f.reviewID)
	page := fmt.Sprintf("/opiniowanie/%d", f.reviewID)
	section := fmt.Sprintf("/opiniowanie/%d/sekcje/%d", f.reviewID, f.sectionID)
	for _, tc := range []struct {
		who          string
		c            *testkit.Client
		status       int
		comment      int
		canComment   bool
		canAdminster bool
	}{
		{"staff", f.staff, http.StatusOK, http.StatusCreated, true, true},
		{"member", f.member, http.StatusOK, http.StatusCreated, true, false},
		{"observer", f.observer, http.StatusOK, http.StatusForbidden, false, false},
		{"other group's member", f.outsider, http.StatusNotFound, http.StatusNotFound, false, false},
		{"visitor", f.env.Anonymous(), http.StatusUnauthorized, http.StatusUnauthorized, false, false},
	} {
		r := tc.c.JSON("GET", rp, nil)
		wantStatus(t, tc.who+" reads the API", r, tc.status)
		if tc.status == http.StatusOK {
			var got reviewJSON
			r.Decode(&got)
			if got.CanComment != tc.canComment || got.CanAdminister != tc.canAdminster || len(got.Sections) != 2 || got.Sections[1].Number != "2.10" {
				t.Errorf("%s: review = %+v", tc.who, got)
			}
		}
		pageStatus := tc.status
		if tc.status == http.StatusUnauthorized {
			pageStatus = http.StatusFound // to the login page
		}
		for _, p := range []string{page, section, doc} {
			r := tc.c.Get(p)
			wantStatus(t, tc.who+" GET "+p, r, pageStatus)
			if tc.status == http.StatusOK && p == doc && !bytes.Equal(r.Body, docx) {
				t.Errorf("%s: document body differs", tc.who)
			}
		}
		wantStatus(t, tc.who+" comments", f.comment(t, tc.c, f.sectionID, map[string]any{"body": "Uwaga od " + tc.who, "rating": "clear"}), tc.comment)
		r = tc.c.JSON("GET", "/api/v1/reviews", nil)
		if tc.status == http.StatusOK || tc.status == http.StatusNotFound {
			var list struct{ Items []reviewJSON }
			r.Decode(&list)
			found := false
			for _, it := range list.Items {
				found = found || it.ID == f.reviewID
			}
			if found != (tc.status == http.StatusOK) {
				t.Errorf("%s: listed = %v", tc.who, found)
			}
		}
	}
	// Creating a material is staff's; for members it does not exist.
	wantError(t, "member creates", f.member.JSON("POST", "/api/v1/reviews", map[string]any{"title": "Nie", "deadline": "2030-01-01", "group_ids": []int64{1}}),
		http.StatusNotFound, "not_found")
	wantError(t, "member adds a section", f.member.JSON("POST", rp+"/sections", map[string]any{"number": "3", "title": "x", "body": "y"}),
		http.StatusForbidden, "forbidden")
	wantDetails(t, "invalid material", f.staff.JSON("POST", "/api/v1/reviews", map[string]any{"title": "x", "deadline": "2001-01-01T10:00:00Z", "group_ids": []int64{}}),
		"title", "deadline", "group_ids")
	wantDetails(t, "section number taken", f.staff.JSON("POST", rp+"/sections", map[string]any{"number": "2.1", "title": "Znowu", "body": "y"}), "number")
	wantDetails(t, "bad section", f.staff.JSON("POST", rp+"/sections", map[string]any{"number": "2.a", "title": "", "body": " "}), "number", "title", "body")
	wantError(t, "unknown field", f.staff.JSON("POST", rp+"/sections", map[string]any{"number": "4", "title": "x", "body": "y", "extra": 1}),
		http.StatusBadRequest, "bad_request")
}

// Comments: a rating on every top-level comment and none on a reply, one
// level of replies within the section, nothing after the deadline.
func TestReviewCommentRules(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t)
	wantDetails(t, "no rating", f.comment(t, f.member, f.sectionID, map[string]any{"body": "Bez oceny"}), "rating")
	wantDetails(t, "unknown rating", f.comment(t, f.member, f.sectionID, map[string]any{"body": "x", "rating": "great"}), "rating")
	wantDetails(t, "empty body", f.comment(t, f.member, f.sectionID, map[string]any{"body": "  ", "rating": "unclear"}), "body")
	r := f.comment(t, f.member, f.sectionID, map[string]any{"body": "Cele są **niejasne**.", "rating": "unclear"})
	wantStatus(t, "comment", r, http.StatusCreated)
	var top reviewCommentJSON
	r.Decode(&top)
	if top.Rating == nil || *top.Rating != "unclear" || !strings.Contains(top.BodyHTML, "<strong>niejasne</strong>") {
		t.Errorf("comment = %+v", top)
	}
	wantDetails(t, "rated reply", f.comment(t, f.staff, f.sectionID, map[string]any{"body": "x", "rating": "clear", "reply_to": top.ID}), "rating")
	r = f.comment(t, f.staff, f.sectionID, map[string]any{"body": "Doprecyzujemy cele.", "reply_to": top.ID})
	wantStatus(t, "reply", r, http.StatusCreated)
	var reply reviewCommentJSON
	r.Decode(&reply)
	if reply.ReplyTo == nil || *reply.ReplyTo != top.ID || reply.Rating != nil {
		t.Errorf("reply = %+v", reply)
	}
	wantDetails(t, "reply to a reply", f.comment(t, f.member, f.sectionID, map[string]any{"body": "x", "reply_to": reply.ID}), "reply_to")
	wantDetails(t, "reply across sections", f.comment(t, f.member, f.other, map[string]any{"body": "x", "reply_to": top.ID}), "reply_to")
	wantError(t, "observer", f.comment(t, f.observer, f.sectionID, map[string]any{"body": "x", "rating": "clear"}), http.StatusForbidden, "forbidden")

	// The section shows the comment with its reply nested under it.
	var sv struct {
		Comments []struct {
			ID      int64               `json:"id"`
			Replies []reviewCommentJSON `json:"replies"`
		} `json:"comments"`
	}
	r = f.member.JSON("GET", fmt.Sprintf("/api/v1/sections/%d", f.sectionID), nil)
	wantStatus(t, "section", r, http.StatusOK)
	r.Decode(&sv)
	if len(sv.Comments) != 1 || len(sv.Comments[0].Replies) != 1 || sv.Comments[0].Replies[0].ID != reply.ID {
		t.Errorf("section comments = %+v", sv.Comments)
	}

	// The form: a comment without a rating comes back with the field's error.
	form := fmt.Sprintf("/opiniowanie/%d/sekcje/%d", f.reviewID, f.sectionID)
	r = f.member.Form(form, url.Values{"body": {"Tekst bez oceny"}})
	wantStatus(t, "form without rating", r, http.StatusBadRequest)
	if !contains(r.String(), `href="#f-rating"`, `id="e-rating"`, "Tekst bez oceny") {
		t.Errorf("form error page lacks the rating error or the kept text")
	}

	// Ten comments a minute per account (the first one above counts).
	for i := 2; i <= reviews.CommentsPerMinute; i++ {
		wantStatus(t, fmt.Sprintf("comment %d", i), f.comment(t, f.member, f.other, map[string]any{"body": fmt.Sprintf("Uwaga %d", i), "rating": "clear"}), http.StatusCreated)
	}
	wantError(t, "one too many", f.comment(t, f.member, f.other, map[string]any{"body": "Jeszcze jedna", "rating": "clear"}), http.StatusTooManyRequests, "rate_limited")

	// After the deadline: read-only, said in words.
	if _, err := f.env.DB.Exec(`UPDATE reviews SET deadline = now() - interval '1 minute' WHERE id = $1`, f.reviewID); err != nil {
		t.Fatal(err)
	}
	wantError(t, "after the deadline", f.comment(t, f.member, f.sectionID, map[string]any{"body": "Za późno", "rating": "clear"}),
		http.StatusConflict, "review_closed")
	wantError(t, "reply after the deadline", f.comment(t, f.member, f.sectionID, map[string]any{"body": "Za późno", "reply_to": top.ID}),
		http.StatusConflict, "review_closed")
	page := f.member.Get(form).String()
	if !strings.Contains(page, `id="review-closed"`) || strings.Contains(page, `name="rating"`) {
		t.Errorf("closed section page still offers the form or does not say it is closed")
	}
}

// Staff answer each comment (a "no" needs a reason, the answer may change,
// each one audited); the summary counts ratings per section and exports
// everything as Markdown and CSV.
func TestReviewResponsesAndSummary(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t)
	ids := map[string]int64{}
	for _, c := range []struct{ key, rating string }{{"a", "clear"}, {"b", "needs_changes"}, {"c", "needs_changes"}} {
		r := f.comment(t, f.member, f.sectionID, map[string]any{"body": "Komentarz " + c.key + " =SUMA(A1)", "rating": c.rating})
		wantStatus(t, "comment "+c.key, r, http.StatusCreated)
		var cm reviewCommentJSON
		r.Decode(&cm)
		ids[c.key] = cm.ID
	}
	r := f.comment(t, f.observer, f.sectionID, map[string]any{"body": "x", "rating": "clear"})
	wantStatus(t, "observer", r, http.StatusForbidden)
	r = f.comment(t, f.member, f.sectionID, map[string]any{"body": "Dopisek do b", "reply_to": ids["b"]})
	wantStatus(t, "reply", r, http.StatusCreated)
	var reply reviewCommentJSON
	r.Decode(&reply)

	resp := func(c *testkit.Client, id int64, status, reason string) *testkit.Response {
		return c.JSON("POST", fmt.Sprintf("/api/v1/comments/%d/response", id), map[string]any{"status": status, "reason": reason})
	}
	wantDetails(t, "rejected without reason", resp(f.staff, ids["b"], "rejected", " "), "reason")
	wantDetails(t, "unknown status", resp(f.staff, ids["b"], "maybe", ""), "status")
	wantDetails(t, "response to a reply", resp(f.staff, reply.ID, "accepted", ""), "status")
	wantError(t, "member responds", resp(f.member, ids["b"], "accepted", ""), http.StatusForbidden, "forbidden")
	wantError(t, "outsider responds", resp(f.outsider, ids["b"], "accepted", ""), http.StatusNotFound, "not_found")
	r = resp(f.staff, ids["b"], "rejected", "Poza zakresem modułu.")
	wantStatus(t, "reject", r, http.StatusOK)
	var cm reviewCommentJSON
	r.Decode(&cm)
	if cm.Response == nil || cm.Response.Status != "rejected" || cm.Response.Reason != "Poza zakresem modułu." {
		t.Errorf("response = %+v", cm.Response)
	}
	wantStatus(t, "change to accepted", resp(f.staff, ids["b"], "accepted", ""), http.StatusOK)
	wantStatus(t, "accept c by form", f.staff.Form(fmt.Sprintf("/opiniowanie/%d/komentarze/%d", f.reviewID, ids["c"]),
		url.Values{"status": {"accepted"}}), http.StatusSeeOther)
	if n := countRows(t, f.env, `SELECT count(*) FROM audit_log WHERE action = 'review.respond' AND target_id = $1`, ids["b"]); n != 2 {
		t.Errorf("audit entries for the responses = %d, want 2", n)
	}
	r = f.staff.Form(fmt.Sprintf("/opiniowanie/%d/komentarze/%d", f.reviewID, ids["a"]), url.Values{"status": {"rejected"}})
	wantStatus(t, "form: rejected without reason", r, http.StatusBadRequest)
	if !contains(r.String(), `href="#f-reason"`, `id="e-reason"`) {
		t.Errorf("response form lacks the reason's error")
	}

	// Counts: the section's ratings, top-level comments only.
	var sum struct {
		Sections []struct {
			Section struct {
				Number  string         `json:"number"`
				Ratings map[string]int `json:"ratings"`
			} `json:"section"`
			Comments []reviewCommentJSON `json:"comments"`
		} `json:"sections"`
		Totals map[string]int `json:"totals"`
	}
	sp := fmt.Sprintf("/api/v1/reviews/%d/summary", f.reviewID)
	r = f.observer.JSON("GET", sp, nil)
	wantStatus(t, "summary JSON", r, http.StatusOK)
	r.Decode(&sum)
	if len(sum.Sections) != 2 || sum.Sections[0].Section.Ratings["clear"] != 1 || sum.Sections[0].Section.Ratings["needs_changes"] != 2 ||
		sum.Sections[0].Section.Ratings["unclear"] != 0 || sum.Totals["needs_changes"] != 2 || len(sum.Sections[0].Comments) != 3 {
		t.Errorf("summary = %+v", sum)
	}
	wantStatus(t, "outsider's summary", f.outsider.Do("GET", sp, nil, map[string]string{"Accept": "text/csv"}), http.StatusNotFound)

	md := f.observer.Do("GET", sp, nil, map[string]string{"Accept": "text/markdown"})
	wantStatus(t, "markdown", md, http.StatusOK)
	if ct := md.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/markdown") {
		t.Errorf("markdown content type %q", ct)
	}
	if !contains(md.String(), "# Program szkolenia – moduł 2: Planowanie budżetowe", "| 2.1 Cele modułu | 1 | 2 | 0 | 4 |",
		"## 2.10 Ewaluacja", "> Komentarz b =SUMA(A1)", "> Dopisek do b", "Stanowisko: Uwzględniono**", "Wymaga zmian") {
		t.Errorf("markdown:\n%s", md.String())
	}
	csvr := f.observer.Do("GET", sp, nil, map[string]string{"Accept": "text/csv"})
	wantStatus(t, "csv", csvr, http.StatusOK)
	body := csvr.String()
	if !strings.HasPrefix(body, "\ufeffSekcja,Tytuł sekcji,Jasne,Wymaga zmian,Niejasne,") ||
		!strings.Contains(body, fmt.Sprintf("2.1,Cele modułu,1,2,0,%d,%d,", reply.ID, ids["b"])) ||
		!strings.Contains(body, ",Komentarz a =SUMA(A1),") ||
		!strings.Contains(body, "2.10,Ewaluacja,0,0,0,,,") {
		t.Errorf("csv:\n%s", body)
	}
	if !strings.Contains(body, "Uwzględniono") {
		t.Errorf("csv lacks the responses:\n%s", body)
	}
	// The page offers both downloads, which serve the same files.
	page := f.member.Get(fmt.Sprintf("/opiniowanie/%d/podsumowanie", f.reviewID)).String()
	if !contains(page, fmt.Sprintf(`href="/opiniowanie/%d/podsumowanie/csv"`, f.reviewID), fmt.Sprintf(`href="/opiniowanie/%d/podsumowanie/md"`, f.reviewID)) {
		t.Errorf("summary page lacks the export links:\n%s", page)
	}
	if got := f.member.Get(fmt.Sprintf("/opiniowanie/%d/podsumowanie/csv", f.reviewID)).String(); got != body {
		t.Errorf("page's CSV differs from the API's")
	}
}

// Only staff get the upload limit for a material's document: for anyone
// else the route keeps FORUM_MAX_BODY_BYTES, refused from Content-Length.
func TestReviewDocumentUploadLimit(t *testing.T) {
	t.Parallel()
	f := newReviewFixture(t, func(c *config.Config) { c.MaxBodyBytes = 8 << 10; c.MaxUploadBytes = 32 << 10 })
	path := fmt.Sprintf("/api/v1/reviews/%d/document", f.reviewID)
	r := oversized(t, f.env, path, 16<<10, map[string]string{"Cookie": cookieName + "=" + jarToken(t, f.member), "X-CSRF-Token": f.member.CSRF})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("member's 16 KiB body = %d, want 413", r.Status)
	}
	big := append(samplePDF(), []byte("% "+strings.Repeat("x", 16<<10)+"\n%%EOF\n")...)
	wantStatus(t, "staff's 16 KiB document", uploadTo(t, f.staff, path, "duzy.pdf", big), http.StatusOK)
	// Over the upload limit: 413 with the limit in words on the file field.
	huge := append(samplePDF(), []byte("% "+strings.Repeat("x", 40<<10)+"\n%%EOF\n")...)
	r = uploadTo(t, f.staff, path, "za-duzy.pdf", huge)
	wantError(t, "staff's 40 KiB document", r, http.StatusRequestEntityTooLarge, "too_large")
	var e struct {
		Error struct{ Details map[string]string }
	}
	r.Decode(&e)
	if e.Error.Details["file"] == "" {
		t.Errorf("too large: no message on the file field: %s", r.Body)
	}
}
