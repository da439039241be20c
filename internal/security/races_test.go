package security_test

// Issue 10, item 10: the posting rate limit could be raced: 16 parallel posts
// by one account stored 13 against a limit of 10 a minute, because each request
// counted before any of the others had inserted. The count and the insert are
// now one critical section per account (the author's row lock inside the
// inserting transaction), so exactly the limit is stored and the rest get 429.
// Notes have a limit of their own (10 saves a minute), held the same way.

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// cwBurst sends n requests at once (released together) and counts the statuses.
func cwBurst(t *testing.T, n int, send func(i int) *testkit.Response) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := send(i)
			mu.Lock()
			got[r.Status]++
			mu.Unlock()
		}(i)
	}
	close(start)
	wg.Wait()
	return got
}

func TestRateLimitsCannotBeRaced(t *testing.T) {
	env := testkit.Start(t, dbURL)
	w := cwSetup(t, env)
	postLimit := env.Config.PostsPerMinute
	noteLimit := notes.DefaultNoteSavesPerMinute

	// A fresh member for each burst: nothing of theirs counts yet.
	writer := func() (testkit.User, *testkit.Client) {
		u := env.NewUser(model.RoleMember)
		env.AddMember(u.ID, w.group.ID, model.GroupMember)
		return u, env.Login(u)
	}
	want := func(t *testing.T, what string, got map[int]int, created, n, limit, stored int) {
		t.Helper()
		if got[created] != limit || got[http.StatusTooManyRequests] != n-limit || stored != limit {
			t.Errorf("%s: %d parallel requests answered %v and stored %d; want %d × %d, %d × 429 and %d stored",
				what, n, got, stored, limit, created, n-limit, limit)
		}
	}

	for _, n := range []int{16, 32} {
		t.Run(fmt.Sprintf("%d replies", n), func(t *testing.T) {
			u, c := writer()
			got := cwBurst(t, n, func(i int) *testkit.Response {
				return c.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": fmt.Sprintf("Odpowiedź %d", i)})
			})
			want(t, "replies", got, http.StatusCreated, n, postLimit,
				cwCount(t, env, `SELECT count(*) FROM posts WHERE author_id = $1`, u.ID))
		})
		t.Run(fmt.Sprintf("%d new threads", n), func(t *testing.T) {
			u, c := writer()
			got := cwBurst(t, n, func(i int) *testkit.Response {
				return c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID),
					map[string]any{"title": fmt.Sprintf("Temat numer %d", i), "body": "Treść"})
			})
			want(t, "threads", got, http.StatusCreated, n, postLimit,
				cwCount(t, env, `SELECT count(*) FROM threads WHERE author_id = $1`, u.ID))
		})
		t.Run(fmt.Sprintf("%d threads and replies mixed", n), func(t *testing.T) {
			u, c := writer()
			got := cwBurst(t, n, func(i int) *testkit.Response {
				if i%2 == 0 {
					return c.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", w.threadID), map[string]any{"body": fmt.Sprintf("Odpowiedź %d", i)})
				}
				return c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID),
					map[string]any{"title": fmt.Sprintf("Temat numer %d", i), "body": "Treść"})
			})
			want(t, "posts", got, http.StatusCreated, n, postLimit,
				cwCount(t, env, `SELECT count(*) FROM posts WHERE author_id = $1`, u.ID))
		})
		t.Run(fmt.Sprintf("%d new notes", n), func(t *testing.T) {
			u, c := writer()
			got := cwBurst(t, n, func(i int) *testkit.Response {
				return c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", w.meetingID),
					map[string]any{"title": fmt.Sprintf("Notatka %d", i), "body": "Treść"})
			})
			want(t, "notes", got, http.StatusCreated, n, noteLimit,
				cwCount(t, env, `SELECT count(*) FROM notes WHERE author_id = $1`, u.ID))
		})
	}
	t.Run("note edits count too", func(t *testing.T) {
		u, c := writer()
		ids := make([]int64, 16)
		for i := range ids {
			// Written in SQL: these notes are not the writer's saves.
			if err := env.DB.Get(&ids[i], `INSERT INTO notes (meeting_id, author_id, title, body, body_html)
				VALUES ($1, $2, 'Cudza notatka', 'x', '<p>x</p>') RETURNING id`, w.meetingID, w.mod.ID); err != nil {
				t.Fatal(err)
			}
		}
		got := cwBurst(t, len(ids), func(i int) *testkit.Response {
			return c.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", ids[i]), map[string]any{"body": fmt.Sprintf("Poprawka %d", i), "version": 1})
		})
		want(t, "note edits", got, http.StatusOK, len(ids), noteLimit,
			cwCount(t, env, `SELECT count(*) FROM notes WHERE edited_by = $1`, u.ID))
	})
}
