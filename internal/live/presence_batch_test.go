package live_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Presence rows are written in batches by one writer while connections come
// and go; whatever way the changes fall into batches, the rows end as the
// counts say: a user with a connection left has a row, one without has none,
// also when a join and a leave of the same user race each other.
func TestPresenceBatchesEndAsTheCountsSay(t *testing.T) {
	env := testkit.Start(t, dbURL)
	hub := env.App.Live
	users := make([]int64, 6)
	for i := range users {
		users[i] = env.NewUser(model.RoleMember).ID
	}
	const topic = "meeting:424242"
	rows := func() []int64 {
		t.Helper()
		live.WaitPresence(hub)
		var ids []int64
		if err := env.DB.Select(&ids, `SELECT user_id FROM live_presence WHERE instance_id = $1 AND topic = $2 ORDER BY user_id`,
			live.Instance(hub), topic); err != nil {
			t.Fatal(err)
		}
		return ids
	}

	// In sequence: a joins and leaves and comes back with two tabs, one of
	// which closes; b comes and goes; c stays.
	a, b, c := users[0], users[1], users[2]
	for _, step := range []struct {
		user int64
		join bool
	}{{a, true}, {b, true}, {a, false}, {c, true}, {a, true}, {a, true}, {a, false}, {b, false}} {
		live.PresenceChange(hub, topic, step.user, step.join)
	}
	if got, want := rows(), []int64{a, c}; !slices.Equal(got, want) {
		t.Fatalf("present %v, want %v", got, want)
	}

	// Concurrently: every user's tabs open and close many times from several
	// goroutines; in the end users[3] keeps one tab, the others none.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				u := users[(g+i)%len(users)]
				live.PresenceChange(hub, topic, u, true)
				live.PresenceChange(hub, topic, u, false)
			}
		}()
	}
	wg.Wait()
	live.PresenceChange(hub, topic, users[3], true)
	live.PresenceChange(hub, topic, c, false)
	if got, want := rows(), []int64{a, users[3]}; !slices.Equal(got, want) {
		t.Fatalf("after the churn present %v, want %v", got, want)
	}
}
