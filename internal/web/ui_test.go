package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
)

// Issue 14's forms and meeting pages, as a browser without JavaScript gets them.

// The new-meeting form reports every problem at once, in the order of the
// fields, each summary line naming its field and linking to an id on the page;
// the button says what it creates.
func TestUIMeetingFormErrors(t *testing.T) {
	w := newForumWorld(t)
	mod := w.env.Login(w.moderator)
	page := mod.Get(fmt.Sprintf("/g/%d/meetings/new", w.group.ID)).String()
	if !strings.Contains(page, "Zaplanuj spotkanie") {
		t.Error(`the new-meeting form's button does not say "Zaplanuj spotkanie"`)
	}
	r := mod.Form(fmt.Sprintf("/g/%d/meetings", w.group.ID), url.Values{"title": {""}, "starts_date": {"zle"}, "starts_time": {""},
		"ends_date": {""}, "ends_time": {""}, "online_url": {"ftp://x"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", r.Status)
	}
	body := r.String()
	sum := regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`).FindString(body)
	links := regexp.MustCompile(`<a href="#([^"]+)">([^<]*)</a>`).FindAllStringSubmatch(sum, -1)
	var ids, texts []string
	for _, l := range links {
		ids, texts = append(ids, l[1]), append(texts, l[2])
	}
	want := []string{"f-title", "f-starts_date", "f-ends_date", "f-online_url"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Fatalf("summary links %q, want %q in field order (summary: %s)", ids, want, sum)
	}
	for _, id := range ids {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("summary links to #%s, which is not on the page", id)
		}
	}
	for i, prefix := range []string{"Tytuł: ", "Początek: ", "Koniec: ", "Link do spotkania online: "} {
		if !strings.HasPrefix(texts[i], prefix) {
			t.Errorf("summary line %d = %q, want it to name the field (%q)", i, texts[i], prefix)
		}
	}
}

// A live meeting puts the chat before the programme; a scheduled one renders a
// writer's message box hidden (opened live) and tells observers why they
// cannot write; ending goes through a confirmation page; an ended meeting
// speaks of who came and shows no room.
func TestUIMeetingPageStates(t *testing.T) {
	w := newForumWorld(t)
	mod, member, observer := w.env.Login(w.moderator), w.env.Login(w.member), w.env.Login(w.observer)
	m := createMeeting(t, mod, w.group.ID)
	path := fmt.Sprintf("/m/%d", m.ID)

	page := member.Get(path).String()
	if !regexp.MustCompile(`<form [^>]*id="chat-form"[^>]*hidden`).MatchString(page) {
		t.Error("a scheduled meeting: the member's message box is not rendered hidden")
	}
	if p := observer.Get(path).String(); !strings.Contains(p, `id="chat-observer"`) || strings.Contains(p, `id="chat-form"`) {
		t.Error("a scheduled meeting: the observer gets no note or gets a message box")
	}
	if r := mod.Form(path+"/start", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != path+"#chat" {
		t.Errorf("start: %d to %q, want 303 to %s#chat", r.Status, r.Header.Get("Location"), path)
	}
	if r := send(mod, m.ID, "9d1c3f0e-4a57-4d2b-9a43-3f1f7f0e2a11", "Witam na sesji"); r.Status != http.StatusCreated {
		t.Fatalf("moderator's message: %d %s", r.Status, r.Body)
	}
	page = member.Get(path).String()
	if !regexp.MustCompile(`<strong><a href="/u/\d+" class="author">` + regexp.QuoteMeta(w.moderator.Name) + `</a></strong> <span class="badge role">Moderator</span>`).MatchString(page) {
		t.Error("the moderator's chat message has no Moderator badge")
	}
	if c, a := strings.Index(page, `id="chat"`), strings.Index(page, `id="agenda-h"`); c < 0 || a >= 0 && a < c {
		t.Errorf("a live meeting: the chat (at %d) is not before the programme (at %d)", c, a)
	}
	// The member's "meeting started" notification leads to the chat.
	if n := member.Get("/api/v1/notifications").String(); !strings.Contains(n, `"url":"`+path+`#chat"`) {
		t.Errorf("the meeting_started notification does not link to %s#chat: %s", path, n)
	}
	// The moderator's end button is a link to a confirmation, and a member may not open it.
	if p := mod.Get(path).String(); !strings.Contains(p, `href="`+path+`/end"`) {
		t.Error("the live meeting's end action is not a link to the confirmation page")
	}
	if r := mod.Get(path + "/end"); r.Status != http.StatusOK || !strings.Contains(r.String(), "Zakończyć spotkanie") || !strings.Contains(r.String(), `action="`+path+`/end"`) {
		t.Errorf("confirmation page: %d", r.Status)
	}
	if r := member.Get(path + "/end"); r.Status != http.StatusForbidden {
		t.Errorf("a member opening the end confirmation: %d, want 403", r.Status)
	}
	if r := mod.Form(path+"/end", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("end: %d", r.Status)
	}
	page = member.Get(path).String()
	if strings.Contains(page, "Zobacz, kto będzie") || !strings.Contains(page, "Zobacz, kto był") {
		t.Error(`an ended meeting: want "Zobacz, kto był", not "Zobacz, kto będzie"`)
	}
	if strings.Contains(page, `id="presence"`) || strings.Contains(page, `id="chat-form"`) {
		t.Error("an ended meeting still has a room list or a message box")
	}
}

// The index and the group page announce a group's live or next meeting.
func TestUIMeetingBanners(t *testing.T) {
	w := newForumWorld(t)
	mod, member := w.env.Login(w.moderator), w.env.Login(w.member)
	m := createMeeting(t, mod, w.group.ID)
	for _, p := range []string{"/", fmt.Sprintf("/g/%d", w.group.ID)} {
		if !strings.Contains(member.Get(p).String(), fmt.Sprintf(`data-banner-group="%d" data-meeting-id="%d" data-status="scheduled"`, w.group.ID, m.ID)) {
			t.Errorf("%s: no banner for the next meeting", p)
		}
	}
	mod.Form(fmt.Sprintf("/m/%d/start", m.ID), nil)
	for _, p := range []string{"/", fmt.Sprintf("/g/%d", w.group.ID)} {
		if !strings.Contains(member.Get(p).String(), fmt.Sprintf(`href="/m/%d#chat"`, m.ID)) {
			t.Errorf("%s: the live meeting's banner does not link to its chat", p)
		}
	}
	// Another group's meeting is never announced.
	if strings.Contains(w.env.Login(w.outsider).Get("/").String(), fmt.Sprintf(`/m/%d`, m.ID)) {
		t.Error("an outsider's index mentions another group's meeting")
	}
}

// Lists of people follow Polish order: by surname, with Ł after L (not after
// Z as bytes would have it) — the admin's user list and a group's members.
func TestUIPeopleInPolishOrder(t *testing.T) {
	w := newForumWorld(t)
	names := []string{"Wojciech Żak", "Łukasz Lis", "Anna Łukasik", "Ewa Lis", "Jan Mazur"}
	for i, n := range names {
		u := w.env.NewUser(model.RoleMember)
		if _, err := w.env.DB.Exec(`UPDATE users SET display_name = $1, email = $2 WHERE id = $3`, n, fmt.Sprintf("kolejnosc%d@example.org", i), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	admin := w.env.Login(w.env.NewUser(model.RoleAdmin))
	var got struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	r := admin.Get("/api/v1/users?q=kolejnosc")
	r.Decode(&got)
	var order []string
	for _, u := range got.Items {
		order = append(order, u.Name)
	}
	want := []string{"Ewa Lis", "Łukasz Lis", "Anna Łukasik", "Jan Mazur", "Wojciech Żak"}
	if strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("users in order %q, want %q (%s)", order, want, r.Body)
	}
}

// In the English interface, what people wrote (in Polish) is marked lang="pl"
// (WCAG 3.1.2), and a Polish page has no such marks to spare.
func TestUIPolishContentMarked(t *testing.T) {
	w := newForumWorld(t)
	tid, _ := w.env.NewThread(w.group.ID, w.member.ID, 2)
	member := w.env.Login(w.member)
	path := fmt.Sprintf("/t/%d", tid)
	if strings.Contains(member.Get(path).String(), `class="post-body" lang="pl"`) {
		t.Error("the Polish interface marks posts lang=pl (it is the page's language already)")
	}
	member.Form("/lang", url.Values{"lang": {"en"}, "next": {path}})
	page := member.Get(path).String()
	if !strings.Contains(page, `<html lang="en">`) {
		t.Fatal("the language switch did not give an English page")
	}
	if n := strings.Count(page, `class="post-body" lang="pl"`); n != 2 {
		t.Errorf("%d post bodies marked lang=pl in the English interface, want 2", n)
	}
	if !regexp.MustCompile(`<h1 lang="pl">`).MatchString(page) {
		t.Error("the thread's title is not marked lang=pl in the English interface")
	}
}

// The preview shows exactly what publishing would: the server's sanitizer,
// the same bounds; it needs a session and stores nothing.
func TestUIPreview(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	r := member.JSON("POST", "/api/v1/preview", map[string]any{"body": "**Ważne**\n\n<script>alert(1)</script>\n\n- punkt"})
	var p struct {
		HTML string `json:"html"`
	}
	r.Decode(&p)
	if r.Status != http.StatusOK || !strings.Contains(p.HTML, "<strong>Ważne</strong>") || !strings.Contains(p.HTML, "<li>punkt</li>") || strings.Contains(p.HTML, "<script") {
		t.Errorf("preview: %d %q", r.Status, p.HTML)
	}
	if r := member.JSON("POST", "/api/v1/preview", map[string]any{"body": "  "}); r.Status != http.StatusBadRequest {
		t.Errorf("empty preview: %d, want 400", r.Status)
	}
	if r := w.env.Anonymous().JSON("POST", "/api/v1/preview", map[string]any{"body": "x"}); r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden {
		t.Errorf("anonymous preview: %d, want 401", r.Status)
	}
	var n int
	if err := w.env.DB.Get(&n, `SELECT count(*) FROM posts WHERE body LIKE '%Ważne%'`); err != nil || n != 0 {
		t.Errorf("the preview stored %d posts (%v)", n, err)
	}
	// Written in a group, the preview links a mention of its reader as the
	// published post will; another group's id is not found.
	mention := map[string]any{"body": "Pytanie do @" + w.moderator.Name, "group_id": w.group.ID}
	r = member.JSON("POST", "/api/v1/preview", mention)
	r.Decode(&p)
	if link := fmt.Sprintf(`<a href="/u/%d" rel="nofollow ugc noopener">@%s</a>`, w.moderator.ID, w.moderator.Name); r.Status != http.StatusOK || !strings.Contains(p.HTML, link) {
		t.Errorf("preview in the group: %d %q, want the mention linked (%s)", r.Status, p.HTML, link)
	}
	mention["group_id"] = w.other.ID
	if r := member.JSON("POST", "/api/v1/preview", mention); r.Status != http.StatusNotFound {
		t.Errorf("preview in another group: %d, want 404", r.Status)
	}
	// Rendering costs CPU: an account previewing in a loop is stopped
	// (a person presses "Podgląd" a few times a minute), others are not.
	limited := 0
	for i := 0; i < 40 && limited == 0; i++ {
		if r := member.JSON("POST", "/api/v1/preview", map[string]any{"body": "tekst"}); r.Status == http.StatusTooManyRequests {
			limited = i
		}
	}
	if limited == 0 || limited < 20 {
		t.Errorf("previews refused after %d requests, want a limit between 20 and 40", limited)
	}
	if r := w.env.Login(w.moderator).JSON("POST", "/api/v1/preview", map[string]any{"body": "tekst"}); r.Status != http.StatusOK {
		t.Errorf("another account's preview: %d", r.Status)
	}
}

// After reporting a post, its page says so instead of offering "Zgłoś" again.
func TestUIReportOfferedOnce(t *testing.T) {
	w := newForumWorld(t)
	tid, posts := w.env.NewThread(w.group.ID, w.moderator.ID, 2)
	member := w.env.Login(w.member)
	path := fmt.Sprintf("/t/%d", tid)
	report := fmt.Sprintf(`href="/p/%d/report"`, posts[1])
	if !strings.Contains(member.Get(path).String(), report) {
		t.Fatal("the post is not offered for reporting")
	}
	if r := member.JSON("POST", fmt.Sprintf("/api/v1/posts/%d/flags", posts[1]), map[string]any{"reason": "Dane osobowe ucznia"}); r.Status != http.StatusCreated {
		t.Fatalf("report: %d %s", r.Status, r.Body)
	}
	page := member.Get(path).String()
	if strings.Contains(page, report) || !strings.Contains(page, "Zgłoszono moderatorom") {
		t.Error(`after reporting, the post still offers "Zgłoś" or does not say it was reported`)
	}
	if !strings.Contains(page, fmt.Sprintf(`href="/p/%d/report"`, posts[0])) {
		t.Error("the other post lost its report link")
	}
}
