package live_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Connects and subscribes that arrive together are looked up together (one
// session statement and one authorize statement for a burst, issue 16); each
// is still judged on its own: in one burst the members get in, an ended
// session and a disabled account are refused at the upgrade, and an
// outsider, a member removed from the group just before and a subscribe to a
// meeting that does not exist are refused at the subscribe — while everyone
// else's subscribes in the same statements succeed.
func TestConcurrentConnectsAreJudgedOneByOne(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	removed, disabled, ended := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	for _, u := range []testkit.User{removed, disabled, ended} {
		env.AddMember(u.ID, r.group.ID, model.GroupMember)
	}
	clients := map[string]*testkit.Client{
		"member": env.Login(r.member), "moderator": env.Login(r.moderator), "observer": env.Login(r.observer),
		"outsider": env.Login(r.outsider), "removed": env.Login(removed), "disabled": env.Login(disabled), "ended": env.Login(ended),
	}
	// Taken away after the logins, before the burst: the look-ups must see it.
	for _, q := range []string{
		fmt.Sprintf(`DELETE FROM memberships WHERE user_id = %d`, removed.ID),
		fmt.Sprintf(`UPDATE users SET disabled = true WHERE id = %d`, disabled.ID),
		fmt.Sprintf(`DELETE FROM sessions WHERE user_id = %d`, ended.ID),
	} {
		if _, err := env.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	type attempt struct {
		who, topic string
		want       string // "subscribed", "not_found" (subscribe refused) or "401" (upgrade refused)
	}
	var attempts []attempt
	for i := range 8 { // several sockets per session: the same token more than once in a batch
		attempts = append(attempts,
			attempt{"member", r.topic(), "subscribed"}, attempt{"moderator", r.topic(), "subscribed"},
			attempt{"observer", r.topic(), "subscribed"}, attempt{"outsider", r.topic(), "not_found"},
			attempt{"removed", r.topic(), "not_found"}, attempt{"disabled", r.topic(), "401"},
			attempt{"ended", r.topic(), "401"})
		if i%2 == 0 {
			attempts = append(attempts, attempt{"member", "meeting:999999999", "not_found"})
		}
	}

	start := make(chan struct{})
	results := make([]string, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = connectAndSubscribe(clients[a.who], a.topic)
		}()
	}
	close(start)
	wg.Wait()
	for i, a := range attempts {
		if results[i] != a.want {
			t.Errorf("%s subscribing to %s: %s, want %s", a.who, a.topic, results[i], a.want)
		}
	}
}

// connectAndSubscribe dials and subscribes; it says how far it got: the
// status of a refused upgrade, the error code of a refused subscribe, or
// "subscribed".
func connectAndSubscribe(c *testkit.Client, topic string) string {
	ws, resp, err := c.TryDialWS(c.Base)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return "401"
		}
		return fmt.Sprintf("dial: %v", err)
	}
	ws.Send(map[string]any{"type": "subscribe", "topic": topic, "since_seq": 0})
	timeout := time.After(wait)
	for {
		var f testkit.Frame
		select {
		case fr, ok := <-ws.Frames():
			if !ok {
				return fmt.Sprintf("closed: %v", ws.Err())
			}
			f = fr
		case <-timeout:
			return "no answer"
		}
		switch f.Type {
		case "subscribed":
			if f.Str("topic") != topic {
				return "subscribed to " + f.Str("topic")
			}
			return "subscribed"
		case "error":
			if f.Str("ref") != topic {
				return "error for " + f.Str("ref")
			}
			return f.Str("code")
		}
	}
}
