package security_test

// Issue 10, item 6: a muted member could still edit posts, write and edit notes
// and report in the group. Mute means no writing in the group, everywhere:
// every write path answers what posting while muted answers (403 "muted"),
// over the API and the HTML forms alike, and stores nothing. Deleting one's own
// post stays allowed: it takes words back rather than adding any, and
// moderators keep the text.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func TestMutedMemberWritesNothing(t *testing.T) {
	env := testkit.Start(t, dbURL)
	w := cwSetup(t, env)
	// Someone else's post for the muted member to report.
	otherAuthor := env.NewUser(model.RoleMember)
	env.AddMember(otherAuthor.ID, w.group.ID, model.GroupMember)
	otherThread, otherPosts := env.NewThread(w.group.ID, otherAuthor.ID, 1)
	w.mute(t, w.member)
	c := env.Login(w.member)

	state := func() [4]any {
		var body, noteBody string
		var noteVersion int
		if err := env.DB.Get(&body, `SELECT body FROM posts WHERE id = $1`, w.postID); err != nil {
			t.Fatal(err)
		}
		if err := env.DB.QueryRow(`SELECT body, version FROM notes WHERE id = $1`, w.noteID).Scan(&noteBody, &noteVersion); err != nil {
			t.Fatal(err)
		}
		notes := cwCount(t, env, `SELECT count(*) FROM notes WHERE author_id = $1`, w.member.ID)
		flags := cwCount(t, env, `SELECT count(*) FROM flags WHERE reporter_id = $1`, w.member.ID)
		return [4]any{body, fmt.Sprint(noteBody, noteVersion), notes, flags}
	}
	before := state()

	cases := []struct {
		name   string
		do     func() *testkit.Response
		status int
		code   string // for JSON answers
	}{
		{"API: edit own post", func() *testkit.Response {
			return c.JSON("PATCH", fmt.Sprintf("/api/v1/posts/%d", w.postID), map[string]any{"body": "Zmieniony", "version": 1})
		}, 403, "muted"},
		{"form: edit own post", func() *testkit.Response {
			return c.Form(fmt.Sprintf("/p/%d/edit", w.postID), url.Values{"body": {"Zmieniony"}, "version": {"1"}})
		}, 403, ""},
		{"API: new note", func() *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Nowa notatka", "body": "Treść"})
		}, 403, "muted"},
		{"form: new note", func() *testkit.Response {
			return c.Form(fmt.Sprintf("/m/%d/notes", w.meetingID), url.Values{"title": {"Nowa notatka"}, "body": {"Treść"}})
		}, 403, ""},
		{"API: edit note", func() *testkit.Response {
			return c.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", w.noteID), map[string]any{"body": "Inne ustalenia", "version": 1})
		}, 403, "muted"},
		{"form: edit note", func() *testkit.Response {
			return c.Form(fmt.Sprintf("/n/%d/edit", w.noteID), url.Values{"title": {"Notatka z sesji"}, "body": {"Inne ustalenia"}, "version": {"1"}})
		}, 403, ""},
		{"API: report a post", func() *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/posts/%d/flags", otherPosts[0]), map[string]any{"reason": "Obraźliwy wpis"})
		}, 403, "muted"},
		{"form: report a post", func() *testkit.Response {
			return c.Form(fmt.Sprintf("/p/%d/report", otherPosts[0]), url.Values{"reason": {"Obraźliwy wpis"}})
		}, 403, ""},
		// Already refused before issue 10; kept so all write paths sit together.
		{"API: reply", func() *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": "Odpowiedź"})
		}, 403, "muted"},
		{"API: new thread", func() *testkit.Response {
			return c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Nowy temat", "body": "Treść"})
		}, 403, "muted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cwStatus(t, tc.name, tc.do(), tc.status, tc.code)
		})
	}
	t.Run("pages offer no writing", func(t *testing.T) {
		own := c.Get(fmt.Sprintf("/t/%d", w.threadID)).String()
		if link := fmt.Sprintf("/p/%d/edit", w.postID); strings.Contains(own, link) {
			t.Errorf("the thread page of a muted member links to %s", link)
		}
		meeting := c.Get(fmt.Sprintf("/m/%d", w.meetingID)).String()
		if link := fmt.Sprintf(`href="/m/%d/notes/new"`, w.meetingID); strings.Contains(meeting, link) {
			t.Errorf("the meeting page of a muted member links to %s", link)
		}
		note := c.Get(fmt.Sprintf("/n/%d", w.noteID)).String()
		if link := fmt.Sprintf(`href="/n/%d/edit"`, w.noteID); strings.Contains(note, link) {
			t.Errorf("the note page of a muted member links to %s", link)
		}
		others := c.Get(fmt.Sprintf("/t/%d", otherThread)).String()
		if link := fmt.Sprintf("/p/%d/report", otherPosts[0]); strings.Contains(others, link) {
			t.Errorf("the thread page of a muted member links to %s", link)
		}
	})
	if after := state(); after != before {
		t.Errorf("a muted member changed something: before %v, after %v", before, after)
	}

	t.Run("deleting one's own post stays allowed", func(t *testing.T) {
		_, own := env.NewThread(w.group.ID, w.member.ID, 1)
		r := c.JSON("DELETE", fmt.Sprintf("/api/v1/posts/%d", own[0]), nil)
		if r.Status != http.StatusNoContent && r.Status != http.StatusOK {
			t.Errorf("delete own post while muted: %d %s", r.Status, r.Body)
		}
	})

	// The refusals above are the mute's: lifted, the same requests go through.
	w.unmute(t, w.member)
	t.Run("after the mute is lifted", func(t *testing.T) {
		cwStatus(t, "edit own post", cases[0].do(), http.StatusOK, "")
		cwStatus(t, "new note", cases[2].do(), http.StatusCreated, "")
		cwStatus(t, "edit note", cases[4].do(), http.StatusOK, "")
		cwStatus(t, "report", cases[6].do(), http.StatusCreated, "")
	})
}
