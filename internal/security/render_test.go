package security_test

// Issue 10, item 2: Markdown was rendered before permission and rate checks.
// PATCH /api/v1/posts/999999 with 50,000 ">" took a second to answer 404, and a
// 50 KB post of ">" stored 1.35 MB of HTML. Whether a refused request rendered
// is read from the renderer's own counter (App.Markup.Renders), not from time.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func TestRenderAfterChecks(t *testing.T) {
	env := testkit.Start(t, dbURL)
	w := cwSetup(t, env)
	other := cwSetup(t, env) // a group the actors below are not in
	quotes := strings.Repeat(">", 50000)
	noteQuotes := strings.Repeat(">", 100000)

	member := env.Login(w.member)
	observer := env.Login(w.observer)
	mutedUser := env.NewUser(model.RoleMember)
	env.AddMember(mutedUser.ID, w.group.ID, model.GroupMember)
	w.mute(t, mutedUser)
	muted := env.Login(mutedUser)
	// A member who already posted and saved notes to the limit this minute.
	busyUser := env.NewUser(model.RoleMember)
	env.AddMember(busyUser.ID, w.group.ID, model.GroupMember)
	env.NewThread(w.group.ID, busyUser.ID, env.Config.PostsPerMinute)
	busy := env.Login(busyUser)
	for i := 0; i < 10; i++ {
		r := busy.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": fmt.Sprintf("Notatka %d", i), "body": "krótko"})
		cwStatus(t, "note to fill the limit", r, http.StatusCreated, "")
	}
	// A thread the member may read but which is locked.
	var lockedID int64
	if err := env.DB.GetContext(context.Background(), &lockedID, `
		INSERT INTO threads (group_id, title, author_id, locked) VALUES ($1, 'Zamknięty', $2, true) RETURNING id`,
		w.group.ID, w.mod.ID); err != nil {
		t.Fatal(err)
	}

	type req struct {
		name   string
		c      *testkit.Client
		method string
		path   string
		body   any // JSON; url.Values for a form
		status int
		code   string
	}
	post := func(body string) map[string]any { return map[string]any{"body": body, "version": 1} }
	cases := []req{
		{"edit of a post that does not exist", member, "PATCH", "/api/v1/posts/999999", post(quotes), 404, "not_found"},
		{"edit of a post in another group", member, "PATCH", fmt.Sprintf("/api/v1/posts/%d", other.postID), post(quotes), 404, "not_found"},
		{"edit of someone else's post", observer, "PATCH", fmt.Sprintf("/api/v1/posts/%d", w.postID), post(quotes), 403, ""},
		{"edit by a muted author", muted, "PATCH", fmt.Sprintf("/api/v1/posts/%d", w.postID), post(quotes), 403, ""},
		{"edit form of a post that does not exist", member, "FORM", "/p/999999/edit", url.Values{"body": {quotes}, "version": {"1"}}, 404, ""},
		{"reply to a thread that does not exist", member, "POST", "/api/v1/threads/999999/posts", map[string]any{"body": quotes}, 404, "not_found"},
		{"reply in another group", member, "POST", fmt.Sprintf("/api/v1/threads/%d/posts", other.threadID), map[string]any{"body": quotes}, 404, "not_found"},
		{"reply by an observer", observer, "POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": quotes}, 403, "forbidden"},
		{"reply by a muted member", muted, "POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": quotes}, 403, "muted"},
		{"reply in a locked thread", member, "POST", fmt.Sprintf("/api/v1/threads/%d/posts", lockedID), map[string]any{"body": quotes}, 403, "thread_locked"},
		{"reply over the rate limit", busy, "POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": quotes}, 429, "rate_limited"},
		{"reply form over the rate limit", busy, "FORM", fmt.Sprintf("/t/%d/posts", w.threadID), url.Values{"body": {quotes}}, 429, ""},
		{"new thread in another group", member, "POST", fmt.Sprintf("/api/v1/groups/%d/threads", other.group.ID), map[string]any{"title": "Temat", "body": quotes}, 404, "not_found"},
		{"new thread by a muted member", muted, "POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Temat", "body": quotes}, 403, "muted"},
		{"new thread over the rate limit", busy, "POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Temat", "body": quotes}, 429, "rate_limited"},
		{"note on a meeting that does not exist", member, "POST", "/api/v1/meetings/999999/notes", map[string]any{"title": "Notatka", "body": noteQuotes}, 404, "not_found"},
		{"note in another group", member, "POST", fmt.Sprintf("/api/v1/meetings/%d/notes", other.meetingID), map[string]any{"title": "Notatka", "body": noteQuotes}, 404, "not_found"},
		{"note by an observer", observer, "POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Notatka", "body": noteQuotes}, 403, "forbidden"},
		{"note by a muted member", muted, "POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Notatka", "body": noteQuotes}, 403, "muted"},
		{"note over the rate limit", busy, "POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Notatka", "body": noteQuotes}, 429, "rate_limited"},
		{"edit of a note that does not exist", member, "PATCH", "/api/v1/notes/999999", map[string]any{"body": noteQuotes, "version": 1}, 404, "not_found"},
		{"edit of a note in another group", member, "PATCH", fmt.Sprintf("/api/v1/notes/%d", other.noteID), map[string]any{"body": noteQuotes, "version": 1}, 404, "not_found"},
		{"note edit by an observer", observer, "PATCH", fmt.Sprintf("/api/v1/notes/%d", w.noteID), map[string]any{"body": noteQuotes, "version": 1}, 403, "forbidden"},
		{"note edit by a muted member", muted, "PATCH", fmt.Sprintf("/api/v1/notes/%d", w.noteID), map[string]any{"body": noteQuotes, "version": 1}, 403, "muted"},
		{"note edit over the rate limit", busy, "PATCH", fmt.Sprintf("/api/v1/notes/%d", w.noteID), map[string]any{"body": noteQuotes, "version": 1}, 429, "rate_limited"},
		{"chat in a meeting that does not exist", member, "POST", "/api/v1/meetings/999999/messages", map[string]any{"client_id": uuid.NewString(), "body": strings.Repeat(">", 4000)}, 404, "not_found"},
		{"chat in a meeting that is not live", member, "POST", fmt.Sprintf("/api/v1/meetings/%d/messages", w.meetingID), map[string]any{"client_id": uuid.NewString(), "body": strings.Repeat(">", 4000)}, 403, "meeting_not_live"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := env.App.Markup.Renders()
			var r *testkit.Response
			if c.method == "FORM" {
				r = c.c.Form(c.path, c.body.(url.Values))
			} else {
				r = c.c.JSON(c.method, c.path, c.body)
			}
			cwStatus(t, c.name, r, c.status, c.code)
			if n := env.App.Markup.Renders() - before; n != 0 {
				t.Errorf("%s: rendered %d times before refusing", c.name, n)
			}
		})
	}
	// The same requests, allowed, do render: the counter is the right signal.
	before := env.App.Markup.Renders()
	r := member.JSON("PATCH", fmt.Sprintf("/api/v1/posts/%d", w.postID), post("Poprawiony wpis"))
	cwStatus(t, "allowed edit", r, http.StatusOK, "")
	if env.App.Markup.Renders() == before {
		t.Error("an allowed edit did not render: the counter proves nothing")
	}
}

// storedHTML reads what a post or note stored.
func storedHTML(t *testing.T, env *testkit.Env, table string, id int64) string {
	t.Helper()
	var html string
	if err := env.DB.GetContext(context.Background(), &html, `SELECT body_html FROM `+table+` WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return html
}

func TestDeepQuotesStoreBoundedHTML(t *testing.T) {
	env := testkit.Start(t, dbURL)
	w := cwSetup(t, env)
	member := env.Login(w.member)

	check := func(t *testing.T, what, table string, id int64, srcLen int) {
		t.Helper()
		html := storedHTML(t, env, table, id)
		if max := markup.MaxOutput(srcLen); len(html) > max {
			t.Errorf("%s: stored %d bytes of HTML for %d of source, want at most %d", what, len(html), srcLen, max)
		}
		if d := cwDepth(html); d > markup.MaxNesting {
			t.Errorf("%s: quotes and lists nested %d deep, want at most %d", what, d, markup.MaxNesting)
		}
	}

	t.Run("50 KB post of >", func(t *testing.T) {
		src := strings.Repeat(">", 50000)
		r := member.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": src})
		cwStatus(t, "reply", r, http.StatusCreated, "")
		var p struct{ ID int64 }
		r.Decode(&p)
		check(t, "reply", "posts", p.ID, len(src))
	})
	t.Run("1000 levels of quotes and lists", func(t *testing.T) {
		for name, src := range map[string]string{
			"quotes":       strings.Repeat(">", 1000) + " sedno",
			"bullet lists": strings.Repeat("* ", 1000) + "sedno",
			"numbered":     strings.Repeat("1. ", 1000) + "sedno",
			"mixed":        strings.Repeat("> - ", 500) + "sedno",
		} {
			r := member.JSON("PATCH", fmt.Sprintf("/api/v1/posts/%d", w.postID), map[string]any{"body": src, "version": cwVersion(t, env, w.postID)})
			cwStatus(t, name, r, http.StatusOK, "")
			check(t, name, "posts", w.postID, len(src))
			if html := storedHTML(t, env, "posts", w.postID); !strings.Contains(html, "sedno") {
				t.Errorf("%s: the text deeper than the cap was lost: %.200s", name, html)
			}
		}
	})
	t.Run("100,000-character note of >", func(t *testing.T) {
		src := strings.Repeat(">", 100000)
		r := member.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Cytaty", "body": src})
		cwStatus(t, "note", r, http.StatusCreated, "")
		var n struct{ ID int64 }
		r.Decode(&n)
		check(t, "note", "notes", n.ID, len(src))
	})
	t.Run("amplifying text is refused on its field", func(t *testing.T) {
		// Short lines of 20 quotes each: every one renders to 24× its size.
		src := strings.Repeat(strings.Repeat(">", markup.MaxNesting)+"a\n\n", 2000)
		posts := cwCount(t, env, `SELECT count(*) FROM posts WHERE author_id = $1`, w.member.ID)
		r := member.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": src})
		cwStatus(t, "reply", r, http.StatusBadRequest, "validation")
		if !strings.Contains(r.String(), `"body"`) {
			t.Errorf("refusal does not name the body field: %s", r.Body)
		}
		r = member.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID), map[string]any{"title": "Cytaty", "body": src})
		cwStatus(t, "note", r, http.StatusBadRequest, "validation")
		if _, err := store.SetMeetingStatus(context.Background(), env.DB, w.meetingID, "live"); err != nil {
			t.Fatal(err)
		}
		chat := strings.Repeat(strings.Repeat(">", markup.MaxNesting)+"a\n\n", 170) // under 4,000 characters
		r = member.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/messages", w.meetingID), map[string]any{"client_id": uuid.NewString(), "body": chat})
		cwStatus(t, "chat", r, http.StatusBadRequest, "validation")
		if n := cwCount(t, env, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, w.meetingID); n != 0 {
			t.Errorf("%d amplifying chat messages stored", n)
		}
		r = member.Form(fmt.Sprintf("/t/%d/posts", w.threadID), url.Values{"body": {src}})
		cwStatus(t, "reply form", r, http.StatusBadRequest, "")
		if n := cwCount(t, env, `SELECT count(*) FROM posts WHERE author_id = $1`, w.member.ID); n != posts {
			t.Errorf("%d posts stored by refused replies", n-posts)
		}
	})
}

func cwVersion(t *testing.T, env *testkit.Env, postID int64) int {
	return cwCount(t, env, `SELECT version FROM posts WHERE id = $1`, postID)
}
