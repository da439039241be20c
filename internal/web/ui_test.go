package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
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
	page = member.Get(path).String()
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
