package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Issue 15 item 3 with the browser alone: a member finds a material under
// review, opens a section, sees a colleague's comment arrive live, is told a
// comment needs a rating, comments with one; staff answer it "nie
// uwzględniono" (a reason is required) and read the summary. Every page
// passes axe at 1280 px and 360 px.
func TestReviewCommentAndResponse(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	member, colleague, staffU := s.env.NewUser(model.RoleMember), s.env.NewUser(model.RoleMember), s.env.NewUser(model.RoleStaff)
	s.env.AddMember(member.ID, group.ID, model.GroupMember)
	s.env.AddMember(colleague.ID, group.ID, model.GroupMember)
	staffAPI := s.env.Login(staffU)
	var ids struct{ ID int64 }
	r := staffAPI.JSON("POST", "/api/v1/reviews", map[string]any{"title": "Moduł 5: Współpraca z dyrektorami szkół",
		"description": "Projekt modułu 5.", "deadline": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339), "group_ids": []int64{group.ID}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create review: %d %s", r.Status, r.Body)
	}
	r.Decode(&ids)
	reviewID := ids.ID
	r = staffAPI.JSON("POST", fmt.Sprintf("/api/v1/reviews/%d/sections", reviewID), map[string]any{"number": "5.1",
		"title": "Arkusz organizacyjny szkoły", "body": "Jak organ prowadzący **opiniuje** arkusz organizacyjny:\n\n1. terminy,\n2. zakres,\n3. typowe błędy."})
	if r.Status != http.StatusCreated {
		t.Fatalf("add section: %d %s", r.Status, r.Body)
	}
	r.Decode(&ids)
	sectionPath := fmt.Sprintf("/opiniowanie/%d/sekcje/%d", reviewID, ids.ID)

	// The member finds the material from the list, then the section.
	p := s.newTab(t)
	p.loginAs(member)
	if st := p.open("/opiniowanie"); st != 200 {
		t.Fatalf("list = %d", st)
	}
	p.checkPage("review-list")
	if st := p.submit("open the material", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/opiniowanie/%d"]`, reviewID)))); st != 200 {
		t.Fatalf("material page = %d", st)
	}
	p.checkPage("review-material")
	if st := p.submit("open the section", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="%s"]`, sectionPath)))); st != 200 {
		t.Fatalf("section page = %d", st)
	}
	p.waitFor("the page to follow the section", `document.getElementById("section-live").dataset.subscribed !== undefined`, `"not subscribed"`)

	// A colleague comments meanwhile: the open page offers it.
	r = s.env.Login(colleague).JSON("POST", fmt.Sprintf("/api/v1/sections/%d/comments", ids.ID), map[string]any{"body": "Brakuje terminów dla przedszkoli.", "rating": "needs_changes"})
	if r.Status != http.StatusCreated {
		t.Fatalf("colleague's comment: %d %s", r.Status, r.Body)
	}
	p.waitFor("the new comment notice", `(document.querySelector("#section-live .notice") || {}).textContent?.includes("1 nowy komentarz")`, jsLiveNotices)

	// Without a rating the form says so, keeping the text.
	p.do("write without a rating", chromedp.Focus(chromedp.CSS("#f-body")))
	p.typeText("type the comment", "Sekcja przydatna, ale proszę dodać przykład z gminy wiejskiej.")
	if st := p.submit("send without a rating", chromedp.Click(chromedp.CSS(`#comment-form button[type="submit"]`))); st != 400 {
		t.Fatalf("comment without rating = %d, want 400", st)
	}
	if got := eval[string](p, `document.querySelector(".error-summary a").getAttribute("href")`); got != "#f-rating" {
		t.Errorf("error summary links to %q, want #f-rating", got)
	}
	p.checkPage("review-comment-error")
	p.do("choose 'wymaga zmian'", chromedp.Click(chromedp.CSS(`#f-rating-needs_changes`)))
	if st := p.submit("send the comment", chromedp.Click(chromedp.CSS(`#comment-form button[type="submit"]`))); st != 200 {
		t.Fatalf("comment = %d", st)
	}
	if got := p.path(); got != sectionPath {
		t.Errorf("after commenting: %s", got)
	}
	texts := eval[string](p, `[...document.querySelectorAll(".review-comment")].map(a => a.textContent).join(" | ")`)
	if !strings.Contains(texts, "Brakuje terminów dla przedszkoli") || !strings.Contains(texts, "przykład z gminy wiejskiej") || !strings.Contains(texts, "Wymaga zmian") {
		t.Errorf("comments on the page: %s", texts)
	}
	p.checkPage("review-section")
	p.viewport(phoneWidth, phoneHeight, true)
	p.checkPage("review-section-360")
	p.viewport(desktopWidth, desktopHeight, false)

	var mine int64
	if err := s.env.DB.GetContext(ctx, &mine, `SELECT id FROM review_comments WHERE author_id = $1`, member.ID); err != nil {
		t.Fatal(err)
	}

	// Staff answer: "nie uwzględniono" needs a reason.
	st := s.newTab(t)
	st.loginAs(staffU)
	if code := st.open(sectionPath); code != 200 {
		t.Fatalf("staff's section page = %d", code)
	}
	respond := fmt.Sprintf("/opiniowanie/%d/komentarze/%d", reviewID, mine)
	if code := st.submit("open the response form", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="%s"]`, respond)))); code != 200 {
		t.Fatalf("response page = %d", code)
	}
	st.do("choose 'nie uwzględniono'", chromedp.Click(chromedp.CSS("#f-status-rejected")))
	if code := st.submit("save without a reason", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); code != 400 {
		t.Fatalf("rejected without reason = %d, want 400", code)
	}
	st.checkPage("review-respond-error")
	st.do("focus the reason", chromedp.Focus(chromedp.CSS("#f-reason")))
	st.typeText("type the reason", "Przykłady z gmin są w module 6.")
	if code := st.submit("save the response", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); code != 200 {
		t.Fatalf("response = %d", code)
	}
	resp := eval[string](st, fmt.Sprintf(`(document.querySelector("#c%d .review-response") || {}).textContent || ""`, mine))
	if !strings.Contains(resp, "Nie uwzględniono") || !strings.Contains(resp, "Przykłady z gmin są w module 6.") {
		t.Errorf("response shown as %q", resp)
	}

	// Staff's own forms: a new material, and the material's document and
	// section forms.
	if code := st.open("/opiniowanie/nowy"); code != 200 {
		t.Fatalf("new material form = %d", code)
	}
	st.checkPage("review-new")
	if code := st.open(fmt.Sprintf("/opiniowanie/%d", reviewID)); code != 200 {
		t.Fatalf("staff's material page = %d", code)
	}
	st.checkPage("review-material-staff")

	// The summary: counts per rating, the export links.
	if code := st.open(fmt.Sprintf("/opiniowanie/%d/podsumowanie", reviewID)); code != 200 {
		t.Fatalf("summary = %d", code)
	}
	row := eval[string](st, `[...document.querySelector(".review-sections tbody tr").children].map(c => c.textContent.trim()).join(" ")`)
	if row != "5.1 Arkusz organizacyjny szkoły 0 2 0 2" {
		t.Errorf("summary row = %q", row)
	}
	st.checkPage("review-summary")
	st.viewport(phoneWidth, phoneHeight, true)
	st.checkPage("review-summary-360")
}
