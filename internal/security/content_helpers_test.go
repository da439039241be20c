package security_test

// Fixtures shared by the content tests (render_test.go, mute_test.go,
// reports_test.go, races_test.go). Names start with "cw" (content writes) so
// they cannot clash with the helpers of the suite's other files.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// cwGroup is a group with a moderator, a member who wrote a thread, an
// observer, a meeting and a note written by the member.
type cwGroup struct {
	env       *testkit.Env
	group     model.Group
	mod       testkit.User
	member    testkit.User
	observer  testkit.User
	threadID  int64
	postID    int64 // the member's opening post of threadID
	meetingID int64
	noteID    int64
}

func cwSetup(t *testing.T, env *testkit.Env) *cwGroup {
	t.Helper()
	g := env.NewGroup(model.KindRural)
	w := &cwGroup{env: env, group: g, mod: env.NewUser(model.RoleMember), member: env.NewUser(model.RoleMember),
		observer: env.NewUser(model.RoleMember)}
	env.AddMember(w.mod.ID, g.ID, model.GroupModerator)
	env.AddMember(w.member.ID, g.ID, model.GroupMember)
	env.AddMember(w.observer.ID, g.ID, model.GroupObserver)
	ctx := context.Background()
	// Written straight in SQL, dated two minutes back: fixtures must not
	// count toward anyone's rate limit.
	err := env.DB.GetContext(ctx, &w.threadID, `
		INSERT INTO threads (group_id, title, author_id, post_count, created_at, last_activity_at)
		VALUES ($1, 'Wątek do testów treści', $2, 1, now() - interval '2 minutes', now() - interval '2 minutes') RETURNING id`,
		g.ID, w.member.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = env.DB.GetContext(ctx, &w.postID, `
		INSERT INTO posts (thread_id, position, author_id, body, body_html, created_at)
		VALUES ($1, 1, $2, 'Pierwszy wpis', '<p>Pierwszy wpis</p>', now() - interval '2 minutes') RETURNING id`,
		w.threadID, w.member.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.CreateMeeting(ctx, env.DB, store.NewMeeting{GroupID: g.ID, Title: "Spotkanie GWD",
		StartsAt: time.Now().Add(time.Hour), EndsAt: time.Now().Add(2 * time.Hour), CreatedBy: w.mod.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.meetingID = m.ID
	err = env.DB.GetContext(ctx, &w.noteID, `
		INSERT INTO notes (meeting_id, author_id, title, body, body_html, created_at, updated_at)
		VALUES ($1, $2, 'Notatka z sesji', 'Ustalenia', '<p>Ustalenia</p>', now() - interval '2 minutes', now() - interval '2 minutes')
		RETURNING id`, m.ID, w.member.ID)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// mute silences u in the group for a day, as a moderator would.
func (w *cwGroup) mute(t *testing.T, u testkit.User) {
	t.Helper()
	if _, err := store.CreateMute(context.Background(), w.env.DB, w.group.ID, u.ID, time.Now().Add(24*time.Hour),
		"Spam w wątkach", w.mod.ID); err != nil {
		t.Fatal(err)
	}
}

func (w *cwGroup) unmute(t *testing.T, u testkit.User) {
	t.Helper()
	if _, err := store.LiftMutes(context.Background(), w.env.DB, w.group.ID, u.ID); err != nil {
		t.Fatal(err)
	}
}

// count runs a count(*) query.
func cwCount(t *testing.T, env *testkit.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := env.DB.GetContext(context.Background(), &n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// cwStatus fails unless r has the status (and, for JSON errors, the code when given).
func cwStatus(t *testing.T, what string, r *testkit.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %.300s", what, r.Status, status, r.Body)
		return
	}
	if code != "" && r.ErrorCode() != code {
		t.Errorf("%s: error code %q, want %q: %.300s", what, r.ErrorCode(), code, r.Body)
	}
}

// cwDepth is the deepest nesting of block quotes and lists in stored HTML.
func cwDepth(html string) int {
	depth, max := 0, 0
	for i := 0; i < len(html); i++ {
		if html[i] != '<' {
			continue
		}
		rest := html[i+1:]
		switch {
		case strings.HasPrefix(rest, "blockquote"), strings.HasPrefix(rest, "ul>"), strings.HasPrefix(rest, "ol>"), strings.HasPrefix(rest, "ol "):
			depth++
			if depth > max {
				max = depth
			}
		case strings.HasPrefix(rest, "/blockquote"), strings.HasPrefix(rest, "/ul>"), strings.HasPrefix(rest, "/ol>"):
			depth--
		}
	}
	return max
}
