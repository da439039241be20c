package web_test

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// modWorld extends forumWorld for moderation: group G (w.group) with a member,
// an observer and its moderator (w.moderator, who also moderates the destination
// group M), group H (w.other) with its own moderator who is not in G, staff, an
// admin, and an author who writes the fixture posts and never acts.
type modWorld struct {
	*forumWorld
	dest                     model.Group
	modH, staff, admin, auth testkit.User
	clients                  map[string]*testkit.Client
}

// Roles of the permission table, in the order of its columns.
var modRoles = []string{"member", "observer", "modG", "modH", "staff", "admin"}

func newModWorld(t *testing.T, mutate ...func(*config.Config)) *modWorld {
	t.Helper()
	// Tests post through the API as the same few accounts; the per-minute
	// posting limit has its own test in forum_test.go.
	mutate = append([]func(*config.Config){func(c *config.Config) { c.PostsPerMinute = 100000 }}, mutate...)
	fw := newForumWorld(t, mutate...)
	env := fw.env
	w := &modWorld{forumWorld: fw, dest: env.NewGroup(model.KindCounty), clients: map[string]*testkit.Client{}}
	w.modH, w.staff, w.admin, w.auth = env.NewUser(model.RoleMember), env.NewUser(model.RoleStaff), env.NewUser(model.RoleAdmin), env.NewUser(model.RoleMember)
	env.AddMember(w.moderator.ID, w.dest.ID, model.GroupModerator)
	env.AddMember(w.modH.ID, w.other.ID, model.GroupModerator)
	env.AddMember(w.auth.ID, w.group.ID, model.GroupMember)
	return w
}

func (w *modWorld) user(role string) testkit.User {
	switch role {
	case "member":
		return w.member
	case "observer":
		return w.observer
	case "modG":
		return w.moderator
	case "modH":
		return w.modH
	case "staff":
		return w.staff
	case "admin":
		return w.admin
	case "author":
		return w.auth
	case "outsider":
		return w.outsider
	}
	panic("unknown role " + role)
}

// as logs a role in once (argon2 is slow under -race) and reuses the client.
func (w *modWorld) as(role string) *testkit.Client {
	if c, ok := w.clients[role]; ok {
		return c
	}
	c := w.env.Login(w.user(role))
	w.clients[role] = c
	return c
}

// thread creates a thread of n posts by the author in G, straight in SQL.
func (w *modWorld) thread(n int) (int64, []int64) { return w.env.NewThread(w.group.ID, w.auth.ID, n) }

func (w *modWorld) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := w.env.DB.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (w *modWorld) get(t *testing.T, dest any, q string, args ...any) {
	t.Helper()
	if err := w.env.DB.Get(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (w *modWorld) flag(t *testing.T) int64 {
	t.Helper()
	_, posts := w.thread(1)
	var id int64
	w.get(t, &id, `INSERT INTO flags (post_id, reporter_id, reason) VALUES ($1, $2, 'Zgłoszenie testowe') RETURNING id`, posts[0], w.member.ID)
	return id
}

func (w *modWorld) newMember(t *testing.T) testkit.User {
	t.Helper()
	u := w.env.NewUser(model.RoleMember)
	w.env.AddMember(u.ID, w.group.ID, model.GroupMember)
	return u
}

func (w *modWorld) boolCol(t *testing.T, q string, args ...any) bool {
	t.Helper()
	var b bool
	w.get(t, &b, q, args...)
	return b
}

func p(format string, args ...any) string { return fmt.Sprintf(format, args...) }

type modThread struct {
	ID              int64  `json:"id"`
	GroupID         int64  `json:"group_id"`
	Title           string `json:"title"`
	Pinned          bool   `json:"pinned"`
	Locked          bool   `json:"locked"`
	Hidden          bool   `json:"hidden"`
	PostCount       int    `json:"post_count"`
	SlowModeSeconds int    `json:"slow_mode_seconds"`
	Areas           []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"areas"`
	Unread int `json:"unread"`
}

type modPost struct {
	ID       int64  `json:"id"`
	ThreadID int64  `json:"thread_id"`
	Position int    `json:"position"`
	Body     string `json:"body"`
	BodyHTML string `json:"body_html"`
	ReplyTo  *int64 `json:"reply_to"`
	Hidden   bool   `json:"hidden"`
	Author   struct {
		ID int64 `json:"id"`
	} `json:"author"`
}

type modThreadPage struct {
	modThread
	Posts struct {
		Items []modPost `json:"items"`
	} `json:"posts"`
}

func getThread(t *testing.T, c *testkit.Client, id int64) modThreadPage {
	t.Helper()
	r := c.Get(p("/api/v1/threads/%d", id))
	wantStatus(t, p("GET thread %d", id), r, http.StatusOK)
	var out modThreadPage
	r.Decode(&out)
	return out
}

func listThreads(t *testing.T, c *testkit.Client, groupID int64) []modThread {
	t.Helper()
	r := c.Get(p("/api/v1/groups/%d/threads", groupID))
	wantStatus(t, "list threads", r, http.StatusOK)
	var out struct{ Items []modThread }
	r.Decode(&out)
	return out.Items
}

func findThread(items []modThread, id int64) *modThread {
	for i := range items {
		if items[i].ID == id {
			return &items[i]
		}
	}
	return nil
}

func getPost(t *testing.T, c *testkit.Client, id int64) modPost {
	t.Helper()
	r := c.Get(p("/api/v1/posts/%d", id))
	wantStatus(t, p("GET post %d", id), r, http.StatusOK)
	var out modPost
	r.Decode(&out)
	return out
}

func postIDs(items []modPost) (ids []int64, positions []int) {
	for _, it := range items {
		ids = append(ids, it.ID)
		positions = append(positions, it.Position)
	}
	return ids, positions
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

type auditJSON struct {
	ID         int64          `json:"id"`
	ActorID    *int64         `json:"actor_id"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   *int64         `json:"target_id"`
	GroupID    *int64         `json:"group_id"`
	Reason     string         `json:"reason"`
	Details    map[string]any `json:"details"`
	CreatedAt  time.Time      `json:"created_at"`
}

type auditList struct {
	Items   []auditJSON `json:"items"`
	HasMore bool        `json:"has_more"`
}

func readAudit(t *testing.T, c *testkit.Client, query string) auditList {
	t.Helper()
	r := c.Get("/api/v1/audit?" + query)
	wantStatus(t, "GET /api/v1/audit?"+query, r, http.StatusOK)
	var out auditList
	r.Decode(&out)
	return out
}

// findAudit returns the newest entry with the action and target, or fails.
func findAudit(t *testing.T, entries []auditJSON, action string, targetID int64) auditJSON {
	t.Helper()
	for _, e := range entries {
		if e.Action == action && e.TargetID != nil && *e.TargetID == targetID {
			return e
		}
	}
	t.Fatalf("no audit entry %s for target %d among %d entries", action, targetID, len(entries))
	return auditJSON{}
}

// beforeAfter reads details[key] = {before, after}.
func beforeAfter(t *testing.T, e auditJSON, key string) (any, any) {
	t.Helper()
	m, ok := e.Details[key].(map[string]any)
	if !ok {
		t.Fatalf("%s entry details lack %s{before,after}: %v", e.Action, key, e.Details)
	}
	return m["before"], m["after"]
}

// --- 1. Who may do what -----------------------------------------------------

type modReq struct {
	method, path string
	body         any
}

// TestModerationPermissionTable runs every moderation action as every role,
// each on fresh fixtures, and checks the status and that only permitted
// requests changed anything.
func TestModerationPermissionTable(t *testing.T) {
	w := newModWorld(t)
	G := w.group.ID
	const (
		ok, created, noContent = http.StatusOK, http.StatusCreated, http.StatusNoContent
		forbidden, notFound    = http.StatusForbidden, http.StatusNotFound
	)
	// Readers of G who do not moderate it get 403; a moderator of another group
	// cannot read G and gets 404; G's moderator, staff and admins may.
	curate := [6]int{forbidden, forbidden, ok, notFound, ok, ok}
	threadCol := func(col string, id int64) bool {
		return w.boolCol(t, `SELECT `+col+` FROM threads WHERE id = $1`, id)
	}
	threadFlag := func(action, col string, start, want bool, body any, expect [6]int) permRow {
		return permRow{action, expect, func(t *testing.T, role string) (modReq, func() bool) {
			tid, _ := w.thread(1)
			w.exec(t, `UPDATE threads SET `+col+` = $2 WHERE id = $1`, tid, start)
			return modReq{"POST", p("/api/v1/threads/%d/%s", tid, action), body}, func() bool { return threadCol(col, tid) == want }
		}}
	}
	reason := map[string]any{"reason": "Porządki w grupie"}
	rows := []permRow{
		threadFlag("pin", "pinned", false, true, nil, curate),
		threadFlag("unpin", "pinned", true, false, nil, curate),
		threadFlag("lock", "locked", false, true, reason, curate),
		threadFlag("unlock", "locked", true, false, nil, curate),
		threadFlag("hide", "hidden", false, true, reason, curate),
		// A hidden thread does not exist for those who do not moderate G.
		threadFlag("unhide", "hidden", true, false, nil, [6]int{notFound, notFound, ok, notFound, ok, ok}),
		{"edit thread", curate, func(t *testing.T, role string) (modReq, func() bool) {
			tid, _ := w.thread(1)
			title := "Nowy tytuł " + role
			return modReq{"PATCH", p("/api/v1/threads/%d", tid), map[string]any{"title": title, "areas": []int64{2}, "slow_mode_minutes": 1, "reason": "Lepszy tytuł"}},
				func() bool {
					var got string
					w.get(t, &got, `SELECT title FROM threads WHERE id = $1`, tid)
					return got == title
				}
		}},
		{"move", curate, func(t *testing.T, role string) (modReq, func() bool) {
			tid, _ := w.thread(1)
			to := w.dest.ID // G's moderator also moderates M
			if role == "modH" {
				to = w.other.ID // the group they do moderate
			}
			return modReq{"POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": to, "reason": "Właściwa grupa"}},
				func() bool {
					var g int64
					w.get(t, &g, `SELECT group_id FROM threads WHERE id = $1`, tid)
					return g == to
				}
		}},
		{"merge", curate, func(t *testing.T, role string) (modReq, func() bool) {
			// The target is older (smaller id) than the merged thread: the
			// answer must not depend on which of the two is locked first.
			dst, _ := w.thread(1)
			src, _ := w.thread(1)
			return modReq{"POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": dst, "reason": "Ten sam temat"}},
				func() bool {
					return w.boolCol(t, `SELECT merged_into IS NOT DISTINCT FROM $2 FROM threads WHERE id = $1`, src, dst)
				}
		}},
		{"merge into older", curate, func(t *testing.T, role string) (modReq, func() bool) {
			src, _ := w.thread(1)
			dst, _ := w.thread(1)
			return modReq{"POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": dst}},
				func() bool {
					return w.boolCol(t, `SELECT merged_into IS NOT DISTINCT FROM $2 FROM threads WHERE id = $1`, src, dst)
				}
		}},
		{"split", [6]int{forbidden, forbidden, created, notFound, created, created}, func(t *testing.T, role string) (modReq, func() bool) {
			tid, posts := w.thread(3)
			return modReq{"POST", p("/api/v1/threads/%d/split", tid), map[string]any{"post_ids": posts[1:], "title": "Wydzielona dyskusja"}},
				func() bool { return w.boolCol(t, `SELECT count(*) = 1 FROM posts WHERE thread_id = $1`, tid) }
		}},
		{"post hide", curate, func(t *testing.T, role string) (modReq, func() bool) {
			_, posts := w.thread(2)
			return modReq{"POST", p("/api/v1/posts/%d/hide", posts[1]), map[string]any{"reason": "Dane osobowe w treści"}},
				func() bool { return w.boolCol(t, `SELECT hidden FROM posts WHERE id = $1`, posts[1]) }
		}},
		{"post unhide", curate, func(t *testing.T, role string) (modReq, func() bool) {
			_, posts := w.thread(2)
			w.exec(t, `UPDATE posts SET hidden = true, hidden_reason = 'Powód testowy' WHERE id = $1`, posts[1])
			return modReq{"POST", p("/api/v1/posts/%d/unhide", posts[1]), nil},
				func() bool { return !w.boolCol(t, `SELECT hidden FROM posts WHERE id = $1`, posts[1]) }
		}},
		// Reports count toward hiding a post: a write, so observers may not (issue 10).
		{"report", [6]int{created, forbidden, created, notFound, created, created}, func(t *testing.T, role string) (modReq, func() bool) {
			_, posts := w.thread(1)
			return modReq{"POST", p("/api/v1/posts/%d/flags", posts[0]), map[string]any{"reason": "Wpis obraża innych"}},
				func() bool { return w.boolCol(t, `SELECT count(*) = 1 FROM flags WHERE post_id = $1`, posts[0]) }
		}},
		{"list flags", curate, func(t *testing.T, role string) (modReq, func() bool) {
			return modReq{"GET", p("/api/v1/groups/%d/flags?state=open", G), nil}, nil
		}},
		{"resolve flag", curate, func(t *testing.T, role string) (modReq, func() bool) {
			f := w.flag(t)
			return modReq{"POST", p("/api/v1/flags/%d/resolve", f), map[string]any{"note": "Wpis poprawiony"}},
				func() bool { return w.boolCol(t, `SELECT state = 'resolved' FROM flags WHERE id = $1`, f) }
		}},
		{"dismiss flag", curate, func(t *testing.T, role string) (modReq, func() bool) {
			f := w.flag(t)
			return modReq{"POST", p("/api/v1/flags/%d/dismiss", f), map[string]any{"note": "Bez naruszenia"}},
				func() bool { return w.boolCol(t, `SELECT state = 'dismissed' FROM flags WHERE id = $1`, f) }
		}},
		{"mute", [6]int{forbidden, forbidden, created, notFound, created, created}, func(t *testing.T, role string) (modReq, func() bool) {
			u := w.newMember(t)
			return modReq{"POST", p("/api/v1/groups/%d/mutes", G), map[string]any{"user_id": u.ID, "until": time.Now().Add(24 * time.Hour), "reason": "Spam w wątkach"}},
				func() bool {
					return w.boolCol(t, `SELECT count(*) = 1 FROM mutes WHERE group_id = $1 AND user_id = $2 AND until > now()`, G, u.ID)
				}
		}},
		{"list mutes", curate, func(t *testing.T, role string) (modReq, func() bool) {
			return modReq{"GET", p("/api/v1/groups/%d/mutes", G), nil}, nil
		}},
		{"unmute", [6]int{forbidden, forbidden, noContent, notFound, noContent, noContent}, func(t *testing.T, role string) (modReq, func() bool) {
			u := w.newMember(t)
			w.exec(t, `INSERT INTO mutes (group_id, user_id, until, reason, created_by) VALUES ($1, $2, now() + interval '1 day', 'Spam', $3)`, G, u.ID, w.moderator.ID)
			return modReq{"DELETE", p("/api/v1/groups/%d/mutes/%d", G, u.ID), nil},
				func() bool {
					return w.boolCol(t, `SELECT count(*) = 0 FROM mutes WHERE group_id = $1 AND user_id = $2 AND until > now()`, G, u.ID)
				}
		}},
		{"group settings", curate, func(t *testing.T, role string) (modReq, func() bool) {
			w.exec(t, `UPDATE groups SET moderators_only_threads = false WHERE id = $1`, G)
			t.Cleanup(func() { w.exec(t, `UPDATE groups SET moderators_only_threads = false WHERE id = $1`, G) })
			return modReq{"PATCH", p("/api/v1/groups/%d", G), map[string]any{"moderators_only_threads": true}},
				func() bool { return w.boolCol(t, `SELECT moderators_only_threads FROM groups WHERE id = $1`, G) }
		}},
		{"audit of G", curate, func(t *testing.T, role string) (modReq, func() bool) {
			return modReq{"GET", p("/api/v1/audit?group_id=%d", G), nil}, nil
		}},
	}

	for _, row := range rows {
		for i, role := range modRoles {
			want := row.want[i]
			t.Run(strings.ReplaceAll(row.action, " ", "_")+"/"+role, func(t *testing.T) {
				rq, effect := row.setup(t, role)
				r := w.as(role).JSON(rq.method, rq.path, rq.body)
				if r.Status != want {
					t.Fatalf("%s %s as %s = %d, want %d: %s", rq.method, rq.path, role, r.Status, want, trim(r.String()))
				}
				switch want {
				case forbidden:
					wantError(t, role, r, forbidden, "forbidden")
				case notFound:
					wantError(t, role, r, notFound, "not_found")
				}
				if effect != nil {
					if took := effect(); took != (want < 300) {
						t.Errorf("%s as %s answered %d but the change happened = %v", row.action, role, want, took)
					}
				}
			})
		}
	}

	// Visitors are asked to log in.
	anon := w.env.Anonymous()
	anonRows := []func() modReq{
		func() modReq { tid, _ := w.thread(1); return modReq{"POST", p("/api/v1/threads/%d/pin", tid), nil} },
		func() modReq {
			_, posts := w.thread(1)
			return modReq{"POST", p("/api/v1/posts/%d/flags", posts[0]), map[string]any{"reason": "Wpis obraża innych"}}
		},
		func() modReq { return modReq{"GET", p("/api/v1/groups/%d/flags", G), nil} },
		func() modReq {
			return modReq{"POST", p("/api/v1/groups/%d/mutes", G), map[string]any{"user_id": w.member.ID, "until": time.Now().Add(time.Hour), "reason": "Spam"}}
		},
		func() modReq { return modReq{"GET", p("/api/v1/audit?group_id=%d", G), nil} },
	}
	for _, mk := range anonRows {
		rq := mk()
		wantError(t, "anonymous "+rq.method+" "+rq.path, anon.JSON(rq.method, rq.path, rq.body), http.StatusUnauthorized, "unauthenticated")
	}
	if w.boolCol(t, `SELECT count(*) > 0 FROM mutes WHERE user_id = $1`, w.member.ID) {
		t.Error("an anonymous request muted a member")
	}
}

type permRow struct {
	action string
	want   [6]int // member, observer, modG, modH, staff, admin
	setup  func(t *testing.T, role string) (modReq, func() bool)
}

// --- 2. Thread curation -----------------------------------------------------

func TestPinLockHideThread(t *testing.T) {
	w := newModWorld(t)
	member, mod := w.as("member"), w.as("modG")
	older, _ := w.thread(1)
	newer, _ := w.thread(1)
	w.exec(t, `UPDATE threads SET last_activity_at = now() - interval '1 hour' WHERE id = $1`, older)

	order := func(c *testkit.Client) []int64 {
		var ids []int64
		for _, it := range listThreads(t, c, w.group.ID) {
			ids = append(ids, it.ID)
		}
		return ids
	}
	if got := order(member); fmt.Sprint(got) != fmt.Sprint([]int64{newer, older}) {
		t.Fatalf("order before pinning = %v", got)
	}
	r := mod.JSON("POST", p("/api/v1/threads/%d/pin", older), nil)
	wantStatus(t, "pin", r, http.StatusOK)
	var th modThread
	r.Decode(&th)
	if th.ID != older || !th.Pinned {
		t.Errorf("pin answered %+v", th)
	}
	if got := order(member); fmt.Sprint(got) != fmt.Sprint([]int64{older, newer}) {
		t.Errorf("order after pinning = %v, want the pinned thread first", got)
	}
	wantStatus(t, "unpin", mod.JSON("POST", p("/api/v1/threads/%d/unpin", older), nil), http.StatusOK)
	if got := order(member); fmt.Sprint(got) != fmt.Sprint([]int64{newer, older}) {
		t.Errorf("order after unpinning = %v", got)
	}

	// Lock: members may not reply, moderators may.
	r = mod.JSON("POST", p("/api/v1/threads/%d/lock", newer), map[string]any{"reason": "Temat wyczerpany"})
	wantStatus(t, "lock", r, http.StatusOK)
	r.Decode(&th)
	if !th.Locked {
		t.Errorf("lock answered %+v", th)
	}
	wantError(t, "member reply to a locked thread", member.JSON("POST", p("/api/v1/threads/%d/posts", newer), map[string]any{"body": "Jeszcze jedno"}), http.StatusForbidden, "thread_locked")
	reply(t, mod, newer, "Moderator dopisuje podsumowanie")
	wantStatus(t, "unlock", mod.JSON("POST", p("/api/v1/threads/%d/unlock", newer), nil), http.StatusOK)
	reply(t, member, newer, "Po odblokowaniu")

	// Hide: a reason is required; then members get 404 and do not see it listed.
	wantDetails(t, "hide without a reason", mod.JSON("POST", p("/api/v1/threads/%d/hide", newer), nil), "reason")
	wantDetails(t, "hide with a blank reason", mod.JSON("POST", p("/api/v1/threads/%d/hide", newer), map[string]any{"reason": "   "}), "reason")
	if threadHidden := w.boolCol(t, `SELECT hidden FROM threads WHERE id = $1`, newer); threadHidden {
		t.Fatal("a refused hide hid the thread")
	}
	r = mod.JSON("POST", p("/api/v1/threads/%d/hide", newer), map[string]any{"reason": "Poza tematem grupy"})
	wantStatus(t, "hide", r, http.StatusOK)
	r.Decode(&th)
	if !th.Hidden {
		t.Errorf("hide answered %+v", th)
	}
	wantError(t, "member reads a hidden thread", member.Get(p("/api/v1/threads/%d", newer)), http.StatusNotFound, "not_found")
	if r := member.Get(p("/t/%d", newer)); r.Status != http.StatusNotFound {
		t.Errorf("member's page of a hidden thread = %d, want 404", r.Status)
	}
	wantError(t, "member replies to a hidden thread", member.JSON("POST", p("/api/v1/threads/%d/posts", newer), map[string]any{"body": "x"}), http.StatusNotFound, "not_found")
	if findThread(listThreads(t, member, w.group.ID), newer) != nil {
		t.Error("hidden thread listed for a member")
	}
	if it := findThread(listThreads(t, mod, w.group.ID), newer); it == nil || !it.Hidden {
		t.Errorf("hidden thread not listed (as hidden) for its moderator: %+v", it)
	}
	if getThread(t, mod, newer).ID != newer {
		t.Error("moderator cannot read the hidden thread")
	}
	wantStatus(t, "unhide", mod.JSON("POST", p("/api/v1/threads/%d/unhide", newer), nil), http.StatusOK)
	if getThread(t, member, newer).Hidden {
		t.Error("thread still hidden after unhide")
	}
	wantError(t, "unknown action", mod.JSON("POST", p("/api/v1/threads/%d/explode", newer), nil), http.StatusNotFound, "not_found")
	wantError(t, "pin an unknown thread", mod.JSON("POST", "/api/v1/threads/999999999/pin", nil), http.StatusNotFound, "not_found")
}

func TestRenameAndAreas(t *testing.T) {
	w := newModWorld(t)
	mod, member := w.as("modG"), w.as("member")
	th := createThread(t, member, w.group.ID, "Stary tytuł", "Treść", 1)

	r := mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), map[string]any{"title": "  Nowy   tytuł  wątku ", "areas": []int64{4, 2, 4}, "reason": "Dokładniejszy tytuł"})
	wantStatus(t, "rename", r, http.StatusOK)
	check := func(what string, got modThread) {
		t.Helper()
		var areas []int64
		for _, a := range got.Areas {
			areas = append(areas, a.ID)
		}
		if got.Title != "Nowy tytuł wątku" || len(areas) != 2 || !(areas[0] == 2 && areas[1] == 4 || areas[0] == 4 && areas[1] == 2) {
			t.Errorf("%s: title %q, areas %v", what, got.Title, areas)
		}
	}
	var got modThread
	r.Decode(&got)
	check("PATCH answer", got)
	check("member's view", getThread(t, member, th.ID).modThread)
	if r := member.Get(p("/t/%d", th.ID)); !strings.Contains(r.String(), "Nowy tytuł wątku") {
		t.Error("thread page lacks the new title")
	}
	// Clearing the areas.
	r = mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), map[string]any{"areas": []int64{}})
	wantStatus(t, "clear areas", r, http.StatusOK)
	if got := getThread(t, member, th.ID); len(got.Areas) != 0 || got.Title != "Nowy tytuł wątku" {
		t.Errorf("after clearing areas: %+v", got.modThread)
	}

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"short title", map[string]any{"title": "ab"}, "title"},
		{"four areas", map[string]any{"areas": []int64{1, 2, 3, 4}}, "areas"},
		{"unknown area", map[string]any{"areas": []int64{999999}}, "areas"},
		{"negative slow mode", map[string]any{"slow_mode_minutes": -1}, "slow_mode_minutes"},
		{"day-long slow mode", map[string]any{"slow_mode_minutes": 1441}, "slow_mode_minutes"},
		{"short reason", map[string]any{"title": "Dobry tytuł", "reason": "x"}, "reason"},
	} {
		wantDetails(t, tc.name, mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), tc.body), tc.field)
	}
	if got := getThread(t, member, th.ID); got.Title != "Nowy tytuł wątku" || len(got.Areas) != 0 {
		t.Errorf("refused edits changed the thread: %+v", got.modThread)
	}
	if r := mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), map[string]any{"title": "x", "colour": "red"}); r.Status != http.StatusBadRequest {
		t.Errorf("unknown field = %d, want 400", r.Status)
	}
}

func TestMoveThread(t *testing.T) {
	w := newModWorld(t)
	mod, staff := w.as("modG"), w.as("staff")
	// Members of the destination only, and a moderator of the source only (who
	// reads the destination as a member there, or not at all).
	destMember := w.env.NewUser(model.RoleMember)
	w.env.AddMember(destMember.ID, w.dest.ID, model.GroupMember)
	srcOnly := w.env.NewUser(model.RoleMember)
	w.env.AddMember(srcOnly.ID, w.group.ID, model.GroupModerator)
	w.env.AddMember(srcOnly.ID, w.dest.ID, model.GroupMember)
	srcOnlyNoRead := w.env.NewUser(model.RoleMember)
	w.env.AddMember(srcOnlyNoRead.ID, w.group.ID, model.GroupModerator)
	dm := w.env.Login(destMember)

	tid, _ := w.thread(2)
	for _, c := range []*testkit.Client{w.env.Login(srcOnly), w.env.Login(srcOnlyNoRead)} {
		wantDetails(t, "move by a moderator of the source only", c.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": w.dest.ID}), "group_id")
	}
	wantDetails(t, "move to the same group", mod.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": w.group.ID}), "group_id")
	wantDetails(t, "move to no group", mod.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": 999999999}), "group_id")
	// A group the moderator cannot read is "unknown" like a missing one.
	wantDetails(t, "move to an unreadable group", mod.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": w.other.ID}), "group_id")
	if getThread(t, w.as("member"), tid).GroupID != w.group.ID {
		t.Fatal("a refused move moved the thread")
	}

	r := mod.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": w.dest.ID, "reason": "Temat powiatowy"})
	wantStatus(t, "move by a moderator of both groups", r, http.StatusOK)
	var th modThread
	r.Decode(&th)
	if th.GroupID != w.dest.ID || th.PostCount != 2 {
		t.Errorf("move answered %+v", th)
	}
	wantError(t, "old group's member reads the moved thread", w.as("member").Get(p("/api/v1/threads/%d", tid)), http.StatusNotFound, "not_found")
	if r := w.as("member").Get(p("/t/%d", tid)); r.Status != http.StatusNotFound {
		t.Errorf("old group's member thread page = %d, want 404", r.Status)
	}
	if got := getThread(t, dm, tid); got.GroupID != w.dest.ID || len(got.Posts.Items) != 2 {
		t.Errorf("new group's member sees %+v", got.modThread)
	}
	if findThread(listThreads(t, dm, w.dest.ID), tid) == nil || findThread(listThreads(t, w.as("member"), w.group.ID), tid) != nil {
		t.Error("the thread is not listed in its new group only")
	}
	reply(t, dm, tid, "Odpowiedź w nowej grupie")

	// Staff move anywhere, e.g. on into H.
	wantStatus(t, "move by staff", staff.JSON("POST", p("/api/v1/threads/%d/move", tid), map[string]any{"group_id": w.other.ID}), http.StatusOK)
	wantError(t, "M's member after the second move", dm.Get(p("/api/v1/threads/%d", tid)), http.StatusNotFound, "not_found")
	if getThread(t, w.as("modH"), tid).GroupID != w.other.ID {
		t.Error("H's moderator does not see the thread moved into H")
	}
}

func TestMergeThreads(t *testing.T) {
	w := newModWorld(t)
	mod := w.as("modG")
	dst, dstPosts := w.thread(3)
	src, srcPosts := w.thread(3)
	// Interleaved times: dst at 10, 30, 50 s, src at 20, 40, 60 s.
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i := 0; i < 3; i++ {
		w.exec(t, `UPDATE posts SET created_at = $2, body = $3, body_html = '<p>' || $3 || '</p>' WHERE id = $1`, dstPosts[i], base.Add(time.Duration(10+20*i)*time.Second), p("Cel %d", i+1))
		w.exec(t, `UPDATE posts SET created_at = $2, body = $3, body_html = '<p>' || $3 || '</p>' WHERE id = $1`, srcPosts[i], base.Add(time.Duration(20+20*i)*time.Second), p("Źródło %d", i+1))
	}
	w.exec(t, `UPDATE threads SET pinned = true WHERE id = $1`, src)

	// Readers: everything of both, only the target, only the source, the first post of each.
	readers := map[string]*testkit.Client{}
	marks := map[string][][2]int64{
		"all":     {{dst, dstPosts[2]}, {src, srcPosts[2]}},
		"dst":     {{dst, dstPosts[2]}},
		"src":     {{src, srcPosts[2]}},
		"partial": {{dst, dstPosts[0]}, {src, srcPosts[0]}},
	}
	for name, ms := range marks {
		c := w.env.Login(w.newMember(t))
		readers[name] = c
		for _, m := range ms {
			wantStatus(t, "mark read", c.JSON("POST", p("/api/v1/threads/%d/read", m[0]), map[string]any{"post_id": m[1]}), http.StatusNoContent)
		}
	}

	wantDetails(t, "merge into itself", mod.JSON("POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": src}), "into_thread_id")
	wantDetails(t, "merge into nothing", mod.JSON("POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": 999999999}), "into_thread_id")
	otherThread, _ := w.env.NewThread(w.other.ID, w.outsider.ID, 1)
	wantDetails(t, "merge into another group's thread", mod.JSON("POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": otherThread}), "into_thread_id")

	r := mod.JSON("POST", p("/api/v1/threads/%d/merge", src), map[string]any{"into_thread_id": dst, "reason": "Ten sam temat"})
	wantStatus(t, "merge", r, http.StatusOK)
	var th modThread
	r.Decode(&th)
	if th.ID != dst || th.PostCount != 6 {
		t.Errorf("merge answered %+v", th)
	}

	got := getThread(t, w.as("member"), dst)
	ids, positions := postIDs(got.Posts.Items)
	want := []int64{dstPosts[0], srcPosts[0], dstPosts[1], srcPosts[1], dstPosts[2], srcPosts[2]}
	if fmt.Sprint(ids) != fmt.Sprint(want) || fmt.Sprint(positions) != fmt.Sprint(seq(6)) || got.PostCount != 6 {
		t.Errorf("merged posts %v at %v (count %d), want %v at 1..6", ids, positions, got.PostCount, want)
	}
	for _, it := range got.Posts.Items {
		if it.ThreadID != dst {
			t.Errorf("post %d says thread %d", it.ID, it.ThreadID)
		}
	}
	var n int
	w.get(t, &n, `SELECT count(*) FROM posts WHERE thread_id = $1`, src)
	if n != 0 {
		t.Errorf("%d posts left in the merged thread", n)
	}

	// The old addresses lead to the target.
	member := w.as("member")
	r = member.Get(p("/t/%d", src))
	if r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != p("/t/%d", dst) {
		t.Errorf("GET /t/old = %d → %q, want 301 → /t/%d", r.Status, r.Header.Get("Location"), dst)
	}
	r = member.Get(p("/api/v1/threads/%d", src))
	if r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != p("/api/v1/threads/%d", dst) {
		t.Errorf("GET /api/v1/threads/old = %d → %q, want 301 → /api/v1/threads/%d", r.Status, r.Header.Get("Location"), dst)
	}
	// A post's permalink finds its new place.
	r = member.Get(p("/p/%d", srcPosts[2]))
	if r.Status != http.StatusFound || r.Header.Get("Location") != p("/t/%d#p%d", dst, srcPosts[2]) {
		t.Errorf("permalink of a merged post → %d %q", r.Status, r.Header.Get("Location"))
	}
	// The stub is neither listed nor writable nor curatable.
	if findThread(listThreads(t, member, w.group.ID), src) != nil {
		t.Error("merged thread still listed")
	}
	// A reply sent to the old address is not stored there: it is sent to the target.
	if r := member.JSON("POST", p("/api/v1/threads/%d/posts", src), map[string]any{"body": "Do starego wątku"}); r.Status != http.StatusMovedPermanently ||
		r.Header.Get("Location") != p("/api/v1/threads/%d", dst) {
		t.Errorf("reply to the merged thread = %d → %q, want 301 → the target", r.Status, r.Header.Get("Location"))
	}
	w.get(t, &n, `SELECT count(*) FROM posts WHERE thread_id = $1`, src)
	if n != 0 {
		t.Errorf("%d posts written into the merged thread", n)
	}
	wantError(t, "pin the merged thread", mod.JSON("POST", p("/api/v1/threads/%d/pin", src), nil), http.StatusNotFound, "not_found")
	wantDetails(t, "merge into the merged thread", mod.JSON("POST", p("/api/v1/threads/%d/merge", dst), map[string]any{"into_thread_id": src}), "into_thread_id")

	// Read positions: nothing read is lost, nothing unread is skipped.
	unread := map[string]int{"all": 0, "dst": 5, "src": 6, "partial": 4}
	for name, c := range readers {
		it := findThread(listThreads(t, c, w.group.ID), dst)
		if it == nil {
			t.Fatalf("reader %s does not see the target", name)
		}
		if it.Unread != unread[name] {
			t.Errorf("reader who read %s: %d unread after the merge, want %d", name, it.Unread, unread[name])
		}
	}
	// The one who read only the target starts at the first post of the source.
	page := readers["dst"].Get(p("/t/%d", dst)).String()
	if a, s1, d1 := strings.Index(page, `id="unread"`), strings.Index(page, "Źródło 1"), strings.Index(page, "Cel 1"); a < 0 || !(d1 < a && a < s1) {
		t.Errorf("unread marker at %d, want between Cel 1 (%d) and Źródło 1 (%d)", a, d1, s1)
	}
}

func TestSplitThread(t *testing.T) {
	w := newModWorld(t)
	mod := w.as("modG")
	tid, posts := w.thread(6)
	// Replies: p4 → p3 and p6 → p4 cross the split; p5 → p2 stays inside the new thread.
	w.exec(t, `UPDATE posts SET reply_to = $2 WHERE id = $1`, posts[3], posts[2])
	w.exec(t, `UPDATE posts SET reply_to = $2 WHERE id = $1`, posts[5], posts[3])
	w.exec(t, `UPDATE posts SET reply_to = $2 WHERE id = $1`, posts[4], posts[1])
	reader := w.env.Login(w.newMember(t))
	wantStatus(t, "mark read", reader.JSON("POST", p("/api/v1/threads/%d/read", tid), map[string]any{"post_id": posts[2]}), http.StatusNoContent)

	other, otherPosts := w.thread(2)
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"a post of another thread", map[string]any{"post_ids": []int64{posts[1], otherPosts[0]}, "title": "Wydzielone"}, "post_ids"},
		{"every post", map[string]any{"post_ids": posts, "title": "Wydzielone"}, "post_ids"},
		{"no post", map[string]any{"post_ids": []int64{}, "title": "Wydzielone"}, "post_ids"},
		{"no title", map[string]any{"post_ids": []int64{posts[1]}}, "title"},
	} {
		wantDetails(t, "split "+tc.name, mod.JSON("POST", p("/api/v1/threads/%d/split", tid), tc.body), tc.field)
	}
	if got := getThread(t, mod, tid); got.PostCount != 6 {
		t.Fatalf("refused splits changed the thread: %d posts", got.PostCount)
	}
	if got := getThread(t, mod, other); got.PostCount != 2 {
		t.Fatalf("refused split changed the other thread: %d posts", got.PostCount)
	}

	r := mod.JSON("POST", p("/api/v1/threads/%d/split", tid), map[string]any{"post_ids": []int64{posts[4], posts[1], posts[3], posts[1]}, "title": "  Wątek   wydzielony ", "reason": "Osobny temat"})
	wantStatus(t, "split", r, http.StatusCreated)
	var nt modThread
	r.Decode(&nt)
	if nt.ID == 0 || nt.ID == tid || nt.GroupID != w.group.ID || nt.Title != "Wątek wydzielony" || nt.PostCount != 3 {
		t.Fatalf("split answered %+v", nt)
	}

	member := w.as("member")
	newT, oldT := getThread(t, member, nt.ID), getThread(t, member, tid)
	ids, pos := postIDs(newT.Posts.Items)
	if fmt.Sprint(ids) != fmt.Sprint([]int64{posts[1], posts[3], posts[4]}) || fmt.Sprint(pos) != fmt.Sprint(seq(3)) || newT.PostCount != 3 {
		t.Errorf("new thread holds %v at %v (count %d)", ids, pos, newT.PostCount)
	}
	ids, pos = postIDs(oldT.Posts.Items)
	if fmt.Sprint(ids) != fmt.Sprint([]int64{posts[0], posts[2], posts[5]}) || fmt.Sprint(pos) != fmt.Sprint(seq(3)) || oldT.PostCount != 3 {
		t.Errorf("old thread holds %v at %v (count %d)", ids, pos, oldT.PostCount)
	}
	byID := map[int64]modPost{}
	for _, it := range append(newT.Posts.Items, oldT.Posts.Items...) {
		byID[it.ID] = it
	}
	if rt := byID[posts[3]].ReplyTo; rt != nil {
		t.Errorf("moved post still replies to %d in the old thread", *rt)
	}
	if rt := byID[posts[5]].ReplyTo; rt != nil {
		t.Errorf("remaining post still replies to %d in the new thread", *rt)
	}
	if rt := byID[posts[4]].ReplyTo; rt == nil || *rt != posts[1] {
		t.Errorf("reply within the new thread lost: %v", rt)
	}
	// The reader had read up to the third post (p1, p2, p3): p2 in the new
	// thread, p1 and p3 in the old one.
	list := listThreads(t, reader, w.group.ID)
	if it := findThread(list, nt.ID); it == nil || it.Unread != 2 {
		t.Errorf("new thread for the reader: %+v, want 2 unread", it)
	}
	if it := findThread(list, tid); it == nil || it.Unread != 1 {
		t.Errorf("old thread for the reader: %+v, want 1 unread", it)
	}
	// Posts are still addressable and repliable in their new thread.
	if r := member.Get(p("/p/%d", posts[4])); r.Header.Get("Location") != p("/t/%d#p%d", nt.ID, posts[4]) {
		t.Errorf("permalink of a moved post → %q", r.Header.Get("Location"))
	}
	reply(t, member, nt.ID, "Kontynuacja w nowym wątku")
	if got := getThread(t, member, nt.ID); got.PostCount != 4 || got.Posts.Items[3].Position != 4 {
		t.Errorf("reply after the split: count %d", got.PostCount)
	}
}

// --- 3. Post curation -------------------------------------------------------

func TestHidePostWithReason(t *testing.T) {
	w := newModWorld(t)
	author, mod, reader := w.as("member"), w.as("modG"), w.as("observer")
	th := createThread(t, mod, w.group.ID, "Wątek z ukrytym wpisem", "Otwarcie")
	post := reply(t, author, th.ID, "Numer PESEL 12345678901 sąsiada")
	const why = "Dane osobowe w treści"

	wantDetails(t, "hide without a reason", mod.JSON("POST", p("/api/v1/posts/%d/hide", post.ID), map[string]any{}), "reason")
	wantDetails(t, "hide with an empty body", mod.JSON("POST", p("/api/v1/posts/%d/hide", post.ID), nil), "reason")
	if getPost(t, reader, post.ID).Hidden {
		t.Fatal("a refused hide hid the post")
	}
	r := mod.JSON("POST", p("/api/v1/posts/%d/hide", post.ID), map[string]any{"reason": why})
	wantStatus(t, "hide post", r, http.StatusOK)
	var got modPost
	r.Decode(&got)
	if !got.Hidden || got.Body == "" {
		t.Errorf("hide answered the moderator %+v", got)
	}

	// Readers: a tombstone without the text (nor the reason).
	if rp := getPost(t, reader, post.ID); !rp.Hidden || rp.Body != "" || rp.BodyHTML != "" {
		t.Errorf("reader sees %+v", rp)
	}
	page := reader.Get(p("/t/%d", th.ID)).String()
	if strings.Contains(page, "12345678901") || strings.Contains(page, why) || !strings.Contains(page, "Ten wpis został ukryty przez moderatora.") {
		t.Errorf("reader's page: text shown %v, reason shown %v, tombstone %v", strings.Contains(page, "12345678901"), strings.Contains(page, why),
			strings.Contains(page, "Ten wpis został ukryty przez moderatora."))
	}
	// The author: no text, but the reason.
	if ap := getPost(t, author, post.ID); ap.Body != "" || !ap.Hidden {
		t.Errorf("author's API view %+v", ap)
	}
	page = author.Get(p("/t/%d", th.ID)).String()
	if !strings.Contains(page, "Powód: "+why) || strings.Contains(page, "12345678901") {
		t.Errorf("author's page: reason shown %v, text shown %v", strings.Contains(page, "Powód: "+why), strings.Contains(page, "12345678901"))
	}
	// Moderators: the text and the reason.
	if mp := getPost(t, mod, post.ID); mp.Body != "Numer PESEL 12345678901 sąsiada" {
		t.Errorf("moderator's API view %+v", mp)
	}
	if page := mod.Get(p("/t/%d", th.ID)).String(); !contains(page, "12345678901", "Powód: "+why) {
		t.Error("moderator's page lacks the text or the reason")
	}

	wantStatus(t, "unhide post", mod.JSON("POST", p("/api/v1/posts/%d/unhide", post.ID), nil), http.StatusOK)
	if rp := getPost(t, reader, post.ID); rp.Hidden || rp.Body != "Numer PESEL 12345678901 sąsiada" {
		t.Errorf("after unhide the reader sees %+v", rp)
	}
	if page := author.Get(p("/t/%d", th.ID)).String(); strings.Contains(page, why) {
		t.Error("the reason stays on the page after unhide")
	}
	wantError(t, "hide an unknown post", mod.JSON("POST", "/api/v1/posts/999999999/hide", map[string]any{"reason": why}), http.StatusNotFound, "not_found")
}

func TestModeratorEditCreatesRevision(t *testing.T) {
	w := newModWorld(t)
	author, mod := w.as("member"), w.as("modG")
	th := createThread(t, author, w.group.ID, "Do poprawy", "Tekst z błędem")
	path := p("/api/v1/posts/%d", th.FirstPost.ID)

	wantError(t, "another member edits", w.as("observer").JSON("PATCH", path, map[string]any{"body": "x", "version": 1}), http.StatusForbidden, "forbidden")
	wantError(t, "another group's moderator edits", w.as("modH").JSON("PATCH", path, map[string]any{"body": "x", "version": 1}), http.StatusNotFound, "not_found")
	r := mod.JSON("PATCH", path, map[string]any{"body": "Tekst poprawiony przez moderatora", "version": 1})
	wantStatus(t, "moderator edit", r, http.StatusOK)
	var revs struct {
		Items []struct {
			Version  int    `json:"version"`
			Body     string `json:"body"`
			EditorID int64  `json:"editor_id"`
		}
	}
	r = author.Get(path + "/revisions")
	wantStatus(t, "revisions", r, http.StatusOK)
	r.Decode(&revs)
	if len(revs.Items) != 2 || revs.Items[0].Version != 2 || revs.Items[0].EditorID != w.moderator.ID || revs.Items[0].Body != "Tekst poprawiony przez moderatora" ||
		revs.Items[1].EditorID != w.member.ID || revs.Items[1].Body != "Tekst z błędem" {
		t.Errorf("revisions = %+v", revs.Items)
	}
	if rp := getPost(t, w.as("observer"), th.FirstPost.ID); rp.Body != "Tekst poprawiony przez moderatora" || rp.Author.ID != w.member.ID {
		t.Errorf("edited post = %+v (the author must stay the member)", rp)
	}
}

// --- 4. Reports ------------------------------------------------------------

type flagJSON struct {
	ID             int64  `json:"id"`
	PostID         int64  `json:"post_id"`
	GroupID        int64  `json:"group_id"`
	ReporterID     int64  `json:"reporter_id"`
	Reason         string `json:"reason"`
	State          string `json:"state"`
	ResolutionNote string `json:"resolution_note"`
	ResolvedBy     *int64 `json:"resolved_by"`
}

func report(t *testing.T, c *testkit.Client, postID int64, reason string) flagJSON {
	t.Helper()
	r := c.JSON("POST", p("/api/v1/posts/%d/flags", postID), map[string]any{"reason": reason})
	wantStatus(t, "report", r, http.StatusCreated)
	var f flagJSON
	r.Decode(&f)
	if f.ID == 0 || f.PostID != postID || f.State != "open" {
		t.Errorf("report answered %s", r.Body)
	}
	return f
}

func openFlags(t *testing.T, c *testkit.Client, groupID int64) []flagJSON {
	t.Helper()
	r := c.Get(p("/api/v1/groups/%d/flags?state=open", groupID))
	wantStatus(t, "flag queue", r, http.StatusOK)
	var out struct{ Items []flagJSON }
	r.Decode(&out)
	return out.Items
}

// badge is the text of the open-report badge beside the report queue link on
// a group page, or "".
func badge(page string, groupID int64) string {
	i := strings.Index(page, p(`href="/g/%d/flags"`, groupID))
	if i < 0 {
		return ""
	}
	item := page[i:]
	if j := strings.Index(item, "</li>"); j >= 0 {
		item = item[:j]
	}
	const open = `<span class="badge warn">`
	k := strings.Index(item, open)
	if k < 0 {
		return ""
	}
	item = item[k+len(open):]
	if j := strings.Index(item, "</span>"); j >= 0 {
		item = item[:j]
	}
	return item
}

func TestReports(t *testing.T) {
	w := newModWorld(t)
	mod, author := w.as("modG"), w.as("member")
	th := createThread(t, mod, w.group.ID, "Wątek ze zgłoszeniami", "Otwarcie")
	post := reply(t, author, th.ID, "Wpis do zgłoszenia")
	r1, r2, r3, bystander := w.newMember(t), w.newMember(t), w.newMember(t), w.env.Login(w.newMember(t))
	c1, c2, c3 := w.env.Login(r1), w.env.Login(r2), w.env.Login(r3)

	if b := badge(mod.Get(p("/g/%d", w.group.ID)).String(), w.group.ID); b != "" {
		t.Errorf("badge with no reports: %q", b)
	}
	// Validation and uniqueness.
	wantDetails(t, "report of one's own post", author.JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{"reason": "Mój własny wpis"}), "post_id")
	wantDetails(t, "report without a reason", c1.JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{}), "reason")
	wantDetails(t, "report with a short reason", c1.JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{"reason": "zł"}), "reason")
	wantError(t, "report of an unknown post", c1.JSON("POST", "/api/v1/posts/999999999/flags", map[string]any{"reason": "Spam reklamowy"}), http.StatusNotFound, "not_found")
	wantError(t, "report by an outsider", w.as("outsider").JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{"reason": "Spam reklamowy"}), http.StatusNotFound, "not_found")
	f1 := report(t, c1, post.ID, "Spam reklamowy")
	wantError(t, "second report by the same member", c1.JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{"reason": "Jeszcze raz"}), http.StatusConflict, "already_reported")
	f2 := report(t, c2, post.ID, "Wprowadza w błąd")
	if gp := getPost(t, bystander, post.ID); gp.Hidden || gp.Body != "Wpis do zgłoszenia" {
		t.Fatalf("two reports (threshold 3) hid the post: %+v", gp)
	}
	f3 := report(t, c3, post.ID, "Obraźliwy ton")

	// Three distinct reports hide the post pending review.
	if gp := getPost(t, bystander, post.ID); !gp.Hidden || gp.Body != "" {
		t.Errorf("after three reports the bystander sees %+v", gp)
	}
	if gp := getPost(t, mod, post.ID); !gp.Hidden || gp.Body != "Wpis do zgłoszenia" {
		t.Errorf("after three reports the moderator sees %+v", gp)
	}
	if page := author.Get(p("/t/%d", th.ID)).String(); !strings.Contains(page, "Ukryty automatycznie po zgłoszeniach") {
		t.Error("the author is not told why the post is hidden")
	}
	wantError(t, "report of a hidden post by a member", bystander.JSON("POST", p("/api/v1/posts/%d/flags", post.ID), map[string]any{"reason": "Spam reklamowy"}), http.StatusNotFound, "not_found")

	// The queue and the badge.
	q := openFlags(t, mod, w.group.ID)
	got := map[int64]flagJSON{}
	for _, f := range q {
		got[f.ID] = f
	}
	if len(q) != 3 || got[f1.ID].Reason != "Spam reklamowy" || got[f2.ID].ReporterID != r2.ID || got[f3.ID].PostID != post.ID || got[f3.ID].GroupID != w.group.ID {
		t.Errorf("queue = %+v", q)
	}
	if b := badge(mod.Get(p("/g/%d", w.group.ID)).String(), w.group.ID); !strings.Contains(b, "3") {
		t.Errorf("moderator's group page badge = %q, want the open count 3", b)
	}
	if b := badge(author.Get(p("/g/%d", w.group.ID)).String(), w.group.ID); b != "" {
		t.Errorf("member's group page shows a report badge %q", b)
	}
	wantDetails(t, "queue with an unknown state", mod.Get(p("/api/v1/groups/%d/flags?state=maybe", w.group.ID)), "state")

	// Closing: with a note, once.
	r := mod.JSON("POST", p("/api/v1/flags/%d/dismiss", f1.ID), map[string]any{"note": "Nie spam, tylko link do programu"})
	wantStatus(t, "dismiss", r, http.StatusOK)
	var closed flagJSON
	r.Decode(&closed)
	if closed.State != "dismissed" || closed.ResolutionNote != "Nie spam, tylko link do programu" || closed.ResolvedBy == nil || *closed.ResolvedBy != w.moderator.ID {
		t.Errorf("dismiss answered %s", r.Body)
	}
	wantError(t, "dismiss twice", mod.JSON("POST", p("/api/v1/flags/%d/dismiss", f1.ID), map[string]any{"note": "znowu"}), http.StatusConflict, "already_closed")
	wantError(t, "resolve a dismissed report", mod.JSON("POST", p("/api/v1/flags/%d/resolve", f1.ID), nil), http.StatusConflict, "already_closed")
	wantError(t, "close an unknown report", mod.JSON("POST", "/api/v1/flags/999999999/resolve", nil), http.StatusNotFound, "not_found")
	if gp := getPost(t, bystander, post.ID); !gp.Hidden {
		t.Error("dismissing one of three reports showed the post")
	}
	wantStatus(t, "dismiss 2", mod.JSON("POST", p("/api/v1/flags/%d/dismiss", f2.ID), map[string]any{"note": "Bez naruszenia"}), http.StatusOK)
	if gp := getPost(t, bystander, post.ID); !gp.Hidden {
		t.Error("dismissing two of three reports showed the post")
	}
	wantStatus(t, "dismiss 3", mod.JSON("POST", p("/api/v1/flags/%d/dismiss", f3.ID), nil), http.StatusOK)
	if gp := getPost(t, bystander, post.ID); gp.Hidden || gp.Body != "Wpis do zgłoszenia" {
		t.Errorf("dismissing every report did not show the post again: %+v", gp)
	}
	if q := openFlags(t, mod, w.group.ID); len(q) != 0 {
		t.Errorf("queue after closing everything: %+v", q)
	}
	if b := badge(mod.Get(p("/g/%d", w.group.ID)).String(), w.group.ID); b != "" {
		t.Errorf("badge with no open reports: %q", b)
	}
	var all struct{ Items []flagJSON }
	mod.Get(p("/api/v1/groups/%d/flags?state=dismissed", w.group.ID)).Decode(&all)
	if len(all.Items) != 3 {
		t.Errorf("dismissed reports listed: %d, want 3", len(all.Items))
	}

	// Resolving (the report was right) keeps an auto-hidden post hidden, even
	// when the remaining reports are then dismissed.
	post2 := reply(t, author, th.ID, "Drugi wpis do zgłoszenia")
	g1 := report(t, c1, post2.ID, "Spam reklamowy")
	g2 := report(t, c2, post2.ID, "Spam reklamowy")
	g3 := report(t, c3, post2.ID, "Spam reklamowy")
	r = mod.JSON("POST", p("/api/v1/flags/%d/resolve", g1.ID), map[string]any{"note": "Usunięto reklamę"})
	wantStatus(t, "resolve", r, http.StatusOK)
	r.Decode(&closed)
	if closed.State != "resolved" || closed.ResolutionNote != "Usunięto reklamę" {
		t.Errorf("resolve answered %s", r.Body)
	}
	wantError(t, "resolve twice", mod.JSON("POST", p("/api/v1/flags/%d/resolve", g1.ID), nil), http.StatusConflict, "already_closed")
	for _, f := range []flagJSON{g2, g3} {
		wantStatus(t, "dismiss the rest", mod.JSON("POST", p("/api/v1/flags/%d/dismiss", f.ID), nil), http.StatusOK)
	}
	if gp := getPost(t, bystander, post2.ID); !gp.Hidden {
		t.Error("a post whose report was upheld came back when the other reports were dismissed")
	}
}

func TestReportThresholdIsConfigurable(t *testing.T) {
	w := newModWorld(t, func(c *config.Config) { c.FlagHideThreshold = 2 })
	th := createThread(t, w.as("modG"), w.group.ID, "Niższy próg", "Otwarcie")
	post := reply(t, w.as("member"), th.ID, "Wpis")
	report(t, w.env.Login(w.newMember(t)), post.ID, "Pierwsze zgłoszenie")
	if getPost(t, w.as("staff"), post.ID).Hidden {
		t.Fatal("one report hid the post with threshold 2")
	}
	report(t, w.env.Login(w.newMember(t)), post.ID, "Drugie zgłoszenie")
	if gp := getPost(t, w.as("observer"), post.ID); !gp.Hidden || gp.Body != "" {
		t.Errorf("two reports with threshold 2: %+v", gp)
	}
}

// --- 5. Pace and scope -----------------------------------------------------

func TestSlowMode(t *testing.T) {
	w := newModWorld(t)
	mod, member := w.as("modG"), w.as("member")
	th := createThread(t, mod, w.group.ID, "Gorąca dyskusja", "Otwarcie")

	r := mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), map[string]any{"slow_mode_minutes": 5, "reason": "Ochłonąć"})
	wantStatus(t, "slow mode on", r, http.StatusOK)
	var got modThread
	r.Decode(&got)
	if got.SlowModeSeconds != 300 {
		t.Errorf("slow mode answered %+v", got)
	}
	reply(t, member, th.ID, "Pierwsza odpowiedź")
	r = member.JSON("POST", p("/api/v1/threads/%d/posts", th.ID), map[string]any{"body": "Druga zaraz po pierwszej"})
	wantError(t, "second reply within the window", r, http.StatusTooManyRequests, "rate_limited")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 300 {
		t.Errorf("Retry-After = %q, want 1..300 seconds", r.Header.Get("Retry-After"))
	}
	// Per member and per thread: another member, another thread, a moderator are unaffected.
	reply(t, w.env.Login(w.newMember(t)), th.ID, "Inny członek")
	other := createThread(t, mod, w.group.ID, "Spokojny wątek", "Otwarcie")
	reply(t, member, other.ID, "W innym wątku")
	reply(t, mod, th.ID, "Moderator 1")
	reply(t, mod, th.ID, "Moderator 2")

	wantStatus(t, "slow mode off", mod.JSON("PATCH", p("/api/v1/threads/%d", th.ID), map[string]any{"slow_mode_minutes": 0}), http.StatusOK)
	reply(t, member, th.ID, "Już można")
}

func TestModeratorsOnlyThreads(t *testing.T) {
	w := newModWorld(t)
	mod, member := w.as("modG"), w.as("member")
	r := mod.JSON("PATCH", p("/api/v1/groups/%d", w.group.ID), map[string]any{"moderators_only_threads": true})
	wantStatus(t, "setting on", r, http.StatusOK)
	var g accounts.GroupView
	r.Decode(&g)
	if g.ID != w.group.ID || !g.ModeratorsOnlyThreads {
		t.Errorf("setting answered %s", r.Body)
	}
	wantError(t, "member opens a thread", member.JSON("POST", p("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Nowy temat", "body": "x"}), http.StatusForbidden, "moderators_only")
	wantError(t, "observer opens a thread", w.as("observer").JSON("POST", p("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Nowy temat", "body": "x"}), http.StatusForbidden, "forbidden")
	th := createThread(t, mod, w.group.ID, "Ogłoszenie moderatora", "Treść")
	createThread(t, w.as("staff"), w.group.ID, "Ogłoszenie zespołu", "Treść")
	reply(t, member, th.ID, "Członek odpowiada")
	if page := member.Get(p("/g/%d", w.group.ID)).String(); strings.Contains(page, p(`href="/g/%d/new"`, w.group.ID)) {
		t.Error("member is offered to open a thread")
	}
	if page := mod.Get(p("/g/%d", w.group.ID)).String(); !strings.Contains(page, p(`href="/g/%d/new"`, w.group.ID)) {
		t.Error("moderator is not offered to open a thread")
	}
	// Other groups are unaffected.
	createThread(t, member, w.common.ID, "W grupie ogólnej", "x")

	wantStatus(t, "setting off", mod.JSON("PATCH", p("/api/v1/groups/%d", w.group.ID), map[string]any{"moderators_only_threads": false}), http.StatusOK)
	createThread(t, member, w.group.ID, "Znowu można", "x")
}

// --- 6. Sanctions ------------------------------------------------------------

func TestMutes(t *testing.T) {
	w := newModWorld(t)
	mod, member := w.as("modG"), w.as("member")
	th := createThread(t, mod, w.group.ID, "Wątek", "Otwarcie")
	common := createThread(t, mod, w.common.ID, "Wątek ogólny", "Otwarcie")
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	const why = "Powtarzające się reklamy"
	mutePath := p("/api/v1/groups/%d/mutes", w.group.ID)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"until in the past", map[string]any{"user_id": w.member.ID, "until": time.Now().Add(-time.Minute), "reason": why}, "until"},
		{"no until", map[string]any{"user_id": w.member.ID, "reason": why}, "until"},
		{"more than a year", map[string]any{"user_id": w.member.ID, "until": time.Now().AddDate(1, 1, 0), "reason": why}, "until"},
		{"no reason", map[string]any{"user_id": w.member.ID, "until": until}, "reason"},
		{"oneself", map[string]any{"user_id": w.moderator.ID, "until": until, "reason": why}, "user_id"},
	} {
		wantDetails(t, "mute "+tc.name, mod.JSON("POST", mutePath, tc.body), tc.field)
	}
	// Whoever is not in the group is one 404, not named (internal/security tells them apart in depth).
	for name, id := range map[string]int64{"staff": w.staff.ID, "an admin": w.admin.ID, "nobody": 999999999, "an outsider": w.outsider.ID} {
		wantError(t, "mute "+name, mod.JSON("POST", mutePath, map[string]any{"user_id": id, "until": until, "reason": why}), http.StatusNotFound, "not_found")
	}
	reply(t, member, th.ID, "Przed wyciszeniem")

	r := mod.JSON("POST", mutePath, map[string]any{"user_id": w.member.ID, "until": until, "reason": why})
	wantStatus(t, "mute", r, http.StatusCreated)
	var m struct {
		ID      int64     `json:"id"`
		GroupID int64     `json:"group_id"`
		UserID  int64     `json:"user_id"`
		Until   time.Time `json:"until"`
		Reason  string    `json:"reason"`
	}
	r.Decode(&m)
	if m.ID == 0 || m.GroupID != w.group.ID || m.UserID != w.member.ID || !m.Until.Equal(until) || m.Reason != why {
		t.Errorf("mute answered %s", r.Body)
	}
	var list struct {
		Items []struct {
			UserID int64 `json:"user_id"`
			Reason string
		}
	}
	mod.Get(mutePath).Decode(&list)
	if len(list.Items) != 1 || list.Items[0].UserID != w.member.ID || list.Items[0].Reason != why {
		t.Errorf("mutes listed: %+v", list.Items)
	}

	wantError(t, "muted reply", member.JSON("POST", p("/api/v1/threads/%d/posts", th.ID), map[string]any{"body": "Kup teraz"}), http.StatusForbidden, "muted")
	wantError(t, "muted new thread", member.JSON("POST", p("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Promocja", "body": "Kup teraz"}), http.StatusForbidden, "muted")
	reply(t, member, common.ID, "W innej grupie wolno")
	reply(t, w.as("observer"), common.ID, "Inni piszą dalej") // not muted
	// The thread page says until when and why.
	page := member.Get(p("/t/%d", th.ID)).String()
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if when := cat.Printer("pl").DateTime(until); !contains(page, why, when) || strings.Contains(page, `action="/t/`+strconv.FormatInt(th.ID, 10)+`/posts"`) {
		t.Errorf("muted member's page: reason %v, until %q %v, composer %v", strings.Contains(page, why), when, strings.Contains(page, when),
			strings.Contains(page, `action="/t/`+strconv.FormatInt(th.ID, 10)+`/posts"`))
	}
	if page := w.as("observer").Get(p("/t/%d", th.ID)).String(); strings.Contains(page, why) {
		t.Error("another reader is shown the member's mute")
	}

	wantStatus(t, "unmute", mod.JSON("DELETE", p("%s/%d", mutePath, w.member.ID), nil), http.StatusNoContent)
	wantError(t, "unmute twice", mod.JSON("DELETE", p("%s/%d", mutePath, w.member.ID), nil), http.StatusNotFound, "not_found")
	reply(t, member, th.ID, "Po zdjęciu wyciszenia")
	createThread(t, member, w.group.ID, "Nowy wątek po wyciszeniu", "x")
	mod.Get(mutePath).Decode(&list)
	if len(list.Items) != 0 {
		t.Errorf("mutes listed after unmute: %+v", list.Items)
	}
}

func TestAdminSuspendEndsSessions(t *testing.T) {
	w := newModWorld(t)
	victim := w.newMember(t)
	s1, s2 := w.env.Login(victim), w.env.Login(victim)
	wantStatus(t, "me before", s1.Get("/api/v1/me"), http.StatusOK)

	wantError(t, "moderator suspends", w.as("modG").JSON("PATCH", p("/api/v1/users/%d", victim.ID), map[string]any{"disabled": true}), http.StatusNotFound, "not_found")
	wantError(t, "staff suspends", w.as("staff").JSON("PATCH", p("/api/v1/users/%d", victim.ID), map[string]any{"disabled": true}), http.StatusNotFound, "not_found")
	wantStatus(t, "me after refused suspensions", s1.Get("/api/v1/me"), http.StatusOK)

	wantStatus(t, "suspend", w.as("admin").JSON("PATCH", p("/api/v1/users/%d", victim.ID), map[string]any{"disabled": true}), http.StatusOK)
	for i, c := range []*testkit.Client{s1, s2} {
		wantError(t, p("session %d after suspension", i+1), c.Get("/api/v1/me"), http.StatusUnauthorized, "unauthenticated")
	}
	var n int
	w.get(t, &n, `SELECT count(*) FROM sessions WHERE user_id = $1`, victim.ID)
	if n != 0 {
		t.Errorf("%d sessions left", n)
	}
	r := w.env.Anonymous().JSON("POST", "/api/v1/auth/login", map[string]string{"email": victim.Email, "password": victim.Password})
	if r.Status == http.StatusOK {
		t.Error("a suspended account logs in")
	}
	e := findAudit(t, readAudit(t, w.as("admin"), p("actor_id=%d&action=user.update", w.admin.ID)).Items, "user.update", victim.ID)
	if before, after := beforeAfter(t, e, "disabled"); before != false || after != true {
		t.Errorf("suspension audit: disabled %v → %v", before, after)
	}
}

// --- 7. Audit log ------------------------------------------------------------

func TestModerationAuditLog(t *testing.T) {
	w := newModWorld(t)
	mod, admin := w.as("modG"), w.as("admin")
	G, M := w.group.ID, w.dest.ID
	t1, _ := w.thread(1)
	t2, _ := w.thread(1)
	t3, t3posts := w.thread(3)
	t4, _ := w.thread(1)
	var t1Title string
	w.get(t, &t1Title, `SELECT title FROM threads WHERE id = $1`, t1)

	do := func(what string, r *testkit.Response, status int) { t.Helper(); wantStatus(t, what, r, status) }
	do("pin", mod.JSON("POST", p("/api/v1/threads/%d/pin", t1), map[string]any{"reason": "Ważne ogłoszenie"}), 200)
	do("lock", mod.JSON("POST", p("/api/v1/threads/%d/lock", t1), nil), 200)
	do("rename", mod.JSON("PATCH", p("/api/v1/threads/%d", t1), map[string]any{"title": "Tytuł po zmianie", "slow_mode_minutes": 2, "reason": "Czytelniejszy"}), 200)
	do("move", mod.JSON("POST", p("/api/v1/threads/%d/move", t2), map[string]any{"group_id": M, "reason": "Temat powiatowy"}), 200)
	do("hide post", mod.JSON("POST", p("/api/v1/posts/%d/hide", t3posts[1]), map[string]any{"reason": "Dane osobowe"}), 200)
	r := mod.JSON("POST", p("/api/v1/threads/%d/split", t3), map[string]any{"post_ids": []int64{t3posts[2]}, "title": "Wydzielony", "reason": "Nowy temat"})
	do("split", r, 201)
	var split modThread
	r.Decode(&split)
	do("merge", mod.JSON("POST", p("/api/v1/threads/%d/merge", t4), map[string]any{"into_thread_id": t3, "reason": "Duplikat"}), 200)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	do("mute", mod.JSON("POST", p("/api/v1/groups/%d/mutes", G), map[string]any{"user_id": w.member.ID, "until": until, "reason": "Spam w wątkach"}), 201)
	do("unmute", mod.JSON("DELETE", p("/api/v1/groups/%d/mutes/%d", G, w.member.ID), nil), 204)
	f := w.flag(t)
	do("resolve", mod.JSON("POST", p("/api/v1/flags/%d/resolve", f), map[string]any{"note": "Poprawione"}), 200)
	do("settings", mod.JSON("PATCH", p("/api/v1/groups/%d", G), map[string]any{"moderators_only_threads": true}), 200)
	do("staff unpin", w.as("staff").JSON("POST", p("/api/v1/threads/%d/unpin", t1), nil), 200)

	// G's moderator reads G's log.
	log := readAudit(t, mod, p("group_id=%d&limit=200", G)).Items
	modID := w.moderator.ID
	check := func(action, targetType string, target int64, reason string) auditJSON {
		t.Helper()
		e := findAudit(t, log, action, target)
		if e.ActorID == nil || *e.ActorID != modID || e.TargetType != targetType || e.GroupID == nil || *e.GroupID != G || e.Reason != reason || e.CreatedAt.IsZero() {
			t.Errorf("%s entry = %+v", action, e)
		}
		return e
	}
	check("thread.pin", "thread", t1, "Ważne ogłoszenie")
	check("thread.lock", "thread", t1, "")
	e := check("thread.edit", "thread", t1, "Czytelniejszy")
	if before, after := beforeAfter(t, e, "title"); before != t1Title || after != "Tytuł po zmianie" {
		t.Errorf("rename audit: %v → %v", before, after)
	}
	if before, after := beforeAfter(t, e, "slow_mode_seconds"); before != float64(0) || after != float64(120) {
		t.Errorf("slow mode audit: %v → %v", before, after)
	}
	e = check("thread.move", "thread", t2, "Temat powiatowy")
	if e.Details["from_group"] != float64(G) || e.Details["to_group"] != float64(M) {
		t.Errorf("move audit details = %v", e.Details)
	}
	check("post.hide", "post", t3posts[1], "Dane osobowe")
	e = check("thread.split", "thread", t3, "Nowy temat")
	if e.Details["new_thread_id"] != float64(split.ID) {
		t.Errorf("split audit details = %v", e.Details)
	}
	e = check("thread.merge", "thread", t4, "Duplikat")
	if e.Details["into_thread_id"] != float64(t3) {
		t.Errorf("merge audit details = %v", e.Details)
	}
	e = check("member.mute", "user", w.member.ID, "Spam w wątkach")
	if u, _ := time.Parse(time.RFC3339, fmt.Sprint(e.Details["until"])); !u.Equal(until) {
		t.Errorf("mute audit details = %v", e.Details)
	}
	check("member.unmute", "user", w.member.ID, "")
	check("flag.resolve", "flag", f, "Poprawione")
	e = check("group.settings", "group", G, "")
	if before, after := beforeAfter(t, e, "moderators_only_threads"); before != false || after != true {
		t.Errorf("settings audit: %v → %v", before, after)
	}
	if e := findAudit(t, log, "thread.unpin", t1); e.ActorID == nil || *e.ActorID != w.staff.ID {
		t.Errorf("staff action audited as %+v", e)
	}
	// The move is in the destination's log too, which G's moderator also moderates.
	if e := findAudit(t, readAudit(t, mod, p("group_id=%d", M)).Items, "thread.move", t2); e.Details["from_group"] != float64(G) {
		t.Errorf("destination's move entry = %+v", e)
	}
	for i := 1; i < len(log); i++ {
		if log[i-1].ID <= log[i].ID {
			t.Fatalf("log not newest first at %d", i)
		}
	}

	// Who reads which log.
	wantError(t, "moderator reads another group's log", mod.Get(p("/api/v1/audit?group_id=%d", w.other.ID)), http.StatusNotFound, "not_found")
	wantError(t, "moderator reads a readable group's log", mod.Get(p("/api/v1/audit?group_id=%d", w.common.ID)), http.StatusForbidden, "forbidden")
	wantDetails(t, "moderator reads the whole log", mod.Get("/api/v1/audit"), "group_id")
	wantError(t, "member reads the log", w.as("member").Get(p("/api/v1/audit?group_id=%d", G)), http.StatusForbidden, "forbidden")
	wantError(t, "H's moderator reads G's log", w.as("modH").Get(p("/api/v1/audit?group_id=%d", G)), http.StatusNotFound, "not_found")
	for _, q := range []string{"group_id=abc", "actor_id=-1", "limit=0", "limit=201", "page=0"} {
		if r := admin.Get("/api/v1/audit?" + q); r.Status != http.StatusBadRequest {
			t.Errorf("audit?%s = %d, want 400", q, r.Status)
		}
	}

	// Admins read everything and filter.
	all := readAudit(t, admin, "limit=200").Items
	groups := map[int64]bool{}
	for _, e := range all {
		if e.GroupID != nil {
			groups[*e.GroupID] = true
		}
	}
	if !groups[G] || !groups[M] {
		t.Errorf("admin's whole log lacks G or M: %v", groups)
	}
	moves := readAudit(t, admin, p("action=thread.move&actor_id=%d", modID)).Items
	if len(moves) != 2 {
		t.Errorf("filtered moves = %d, want 2 (source and destination)", len(moves))
	}
	for _, e := range moves {
		if e.Action != "thread.move" || *e.ActorID != modID {
			t.Errorf("filter let through %+v", e)
		}
	}
	var mine int
	w.get(t, &mine, `SELECT count(*) FROM audit_log WHERE actor_id = $1`, modID)
	// pin, lock, edit, move (source and destination), post hide, split, merge,
	// mute, unmute, flag resolve, group settings.
	if mine != 12 {
		t.Fatalf("%d audit entries by the moderator, want 12", mine)
	}
	seen := map[int64]bool{}
	last := int64(1 << 62)
	for page := 1; ; page++ {
		l := readAudit(t, admin, p("actor_id=%d&limit=5&page=%d", modID, page))
		for _, e := range l.Items {
			if seen[e.ID] || e.ID >= last || *e.ActorID != modID {
				t.Fatalf("page %d: entry %d repeated, out of order or by another actor", page, e.ID)
			}
			seen[e.ID], last = true, e.ID
		}
		if wantMore := page*5 < mine; l.HasMore != wantMore || (wantMore && len(l.Items) != 5) {
			t.Fatalf("page %d: %d items, has_more %v, total %d", page, len(l.Items), l.HasMore, mine)
		}
		if !l.HasMore {
			break
		}
	}
	if len(seen) != mine {
		t.Errorf("pages held %d entries, want %d", len(seen), mine)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	w := newModWorld(t)
	tid, _ := w.thread(1)
	wantStatus(t, "pin", w.as("modG").JSON("POST", p("/api/v1/threads/%d/pin", tid), map[string]any{"reason": "Ważne"}), http.StatusOK)
	var id int64
	w.get(t, &id, `SELECT id FROM audit_log WHERE action = 'thread.pin' AND target_id = $1`, tid)
	if _, err := w.env.DB.Exec(`UPDATE audit_log SET reason = 'zmienione' WHERE id = $1`, id); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("UPDATE audit_log: %v, want an append-only error", err)
	}
	if _, err := w.env.DB.Exec(`DELETE FROM audit_log WHERE id = $1`, id); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("DELETE FROM audit_log: %v, want an append-only error", err)
	}
	var reason string
	w.get(t, &reason, `SELECT reason FROM audit_log WHERE id = $1`, id)
	if reason != "Ważne" {
		t.Errorf("entry changed to %q", reason)
	}
	// Nor is there an HTTP path that changes or removes entries.
	for _, m := range []string{"PATCH", "PUT", "DELETE"} {
		for _, path := range []string{"/api/v1/audit", p("/api/v1/audit/%d", id)} {
			if r := w.as("admin").JSON(m, path, map[string]any{"reason": "x"}); r.Status < 400 {
				t.Errorf("%s %s = %d", m, path, r.Status)
			}
		}
	}
}

// The audit page's person filter offers exactly the people who acted in the
// group's log (not someone who acted only in another group), and choosing
// one narrows the log to their entries and keeps the choice in the pager.
func TestAuditPagePersonFilter(t *testing.T) {
	w := newModWorld(t)
	mod, staff, modH := w.as("modG"), w.as("staff"), w.as("modH")
	G := w.group.ID
	t1, _ := w.thread(1)
	elsewhere, _ := w.env.NewThread(w.other.ID, w.auth.ID, 1)
	wantStatus(t, "pin", mod.JSON("POST", p("/api/v1/threads/%d/pin", t1), map[string]any{"reason": "Ogłoszenie"}), 200)
	wantStatus(t, "staff unpin", staff.JSON("POST", p("/api/v1/threads/%d/unpin", t1), nil), 200)
	wantStatus(t, "pin in another group", modH.JSON("POST", p("/api/v1/threads/%d/pin", elsewhere), nil), 200)

	option := func(u testkit.User) string {
		return fmt.Sprintf(`<option value="%d">%s</option>`, u.ID, html.EscapeString(u.Name))
	}
	r := mod.Get(p("/g/%d/audit", G))
	wantStatus(t, "group audit page", r, 200)
	page := r.String()
	for _, u := range []testkit.User{w.moderator, w.staff} {
		if !strings.Contains(page, option(u)) {
			t.Errorf("the person filter lacks %s (%s)", u.Name, option(u))
		}
	}
	if strings.Contains(page, fmt.Sprintf(`<option value="%d"`, w.modH.ID)) {
		t.Error("the person filter of G names someone who acted only in another group")
	}

	r = mod.Get(p("/g/%d/audit?actor_id=%d", G, w.staff.ID))
	wantStatus(t, "filtered by the staff member", r, 200)
	page = r.String()
	if !strings.Contains(page, fmt.Sprintf(`<option value="%d" selected>`, w.staff.ID)) {
		t.Error("the chosen person is not selected after filtering")
	}
	if !strings.Contains(page, "thread.unpin") || strings.Contains(page, ">thread.pin<") {
		t.Error("filtering by the staff member does not show exactly their entries")
	}

	// An administrator's whole log offers everyone who acted anywhere.
	r = w.as("admin").Get("/admin/audit")
	wantStatus(t, "admin audit page", r, 200)
	if page := r.String(); !strings.Contains(page, option(w.modH)) || !strings.Contains(page, option(w.moderator)) {
		t.Error("the admin's person filter lacks people who acted")
	}
}
