package security_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 10, item 3: a notification tells its owner a title, an actor and a
// group. After the thread moved to a group the owner cannot read, or after the
// owner left the group, a reply must not reach them (nothing recorded, nothing
// pushed), and what was recorded before is no longer listed: not in the API,
// not on the page, not in the header's unread count.

// notificationWorld: alice starts a thread in `old`; bob (a member of old, new
// and the group alice keeps) replies; alice also has one legitimate
// notification in `kept`, so that an empty list cannot pass by accident.
type notificationWorld struct {
	env                  *testkit.Env
	old, new, kept       model.Group
	alice, bob, admin    testkit.User
	aliceC, bobC, adminC *testkit.Client
	thread, keptThread   int64
}

func newNotificationWorld(t *testing.T) *notificationWorld {
	env := testkit.Start(t, dbURL)
	w := &notificationWorld{env: env, old: env.NewGroup(model.KindRural), new: env.NewGroup(model.KindRural),
		kept: env.NewGroup(model.KindUrban), alice: env.NewUser(model.RoleMember), bob: env.NewUser(model.RoleMember),
		admin: env.NewUser(model.RoleAdmin)}
	env.AddMember(w.alice.ID, w.old.ID, model.GroupMember)
	env.AddMember(w.alice.ID, w.kept.ID, model.GroupMember)
	for _, g := range []int64{w.old.ID, w.new.ID, w.kept.ID} {
		env.AddMember(w.bob.ID, g, model.GroupMember)
	}
	w.aliceC, w.bobC, w.adminC = env.Login(w.alice), env.Login(w.bob), env.Login(w.admin)
	w.thread, _ = env.NewThread(w.old.ID, w.alice.ID, 1)
	w.keptThread, _ = env.NewThread(w.kept.ID, w.alice.ID, 1)
	return w
}

func (w *notificationWorld) reply(t *testing.T, threadID int64, body string) int64 {
	t.Helper()
	r := w.bobC.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{"body": body})
	if r.Status != http.StatusCreated {
		t.Fatalf("reply in thread %d: %d %s", threadID, r.Status, r.Body)
	}
	var p struct {
		ID int64 `json:"id"`
	}
	r.Decode(&p)
	return p.ID
}

type listedNotification struct {
	ID         int64   `json:"id"`
	Kind       string  `json:"kind"`
	ActorName  *string `json:"actor_name"`
	GroupID    int64   `json:"group_id"`
	TargetType string  `json:"target_type"`
	TargetID   int64   `json:"target_id"`
	Title      string  `json:"title"`
}

var unreadBadge = regexp.MustCompile(`data-unread="(\d+)"`)

// check asserts that alice sees exactly the legitimate notification (the
// reply in `kept`, post keptPost) and nothing that names secret.
func (w *notificationWorld) check(t *testing.T, keptPost int64, secret string) {
	t.Helper()
	r := w.aliceC.Get("/api/v1/notifications")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/notifications: %d %s", r.Status, r.Body)
	}
	var list struct {
		Items []listedNotification `json:"items"`
	}
	r.Decode(&list)
	if len(list.Items) != 1 || list.Items[0].TargetID != keptPost || list.Items[0].GroupID != w.kept.ID {
		t.Errorf("API lists %+v, want only the reply %d in the group alice kept", list.Items, keptPost)
	}
	if strings.Contains(r.String(), secret) {
		t.Errorf("API list names %q: %s", secret, r.Body)
	}
	page := w.aliceC.Get("/notifications")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /notifications: %d", page.Status)
	}
	if strings.Contains(page.String(), secret) {
		t.Errorf("notifications page names %q", secret)
	}
	if n := strings.Count(page.String(), `<li class="notification`); n != 1 {
		t.Errorf("notifications page lists %d notifications, want 1", n)
	}
	// The header's badge on any page counts only what alice may still read.
	home := w.aliceC.Get("/").String()
	if m := unreadBadge.FindStringSubmatch(home); m == nil || m[1] != "1" {
		t.Errorf("header unread badge = %v, want 1", m)
	}
}

// recordedFor counts alice's notification rows about a post, however listed.
func (w *notificationWorld) recordedFor(t *testing.T, postID int64) int {
	t.Helper()
	var n int
	if err := w.env.DB.Get(&n, `SELECT count(*) FROM notifications WHERE user_id = $1 AND target_type = 'post' AND target_id = $2`,
		w.alice.ID, postID); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitPush waits for alice's socket to be told of the notification about post
// want; a notification about anything else arriving first is an error.
func waitPush(t *testing.T, ws *testkit.WS, want int64) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case f, ok := <-ws.Frames():
			if !ok {
				t.Fatalf("socket closed: %v", ws.Err())
			}
			if f.Type != "notification" {
				continue
			}
			n, _ := f.M["notification"].(map[string]any)
			if id, _ := n["target_id"].(float64); int64(id) != want {
				t.Errorf("pushed a notification alice may not read: %s", f.Raw)
				continue
			}
			return
		case <-deadline:
			t.Fatalf("no notification about post %d pushed within 30 s", want)
		}
	}
}

func TestNotificationsAfterThreadMovedAway(t *testing.T) {
	w := newNotificationWorld(t)
	ws := w.aliceC.DialWS()
	defer ws.Conn.Close()

	before := w.reply(t, w.thread, "Odpowiedź, gdy wątek był jeszcze w starej grupie")
	if w.recordedFor(t, before) != 1 {
		t.Fatal("the reply in alice's own group did not notify her")
	}
	waitPush(t, ws, before)

	// Staff move the thread to a group alice cannot read and rename it there.
	staff := w.env.Login(w.env.NewUser(model.RoleStaff))
	if r := staff.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/move", w.thread), map[string]any{"group_id": w.new.ID, "reason": "Temat innej grupy"}); r.Status != http.StatusOK {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	const secret = "Tajny tytuł w nowej grupie"
	if r := staff.JSON("PATCH", fmt.Sprintf("/api/v1/threads/%d", w.thread), map[string]any{"title": secret}); r.Status != http.StatusOK {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}

	after := w.reply(t, w.thread, "Odpowiedź już w nowej grupie")
	if n := w.recordedFor(t, after); n != 0 {
		t.Errorf("a reply in a group alice cannot read recorded %d notifications for her", n)
	}
	kept := w.reply(t, w.keptThread, "Odpowiedź w grupie, którą alice czyta")
	// Nothing about the moved thread reaches her socket before the legitimate one.
	waitPush(t, ws, kept)
	w.check(t, kept, secret)
}

func TestNotificationsAfterRemovalFromGroup(t *testing.T) {
	w := newNotificationWorld(t)
	const secret = "Sprawy tylko dla członków grupy"
	if _, err := w.env.DB.Exec(`UPDATE threads SET title = $2 WHERE id = $1`, w.thread, secret); err != nil {
		t.Fatal(err)
	}
	before := w.reply(t, w.thread, "Odpowiedź, gdy alice była członkinią")
	if w.recordedFor(t, before) != 1 {
		t.Fatal("the reply in alice's own group did not notify her")
	}
	// A meeting of the old group told her too, while she was a member.
	const meetingSecret = "Spotkanie tylko dla członków grupy"
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	if r := w.adminC.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.old.ID), map[string]any{"title": meetingSecret,
		"starts_at": start, "ends_at": start.Add(time.Hour)}); r.Status != http.StatusCreated {
		t.Fatalf("schedule a meeting: %d %s", r.Status, r.Body)
	}
	var told int
	if err := w.env.DB.Get(&told, `SELECT count(*) FROM notifications WHERE user_id = $1 AND target_type = 'meeting'`, w.alice.ID); err != nil || told != 1 {
		t.Fatalf("meeting notifications for alice: %d, %v", told, err)
	}
	if r := w.adminC.Do("DELETE", fmt.Sprintf("/api/v1/groups/%d/members/%d", w.old.ID, w.alice.ID), nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove alice: %d %s", r.Status, r.Body)
	}
	// A membership change renews her session's token: she signs in again.
	w.aliceC = w.env.Login(w.alice)

	ws := w.aliceC.DialWS()
	defer ws.Conn.Close()
	after := w.reply(t, w.thread, "Odpowiedź po usunięciu alice z grupy")
	if n := w.recordedFor(t, after); n != 0 {
		t.Errorf("a reply in a group alice left recorded %d notifications for her", n)
	}
	kept := w.reply(t, w.keptThread, "Odpowiedź w grupie, którą alice czyta")
	waitPush(t, ws, kept)
	w.check(t, kept, secret)
}

// TestNotificationRecipientsFollowAccess checks the SQL filter against the
// rules of package access, case by case: who is told of a reply in a group's
// thread, a hidden thread, a common group's thread and a meeting.
func TestNotificationRecipientsFollowAccess(t *testing.T) {
	env := testkit.Start(t, dbURL)
	ctx := context.Background()
	g, common, elsewhere := env.NewGroup(model.KindRural), env.NewGroup(model.KindCommon), env.NewGroup(model.KindCounty)
	users := map[string]testkit.User{}
	for _, name := range []string{"member", "observer", "moderator", "outsider", "disabled"} {
		users[name] = env.NewUser(model.RoleMember)
	}
	users["staff"], users["admin"] = env.NewUser(model.RoleStaff), env.NewUser(model.RoleAdmin)
	env.AddMember(users["member"].ID, g.ID, model.GroupMember)
	env.AddMember(users["observer"].ID, g.ID, model.GroupObserver)
	env.AddMember(users["moderator"].ID, g.ID, model.GroupModerator)
	env.AddMember(users["outsider"].ID, elsewhere.ID, model.GroupMember)
	env.AddMember(users["disabled"].ID, g.ID, model.GroupMember)
	if _, err := env.DB.Exec(`UPDATE users SET disabled = true WHERE id = $1`, users["disabled"].ID); err != nil {
		t.Fatal(err)
	}
	actor := env.NewUser(model.RoleStaff)
	all := []int64{}
	for _, u := range users {
		all = append(all, u.ID)
	}

	_, open := env.NewThread(g.ID, actor.ID, 1)
	hiddenThread, hidden := env.NewThread(g.ID, actor.ID, 1)
	if _, err := env.DB.Exec(`UPDATE threads SET hidden = true WHERE id = $1`, hiddenThread); err != nil {
		t.Fatal(err)
	}
	_, inCommon := env.NewThread(common.ID, actor.ID, 1)
	var meeting int64
	if err := env.DB.Get(&meeting, `INSERT INTO meetings (group_id, title, starts_at, ends_at, created_by)
		VALUES ($1, 'Spotkanie', now() + interval '1 day', now() + interval '25 hours', $2) RETURNING id`, g.ID, actor.ID); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name       string
		group      int64
		targetType string
		target     int64
		want       []string
	}{
		{"a reply in the group", g.ID, "post", open[0], []string{"admin", "member", "moderator", "observer", "staff"}},
		{"a reply in a hidden thread", g.ID, "post", hidden[0], []string{"admin", "moderator", "staff"}},
		{"a reply in a common group", common.ID, "post", inCommon[0], []string{"admin", "member", "moderator", "observer", "outsider", "staff"}},
		{"a meeting of the group", g.ID, "meeting", meeting, []string{"admin", "member", "moderator", "observer", "staff"}},
	} {
		sent, err := store.InsertNotifications(ctx, env.DB, store.NewNotifications{UserIDs: all, Kind: "reply", ActorID: actor.ID,
			GroupID: tc.group, TargetType: tc.targetType, TargetID: tc.target, Title: tc.name})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		told := map[int64]bool{}
		for _, s := range sent {
			told[s.UserID] = true
		}
		var got []string
		for name, u := range users {
			if told[u.ID] {
				got = append(got, name)
			}
			// What is listed agrees with what was recorded.
			list, err := store.ListNotifications(ctx, env.DB, u.ID, store.Page{Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			listed := false
			for _, n := range list {
				listed = listed || (n.TargetType == tc.targetType && n.TargetID == tc.target)
			}
			if listed != told[u.ID] {
				t.Errorf("%s: %s recorded %v, listed %v", tc.name, name, told[u.ID], listed)
			}
		}
		slices.Sort(got)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s told %v, want %v", tc.name, got, tc.want)
		}
	}
}
