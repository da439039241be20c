package live_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// presenceIDs reads a presence frame's user ids.
func presenceIDs(f testkit.Frame) map[int64]bool {
	out := map[int64]bool{}
	us, _ := f.M["users"].([]any)
	for _, u := range us {
		id, _ := u.(map[string]any)["id"].(float64)
		out[int64(id)] = true
	}
	return out
}

// presenceUntil waits for a presence frame that satisfies ok.
func presenceUntil(t *testing.T, ws *testkit.WS, ok func(testkit.Frame) bool) testkit.Frame {
	t.Helper()
	for {
		if f := ws.Expect("presence", wait); ok(f) {
			return f
		}
	}
}

// One entry per person however many tabs; joined and left name the change.
func TestPresenceIsOneEntryPerPerson(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	mod := env.Login(r.moderator).DialWS()
	subscribe(t, mod, r.topic(), 0)
	if p := mod.Expect("presence", wait); p.Int("count") != 1 || !presenceIDs(p)[r.moderator.ID] {
		t.Fatalf("moderator alone: %s", p.Raw)
	}
	member := env.Login(r.member)
	tab1, tab2 := member.DialWS(), member.DialWS()
	subscribe(t, tab1, r.topic(), 0)
	p := presenceUntil(t, mod, func(f testkit.Frame) bool { return presenceIDs(f)[r.member.ID] })
	if p.Int("count") != 2 {
		t.Fatalf("after the member's first tab: %s", p.Raw)
	}
	if j, _ := p.M["joined"].([]any); len(j) != 1 {
		t.Errorf("joined = %v, want the member", p.M["joined"])
	}
	subscribe(t, tab2, r.topic(), 0)
	if p := tab2.Expect("presence", wait); p.Int("count") != 2 {
		t.Errorf("second tab greeted with %s, want 2 people", p.Raw)
	}
	// Closing one tab changes nothing; closing the last one is a leave.
	_ = tab1.Conn.Close()
	waitFor(t, func() bool { return gauge(t, env, "forumjst_live_connections") == 2 })
	quiet := time.After(500 * time.Millisecond) // longer than the state loop's pause
	for done := false; !done; {
		select {
		case f := <-mod.Frames():
			if f.Type == "presence" && (len(f.M["left"].([]any)) > 0 || f.Int("count") != 2) {
				t.Errorf("closing one of two tabs announced %s", f.Raw)
			}
		case <-quiet:
			done = true
		}
	}
	_ = tab2.Conn.Close()
	p = presenceUntil(t, mod, func(f testkit.Frame) bool { return len(f.M["left"].([]any)) > 0 })
	if p.Int("count") != 1 || presenceIDs(p)[r.member.ID] {
		t.Errorf("after both tabs closed: %s", p.Raw)
	}
	if l, _ := p.M["left"].([]any); len(l) != 1 || int64(l[0].(float64)) != r.member.ID {
		t.Errorf("left = %v, want [%d]", p.M["left"], r.member.ID)
	}
}

// An open meeting page learns at once that the meeting started and ended.
func TestMeetingStatusIsPushed(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	mod := env.Login(r.moderator)
	id := createMeeting(t, mod, r.group.ID, false)
	ws := env.Login(r.observer).DialWS()
	f := subscribe(t, ws, fmt.Sprintf("meeting:%d", id), 0)
	if st, _ := f.M["state"].(map[string]any); st["status"] != "scheduled" {
		t.Errorf("subscribed state = %s", f.Raw)
	}
	for _, step := range []struct{ action, status string }{{"start", "live"}, {"end", "ended"}} {
		if resp := mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/%s", id, step.action), nil); resp.Status != http.StatusOK {
			t.Fatalf("%s: %d", step.action, resp.Status)
		}
		if f := ws.Expect("meeting.status", wait); f.Str("status") != step.status || f.Int("meeting_id") != id {
			t.Errorf("after %s: %s", step.action, f.Raw)
		}
	}
}

// Open thread and group pages learn of new posts and of moderation (issue 4
// item 8); a member following a thread that gets hidden loses it.
func TestThreadAndGroupUpdates(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	member, mod := env.Login(r.member), env.Login(r.moderator)
	threadID, _ := env.NewThread(r.group.ID, r.member.ID, 1)
	threadTopic, groupTopic := fmt.Sprintf("thread:%d", threadID), fmt.Sprintf("group:%d", r.group.ID)
	ws := member.DialWS()
	f := subscribe(t, ws, threadTopic, 0)
	if st, _ := f.M["state"].(map[string]any); st["post_count"] != float64(1) {
		t.Errorf("thread subscribed state = %s", f.Raw)
	}
	subscribe(t, ws, groupTopic, 0)
	outsider := env.Login(r.outsider).DialWS()
	outsider.Send(map[string]any{"type": "subscribe", "topic": threadTopic})
	if f := outsider.Expect("error", wait); f.Str("code") != "not_found" {
		t.Errorf("outsider subscribing a thread: %s", f.Raw)
	}

	resp := mod.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{"body": "Odpowiedź moderatora"})
	if resp.Status != http.StatusCreated {
		t.Fatalf("reply: %d %s", resp.Status, resp.Body)
	}
	var post struct{ ID int64 }
	resp.Decode(&post)
	// The two topics' frames come in either order.
	for got := map[string]bool{}; !got["thread.post"] || !got["group.update"]; {
		f := ws.Next(wait)
		switch f.Type {
		case "thread.post":
			if f.Int("post_count") != 2 || f.Int("last_post_id") != post.ID {
				t.Errorf("thread.post = %s", f.Raw)
			}
		case "group.update":
			if f.Int("threads") != 1 {
				t.Errorf("group.update = %s", f.Raw)
			}
		}
		got[f.Type] = true
	}
	if resp := mod.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/lock", threadID), map[string]any{"reason": "Temat wyczerpany"}); resp.Status != http.StatusOK {
		t.Fatalf("lock: %d %s", resp.Status, resp.Body)
	}
	if f := ws.Expect("thread.update", wait); f.M["locked"] != true || f.M["hidden"] != false {
		t.Errorf("after lock: %s", f.Raw)
	}
	if resp := mod.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/hide", threadID), map[string]any{"reason": "Dane osobowe w treści"}); resp.Status != http.StatusOK {
		t.Fatalf("hide: %d %s", resp.Status, resp.Body)
	}
	if f := ws.Expect("thread.update", wait); f.M["hidden"] != true {
		t.Errorf("after hide: %s", f.Raw)
	}
	// The member may no longer read the thread: the subscription ends.
	if f := ws.Expect("error", wait); f.Str("code") != "not_found" || f.Str("ref") != threadTopic {
		t.Errorf("after hide, member got %s, want not_found for %s", f.Raw, threadTopic)
	}

	other := env.NewGroup(model.KindRural)
	env.AddMember(r.moderator.ID, other.ID, model.GroupModerator)
	mws := mod.DialWS()
	subscribe(t, mws, threadTopic, 0)
	if resp := mod.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/move", threadID), map[string]any{"group_id": other.ID}); resp.Status != http.StatusOK {
		t.Fatalf("move: %d %s", resp.Status, resp.Body)
	}
	if f := mws.Expect("thread.update", wait); f.Int("group_id") != other.ID {
		t.Errorf("after move: %s", f.Raw)
	}
}
