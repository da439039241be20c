package app_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// recorder keeps what the services announce, as "topic" for a change and
// "revoke:ID" for a revocation.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) Announce(_ context.Context, ev topic.Events) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range ev.Changes {
		r.got = append(r.got, c.Topic)
	}
	for _, v := range ev.Revocations {
		r.got = append(r.got, fmt.Sprintf("revoke:%d", v.UserID))
	}
}

// take returns what was announced since the last call. Announcing is done
// before a handler answers (after the commit, in the request), so what a
// request announced is all here when its response has arrived.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// Every write path of the forum, moderation, meetings, notes and accounts
// APIs, run once against the real server with a recorder tapped into what
// the services announce. A path that commits without announcing fails twice
// over: store.InTx refuses a unit of work that recorded nothing and did not
// say Quiet (the request answers 500), and here the topics its open pages
// follow must be among what it announced. Paths that say Quiet are listed
// with no topics, and must announce nothing.
func TestEveryWritePathAnnounces(t *testing.T) {
	env := testkit.Start(t, dbURL)
	rec := &recorder{}
	env.App.TapAnnouncements(rec)

	g, g2 := env.NewGroup(model.KindRural), env.NewGroup(model.KindRural)
	adminU, modU, memberU, otherU := env.NewUser(model.RoleAdmin), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(modU.ID, g.ID, model.GroupModerator)
	env.AddMember(modU.ID, g2.ID, model.GroupModerator)
	env.AddMember(memberU.ID, g.ID, model.GroupMember)
	env.AddMember(otherU.ID, g.ID, model.GroupMember)
	admin, mod, member, other := env.Login(adminU), env.Login(modU), env.Login(memberU), env.Login(otherU)
	rec.take() // logins: sessions are single statements, not units of work

	name := func(kind string, id int64) string { return topic.Name(kind, id) }
	revoke := func(id int64) string { return fmt.Sprintf("revoke:%d", id) }
	// call checks that a request succeeded and returns what it announced.
	call := func(what string, r *testkit.Response) (*testkit.Response, []string) {
		t.Helper()
		got := rec.take()
		if r.Status < 200 || r.Status > 299 {
			t.Fatalf("%s: %d %s", what, r.Status, r.Body)
		}
		return r, got
	}
	expect := func(what string, got []string, want ...string) {
		t.Helper()
		if len(want) == 0 && len(got) != 0 {
			t.Errorf("%s: a quiet path announced %v", what, got)
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: announced %v, want %s among them", what, got, w)
			}
		}
	}
	step := func(what string, r *testkit.Response, want ...string) *testkit.Response {
		t.Helper()
		r, got := call(what, r)
		expect(what, got, want...)
		return r
	}
	// must is a request whose announcements another step already checks.
	must := func(what string, r *testkit.Response) *testkit.Response {
		t.Helper()
		r, _ = call(what, r)
		return r
	}
	type ids struct {
		ID        int64 `json:"id"`
		FirstPost struct {
			ID int64 `json:"id"`
		} `json:"first_post"`
	}
	decode := func(r *testkit.Response) ids {
		t.Helper()
		var v ids
		r.Decode(&v)
		if v.ID == 0 {
			t.Fatalf("no id in %s", r.Body)
		}
		return v
	}
	one := func(query string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := env.DB.Get(&id, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return id
	}
	p := fmt.Sprintf
	thread, group := func(id int64) string { return name(topic.Thread, id) }, name(topic.Group, g.ID)

	// --- forum ---
	r, got := call("create thread", member.JSON("POST", p("/api/v1/groups/%d/threads", g.ID), map[string]any{"title": "Wątek o budżecie", "body": "Pierwszy wpis"}))
	t1 := decode(r)
	expect("create thread", got, thread(t1.ID), group)
	r, got = call("reply", other.JSON("POST", p("/api/v1/threads/%d/posts", t1.ID), map[string]any{"body": "Odpowiedź", "reply_to": t1.FirstPost.ID}))
	reply := decode(r).ID
	expect("reply", got, thread(t1.ID), group, name(topic.User, memberU.ID))
	step("edit post", other.JSON("PATCH", p("/api/v1/posts/%d", reply), map[string]any{"body": "Odpowiedź poprawiona", "version": 1}), thread(t1.ID))
	step("delete post", other.JSON("DELETE", p("/api/v1/posts/%d", reply), nil), thread(t1.ID))
	step("create area", admin.JSON("POST", "/api/v1/areas", map[string]any{"name": "Obszar " + testkit.Unique(), "macro_area": "planowanie_rozwoju"}))

	// --- moderation ---
	for _, action := range []string{"pin", "unpin", "lock", "unlock", "hide", "unhide"} {
		step(action, mod.JSON("POST", p("/api/v1/threads/%d/%s", t1.ID, action), map[string]any{"reason": "Porządek w grupie"}), thread(t1.ID), group)
	}
	step("edit thread", mod.JSON("PATCH", p("/api/v1/threads/%d", t1.ID), map[string]any{"title": "Wątek o budżecie gminy", "reason": "Dokładniejszy tytuł"}), thread(t1.ID), group)
	t2 := decode(must("create second thread", member.JSON("POST", p("/api/v1/groups/%d/threads", g.ID), map[string]any{"title": "Drugi wątek", "body": "Treść"})))
	step("move", mod.JSON("POST", p("/api/v1/threads/%d/move", t2.ID), map[string]any{"group_id": g2.ID, "reason": "Inna grupa"}),
		thread(t2.ID), group, name(topic.Group, g2.ID))
	t3 := decode(must("create third thread", member.JSON("POST", p("/api/v1/groups/%d/threads", g.ID), map[string]any{"title": "Trzeci wątek", "body": "Treść"})))
	step("merge", mod.JSON("POST", p("/api/v1/threads/%d/merge", t3.ID), map[string]any{"into_thread_id": t1.ID, "reason": "Ten sam temat"}),
		thread(t3.ID), thread(t1.ID), group)
	moved := decode(must("reply again", other.JSON("POST", p("/api/v1/threads/%d/posts", t1.ID), map[string]any{"body": "Osobny temat"}))).ID
	step("split", mod.JSON("POST", p("/api/v1/threads/%d/split", t1.ID), map[string]any{"post_ids": []int64{moved}, "title": "Wydzielony", "reason": "Osobny temat"}),
		thread(t1.ID), group)
	step("hide post", mod.JSON("POST", p("/api/v1/posts/%d/hide", t1.FirstPost.ID), map[string]any{"reason": "Dane osobowe"}), thread(t1.ID))
	step("unhide post", mod.JSON("POST", p("/api/v1/posts/%d/unhide", t1.FirstPost.ID), map[string]any{"reason": ""}), thread(t1.ID))
	step("report", other.JSON("POST", p("/api/v1/posts/%d/flags", t1.FirstPost.ID), map[string]any{"reason": "Reklama"}))
	flag := one(`SELECT id FROM flags WHERE post_id = $1`, t1.FirstPost.ID)
	step("dismiss report", mod.JSON("POST", p("/api/v1/flags/%d/dismiss", flag), map[string]any{"note": "W porządku"}))
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	step("mute", mod.JSON("POST", p("/api/v1/groups/%d/mutes", g.ID), map[string]any{"user_id": otherU.ID, "until": until, "reason": "Ochłonąć"}))
	step("unmute", mod.JSON("DELETE", p("/api/v1/groups/%d/mutes/%d", g.ID, otherU.ID), nil))
	step("group settings", mod.JSON("PATCH", p("/api/v1/groups/%d", g.ID), map[string]any{"moderators_only_threads": true}), group)

	// --- meetings ---
	start := time.Now().Add(time.Hour).UTC()
	r, got = call("create meeting", mod.JSON("POST", p("/api/v1/groups/%d/meetings", g.ID), map[string]any{
		"title": "Sesja 1", "starts_at": start, "ends_at": start.Add(4 * time.Hour)}))
	m := decode(r).ID
	meeting := name(topic.Meeting, m)
	expect("create meeting", got, group, name(topic.User, memberU.ID), name(topic.User, otherU.ID))
	step("edit meeting", mod.JSON("PATCH", p("/api/v1/meetings/%d", m), map[string]any{"title": "Sesja 1: budżet"}), meeting)
	step("start meeting", mod.JSON("POST", p("/api/v1/meetings/%d/start", m), nil), meeting, name(topic.User, memberU.ID))
	step("chat message", member.JSON("POST", p("/api/v1/meetings/%d/messages", m), map[string]any{"client_id": uuid.NewString(), "body": "Dzień dobry"}), meeting)

	// --- notes, files, attendance ---
	r, got = call("create note", member.JSON("POST", p("/api/v1/meetings/%d/notes", m), map[string]any{"title": "Notatka", "body": "Ustalenia"}))
	note := decode(r).ID
	expect("create note", got)
	step("edit note", other.JSON("PATCH", p("/api/v1/notes/%d", note), map[string]any{"body": "Ustalenia, wersja 2", "version": 1}), name(topic.Note, note))
	step("save the same note", other.JSON("PATCH", p("/api/v1/notes/%d", note), map[string]any{"body": "Ustalenia, wersja 2", "version": 2}))
	file := decode(step("upload", uploadText(t, member, p("/api/v1/meetings/%d/attachments", m), "lista.txt", "Lista obecności"))).ID
	step("delete file", member.JSON("DELETE", p("/api/v1/attachments/%d", file), nil))
	step("attendance answer", member.JSON("PUT", p("/api/v1/meetings/%d/attendance", m), map[string]string{"answer": "yes"}))
	step("confirm attendance", mod.JSON("POST", p("/api/v1/meetings/%d/attendance/confirm", m), map[string]any{"attended": []int64{memberU.ID}}))
	step("end meeting", mod.JSON("POST", p("/api/v1/meetings/%d/end", m), nil), meeting)

	// --- accounts ---
	r, got = call("create user", admin.JSON("POST", "/api/v1/users", map[string]any{"email": "nowa" + testkit.Unique() + "@test.example",
		"name": "Nowa Osoba", "job_title": "Skarbnik", "role": "member", "password": "dlugie-haslo-do-forum"}))
	u := decode(r).ID
	expect("create user", got)
	step("rename user", admin.JSON("PATCH", p("/api/v1/users/%d", u), map[string]any{"name": "Nowa Osoba II"}))
	step("change role", admin.JSON("PATCH", p("/api/v1/users/%d", u), map[string]any{"role": "staff"}), revoke(u))
	step("put member", admin.JSON("PUT", p("/api/v1/groups/%d/members/%d", g.ID, u), map[string]string{"role": "member"}), revoke(u))
	step("remove member", admin.JSON("DELETE", p("/api/v1/groups/%d/members/%d", g.ID, u), nil), revoke(u))
	step("end sessions", admin.JSON("DELETE", p("/api/v1/users/%d/sessions", u), nil), revoke(u))
	step("disable user", admin.JSON("PATCH", p("/api/v1/users/%d", u), map[string]any{"disabled": true}), revoke(u))
	step("create JST", admin.JSON("POST", "/api/v1/jst", map[string]any{"name": "Gmina " + testkit.Unique(), "kind": "gmina_miejsko_wiejska", "voivodeship": "świętokrzyskie"}))
	step("create group", admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Grupa " + testkit.Unique(), "kind": "urban", "description": "Kohorta."}))
	step("logout", member.JSON("POST", "/api/v1/auth/logout", nil), revoke(memberU.ID))
}

// uploadText posts a small text file as multipart/form-data.
func uploadText(t *testing.T, c *testkit.Client, path, filename, content string) *testkit.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return c.Do("POST", path, &b, map[string]string{"Content-Type": w.FormDataContentType(), "Accept": "application/json"})
}
