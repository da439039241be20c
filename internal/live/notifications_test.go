package live_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A user's own notifications arrive on every open tab without subscribing,
// once each, and are listed and marked read over HTTP.
func TestNotificationsArriveUnasked(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	member, mod := env.Login(r.member), env.Login(r.moderator)
	threadID, posts := env.NewThread(r.group.ID, r.member.ID, 1)
	tab1, tab2 := member.DialWS(), member.DialWS()
	tab1.Send(map[string]any{"type": "ping"})
	tab1.Expect("pong", wait) // registered before the reply below

	resp := mod.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{"body": "Dziękuję za pytanie", "reply_to": posts[0]})
	if resp.Status != http.StatusCreated {
		t.Fatalf("reply: %d %s", resp.Status, resp.Body)
	}
	var post struct{ ID int64 }
	resp.Decode(&post)
	for _, ws := range []*testkit.WS{tab1, tab2} {
		f := ws.Expect("notification", wait)
		n, _ := f.M["notification"].(map[string]any)
		if n["kind"] != "reply" || n["url"] != fmt.Sprintf("/p/%d", post.ID) || n["actor_name"] != r.moderator.Name {
			t.Errorf("notification frame = %s", f.Raw)
		}
	}
	// The author of a reply is not told of their own reply.
	modWS := mod.DialWS()
	modWS.Send(map[string]any{"type": "ping"})
	modWS.Expect("pong", wait)
	if resp := member.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{"body": "Proszę bardzo", "reply_to": post.ID}); resp.Status != http.StatusCreated {
		t.Fatalf("second reply: %d", resp.Status)
	}
	modWS.Expect("notification", wait)
	tab1.Send(map[string]any{"type": "ping"})
	if f := tab1.Next(wait); f.Type != "pong" {
		t.Errorf("member got %s about their own reply", f.Raw)
	}

	// Starting a meeting tells the group's members (the room's own meeting
	// told them twice already, before they connected).
	meeting := createMeeting(t, mod, r.group.ID, true)
	var seen []string
	for len(seen) < 2 {
		f := tab2.Expect("notification", wait)
		seen = append(seen, f.M["notification"].(map[string]any)["kind"].(string))
	}
	if strings.Join(seen, ",") != "meeting_scheduled,meeting_started" {
		t.Errorf("meeting notifications = %v", seen)
	}

	list := member.Get("/api/v1/notifications")
	var out struct {
		Items []struct {
			ID     int64
			Kind   string
			URL    string
			ReadAt *string `json:"read_at"`
		}
	}
	list.Decode(&out)
	// "Meeting started" leads straight to the chat (issue 14).
	if len(out.Items) != 5 || out.Items[0].URL != fmt.Sprintf("/m/%d#chat", meeting) || out.Items[2].Kind != "reply" {
		t.Fatalf("notifications = %s", list.Body)
	}
	page := member.Get("/notifications")
	if page.Status != http.StatusOK || !strings.Contains(page.String(), "odpowiada w wątku") || !strings.Contains(page.String(), `data-unread="5"`) {
		t.Errorf("notifications page: %d", page.Status)
	}
	if resp := member.JSON("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{out.Items[2].ID}}); resp.Status != http.StatusOK || !strings.Contains(resp.String(), `"marked":1`) {
		t.Errorf("mark one read: %d %s", resp.Status, resp.Body)
	}
	// Someone else's ids are not theirs to mark.
	if resp := mod.JSON("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{out.Items[0].ID}}); !strings.Contains(resp.String(), `"marked":0`) {
		t.Errorf("marking another user's notification: %s", resp.Body)
	}
	if resp := member.Form("/notifications/read", nil); resp.Status != http.StatusSeeOther {
		t.Errorf("mark all read form: %d", resp.Status)
	}
	if page := member.Get("/notifications"); strings.Contains(page.String(), `data-unread="`) {
		t.Error("badge still shown after marking all read")
	}
}
