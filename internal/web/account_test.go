package web_test

// Issue 12 items 6 and 7: my account, sessions, profiles, the data export and
// the deletion of one's account, end to end through the real server.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type meJSON struct {
	ID       int64  `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Position string `json:"position"`
	JobTitle string `json:"job_title"`
	Lang     *string
	JST      *struct {
		ID   int64
		Name string
	}
	Prefs struct {
		Notify map[string]bool   `json:"notify"`
		Mail   map[string]string `json:"mail"`
	}
	Memberships []struct {
		GroupID int64 `json:"group_id"`
	}
}

func getMe(t *testing.T, c *testkit.Client) meJSON {
	t.Helper()
	r := c.Get("/api/v1/me")
	wantStatus(t, "GET /me", r, http.StatusOK)
	var me meJSON
	r.Decode(&me)
	return me
}

// The profile, language and preferences: strict validation with per-field
// details, partial updates, and the interface follows the chosen language.
func TestMeUpdate(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)

	me := getMe(t, c)
	if me.Position != "Inspektor" || me.Lang != nil || len(me.Prefs.Notify) != len(accounts.NotifyKinds) || !me.Prefs.Notify["reply"] {
		t.Fatalf("GET /me = %+v", me)
	}

	for _, tc := range []struct {
		name   string
		body   any
		fields []string
	}{
		{"short name", map[string]any{"name": "X"}, []string{"name"}},
		{"long position", map[string]any{"position": strings.Repeat("a", 151)}, []string{"position"}},
		{"unknown language", map[string]any{"lang": "de"}, []string{"lang"}},
		{"unknown kind", map[string]any{"prefs": map[string]any{"notify": map[string]bool{"reply": false, "gossip": true}}}, []string{"prefs.notify.gossip"}},
		{"empty prefs", map[string]any{"prefs": map[string]any{}}, []string{"prefs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDetails(t, tc.name, c.JSON("PATCH", "/api/v1/me", tc.body), tc.fields...)
		})
	}
	// Unknown members, anywhere, are refused: the e-mail and the role are not
	// the person's to change, nor are parts of prefs the forum does not have.
	for _, body := range []string{`{"email":"x@y.pl"}`, `{"role":"admin"}`, `{"prefs":{"notify":{},"sms":{}}}`, `{"jst_id":1}`} {
		r := c.Do("PATCH", "/api/v1/me", strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
		wantError(t, "PATCH "+body, r, http.StatusBadRequest, "bad_request")
	}
	if after := getMe(t, c); after.Name != me.Name || after.Email != u.Email || !after.Prefs.Notify["reply"] {
		t.Fatalf("a refused PATCH changed the account: %+v", after)
	}

	r := c.JSON("PATCH", "/api/v1/me", map[string]any{"name": "  Anna   Nowak ", "position": "naczelnik wydziału oświaty",
		"lang": "en", "prefs": map[string]any{"notify": map[string]bool{"reply": false}}})
	wantStatus(t, "PATCH /me", r, http.StatusOK)
	var got meJSON
	r.Decode(&got)
	if got.Name != "Anna Nowak" || got.Position != "naczelnik wydziału oświaty" || got.Lang == nil || *got.Lang != "en" ||
		got.Prefs.Notify["reply"] || !got.Prefs.Notify["meeting_started"] {
		t.Fatalf("PATCH answered %+v", got)
	}
	// Only the kinds named change.
	r = c.JSON("PATCH", "/api/v1/me", map[string]any{"prefs": map[string]any{"notify": map[string]bool{"meeting_started": false}}})
	wantStatus(t, "PATCH prefs", r, http.StatusOK)
	if me := getMe(t, c); me.Prefs.Notify["reply"] || me.Prefs.Notify["meeting_started"] || !me.Prefs.Notify["mention"] {
		t.Fatalf("prefs after two changes: %v", me.Prefs.Notify)
	}
	// The interface speaks the account's language, whatever the cookie says.
	if page := c.Get("/konto").String(); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "Where you are logged in") {
		t.Fatalf("/konto is not in English after choosing it")
	}
	// The switch changes the account's language too.
	wantStatus(t, "switch", c.Form("/lang", url.Values{"lang": {"pl"}, "next": {"/konto"}}), http.StatusSeeOther)
	if me := getMe(t, c); me.Lang == nil || *me.Lang != "pl" {
		t.Fatalf("lang after the switch = %v", me.Lang)
	}
	if page := c.Get("/konto").String(); !strings.Contains(page, `<html lang="pl">`) || !strings.Contains(page, "Gdzie jesteś zalogowany") {
		t.Fatalf("/konto is not in Polish after switching")
	}
	var audited int
	if err := env.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE action = 'account.update' AND target_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if audited == 0 {
		t.Error("a change of name and position is not audited")
	}
	if r := env.Anonymous().JSON("PATCH", "/api/v1/me", map[string]any{"name": "Nikt"}); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous PATCH /me = %d", r.Status)
	}
}

// GET/PATCH /api/v1/me carry the mail preferences too (issue 12 item 6: the
// account endpoint of SPEC §4 holds "notification and mail preferences"),
// the same ones as /api/v1/me/mail-prefs and /konto/poczta; a PATCH with
// any bad part stores nothing.
func TestMePrefsCarryMailPreferences(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	me := getMe(t, c)
	if len(me.Prefs.Mail) != len(mail.PrefKinds) || me.Prefs.Mail["mention"] != mail.Immediately ||
		me.Prefs.Mail["meeting_scheduled"] != mail.Digest || me.Prefs.Mail["newsletter"] != mail.Immediately {
		t.Fatalf("GET /me prefs.mail = %v, want every kind with its default", me.Prefs.Mail)
	}
	r := c.JSON("PATCH", "/api/v1/me", map[string]any{"prefs": map[string]any{"mail": map[string]string{"reply": "digest", "newsletter": "never"}}})
	wantStatus(t, "PATCH mail prefs", r, http.StatusOK)
	var got meJSON
	r.Decode(&got)
	if got.Prefs.Mail["reply"] != mail.Digest || got.Prefs.Mail["newsletter"] != mail.Never || got.Prefs.Mail["mention"] != mail.Immediately ||
		!got.Prefs.Notify["reply"] {
		t.Errorf("PATCH answered prefs %+v", got.Prefs)
	}
	stored, err := env.App.Mail.PrefsOf(context.Background(), u.ID)
	if err != nil || stored["reply"] != mail.Digest || stored["newsletter"] != mail.Never {
		t.Errorf("mail prefs stored: %v (%v)", stored, err)
	}
	// Bad kinds and modes are named; with a good name beside them nothing changes.
	wantDetails(t, "bad mail prefs", c.JSON("PATCH", "/api/v1/me", map[string]any{"name": "Inne Imię",
		"prefs": map[string]any{"mail": map[string]string{"gossip": "never", "new_thread": "immediately", "reply": "never"}}}),
		"prefs.mail.gossip", "prefs.mail.new_thread")
	if after := getMe(t, c); after.Name != me.Name || after.Prefs.Mail["reply"] != mail.Digest {
		t.Errorf("a refused PATCH changed the account: %s, reply %s", after.Name, after.Prefs.Mail["reply"])
	}
}

// A kind turned off is not recorded for its owner; others still get theirs.
func TestNotifyPrefsFilterNotifications(t *testing.T) {
	w := newForumWorld(t)
	quiet, loud := w.member, w.moderator
	tid, posts := w.env.NewThread(w.group.ID, quiet.ID, 1)
	w.env.NewThread(w.group.ID, loud.ID, 1)
	cq := w.env.Login(quiet)
	wantStatus(t, "turn replies off", cq.JSON("PATCH", "/api/v1/me",
		map[string]any{"prefs": map[string]any{"notify": map[string]bool{"reply": false}}}), http.StatusOK)

	other := w.env.Login(w.env.NewUser(model.RoleStaff))
	r := other.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tid), map[string]any{"body": "Odpowiedź", "reply_to": posts[0]})
	wantStatus(t, "reply", r, http.StatusCreated)
	if n := countRows(t, w.env, `SELECT count(*) FROM notifications WHERE user_id = $1`, quiet.ID); n != 0 {
		t.Errorf("%d notifications for a kind turned off", n)
	}
	tid2, posts2 := w.env.NewThread(w.group.ID, loud.ID, 1)
	r = other.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tid2), map[string]any{"body": "Odpowiedź", "reply_to": posts2[0]})
	wantStatus(t, "reply", r, http.StatusCreated)
	if n := countRows(t, w.env, `SELECT count(*) FROM notifications WHERE user_id = $1`, loud.ID); n != 1 {
		t.Errorf("%d notifications for someone who kept replies on, want 1", n)
	}
}

// wsEnded waits for a socket to be closed because its session ended (4001).
func wsEnded(t *testing.T, what string, ws *testkit.WS) {
	t.Helper()
	var ce *websocket.CloseError
	if err := ws.Closed(15 * time.Second); !errors.As(err, &ce) || ce.Code != 4001 {
		t.Errorf("%s: socket ended with %v, want close 4001", what, err)
	}
}

// wsAlive proves a socket still answers.
func wsAlive(t *testing.T, what string, ws *testkit.WS) {
	t.Helper()
	ws.Send(map[string]any{"type": "ping"})
	select {
	case f, ok := <-ws.Frames():
		if !ok {
			t.Errorf("%s: socket closed: %v", what, ws.Err())
		} else if f.Type != "pong" {
			t.Logf("%s: first frame %s", what, f.Raw)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("%s: no answer to ping", what)
	}
}

// Changing the password needs the current one (throttled like a login), keeps
// the password rules, ends every other session and its sockets, not this one.
func TestChangePassword(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	here, there := env.Login(u), env.Login(u)
	hereWS, thereWS := here.DialWS(), there.DialWS()

	wantDetails(t, "empty", here.JSON("POST", "/api/v1/me/password", map[string]string{}), "current_password", "new_password")
	wantDetails(t, "wrong current", here.JSON("POST", "/api/v1/me/password",
		map[string]string{"current_password": "nie-to-haslo-123", "new_password": "nowe-dobre-haslo-7"}), "current_password")
	wantDetails(t, "short new", here.JSON("POST", "/api/v1/me/password",
		map[string]string{"current_password": u.Password, "new_password": "krótkie"}), "new_password")
	wantDetails(t, "common new", here.JSON("POST", "/api/v1/me/password",
		map[string]string{"current_password": u.Password, "new_password": "password123"}), "new_password")
	wantStatus(t, "still logged in there", there.Get("/api/v1/me"), http.StatusOK)

	r := here.JSON("POST", "/api/v1/me/password", map[string]string{"current_password": u.Password, "new_password": "nowe-dobre-haslo-7"})
	wantStatus(t, "change", r, http.StatusNoContent)
	wantStatus(t, "this session", here.Get("/api/v1/me"), http.StatusOK)
	wantStatus(t, "the other session", there.Get("/api/v1/me"), http.StatusUnauthorized)
	wsEnded(t, "other session's socket", thereWS)
	wsAlive(t, "this session's socket", hereWS)

	if r := env.Anonymous().JSON("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}); r.Status != http.StatusUnauthorized {
		t.Errorf("old password still logs in: %d", r.Status)
	}
	u.Password = "nowe-dobre-haslo-7"
	env.Login(u)
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'account.password_change' AND actor_id = $1`, u.ID); n != 1 {
		t.Errorf("%d audit entries for the change", n)
	}
}

// Wrong current passwords count as login failures: the account is throttled.
func TestChangePasswordThrottled(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	var last *testkit.Response
	for i := 0; i < 12; i++ {
		last = c.JSON("POST", "/api/v1/me/password", map[string]string{"current_password": "zgaduje-" + fmt.Sprint(i), "new_password": "nowe-dobre-haslo-7"})
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	wantError(t, "guessing", last, http.StatusTooManyRequests, "rate_limited")
	// Even the right password waits now.
	r := c.JSON("POST", "/api/v1/me/password", map[string]string{"current_password": u.Password, "new_password": "nowe-dobre-haslo-7"})
	wantError(t, "right password while throttled", r, http.StatusTooManyRequests, "rate_limited")
}

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

func listSessions(t *testing.T, c *testkit.Client) []sessionJSON {
	t.Helper()
	r := c.Get("/api/v1/me/sessions")
	wantStatus(t, "sessions", r, http.StatusOK)
	var out struct{ Items []sessionJSON }
	r.Decode(&out)
	return out.Items
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// One's sessions are listed by public id (never the token), one can end any of
// them, and nobody else can end them.
func TestMySessions(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u, mallory := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	a, b := env.Login(u), env.Login(u)
	bWS := b.DialWS()
	m := env.Login(mallory)

	list := listSessions(t, a)
	if len(list) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(list))
	}
	if !list[0].Current || list[1].Current {
		t.Fatalf("current session not first and alone: %+v", list)
	}
	raw := a.Get("/api/v1/me/sessions").String()
	for _, tok := range []string{jarToken(t, a), jarToken(t, b)} {
		if strings.Contains(raw, tok) {
			t.Fatal("the session list shows a session token")
		}
	}
	for _, s := range list {
		if !uuidRE.MatchString(s.ID) || s.Device != "Go" || s.IP == "" || s.CreatedAt.IsZero() {
			t.Errorf("session %+v", s)
		}
	}
	bID := list[1].ID

	// Someone else's session: not found, and it lives on.
	wantError(t, "mallory ends it", m.JSON("DELETE", "/api/v1/me/sessions/"+bID, nil), http.StatusNotFound, "not_found")
	wantError(t, "not an id", a.JSON("DELETE", "/api/v1/me/sessions/abc", nil), http.StatusNotFound, "not_found")
	wantError(t, "unknown id", a.JSON("DELETE", "/api/v1/me/sessions/"+uuid.NewString(), nil), http.StatusNotFound, "not_found")
	wantStatus(t, "b still logged in", b.Get("/api/v1/me"), http.StatusOK)
	// Without the CSRF token, the cookie alone cannot end a session.
	noCSRF := *a
	noCSRF.CSRF = ""
	wantError(t, "no CSRF", noCSRF.JSON("DELETE", "/api/v1/me/sessions/"+bID, nil), http.StatusForbidden, "csrf")

	wantStatus(t, "end b", a.JSON("DELETE", "/api/v1/me/sessions/"+bID, nil), http.StatusNoContent)
	wantStatus(t, "b after", b.Get("/api/v1/me"), http.StatusUnauthorized)
	wsEnded(t, "b's socket", bWS)
	wantStatus(t, "a after", a.Get("/api/v1/me"), http.StatusOK)
	if l := listSessions(t, a); len(l) != 1 || l[0].ID != list[0].ID {
		t.Fatalf("after ending b: %+v", l)
	}

	// The current one too: that is a logout, and the cookie goes.
	r := a.JSON("DELETE", "/api/v1/me/sessions/"+list[0].ID, nil)
	wantStatus(t, "end current", r, http.StatusNoContent)
	if ck := sessionCookie(r); ck == nil || ck.MaxAge >= 0 && ck.Value != "" {
		t.Errorf("ending the current session does not clear the cookie: %+v", ck)
	}
	wantStatus(t, "a after ending itself", withToken(t, env, jarToken(t, a)).Get("/api/v1/me"), http.StatusUnauthorized)
	wantStatus(t, "mallory unaffected", m.Get("/api/v1/me"), http.StatusOK)
}

// The page's "Wyloguj" asks first, then ends the session.
func TestSessionLogoutPage(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	a, b := env.Login(u), env.Login(u)
	var bID string
	for _, s := range listSessions(t, a) {
		if !s.Current {
			bID = s.ID
		}
	}
	page := a.Get("/konto")
	wantStatus(t, "/konto", page, http.StatusOK)
	if !strings.Contains(page.String(), "/konto/sessions/"+bID+"/end") {
		t.Fatal("/konto has no logout link for the other session")
	}
	confirm := a.Get("/konto/sessions/" + bID + "/end")
	wantStatus(t, "confirm page", confirm, http.StatusOK)
	if !strings.Contains(confirm.String(), `action="/konto/sessions/`+bID+`/end"`) {
		t.Fatal("the confirmation has no form")
	}
	wantStatus(t, "b before", b.Get("/api/v1/me"), http.StatusOK)
	r := a.Form("/konto/sessions/"+bID+"/end", nil)
	wantStatus(t, "end", r, http.StatusSeeOther)
	wantStatus(t, "b after", b.Get("/api/v1/me"), http.StatusUnauthorized)
	// Someone else's session through the page: 404.
	other := env.Login(env.NewUser(model.RoleMember))
	for _, s := range listSessions(t, a) {
		if r := other.Form("/konto/sessions/"+s.ID+"/end", nil); r.Status != http.StatusNotFound {
			t.Errorf("ending another's session by form = %d", r.Status)
		}
	}
	wantStatus(t, "a still in", a.Get("/api/v1/me"), http.StatusOK)
}

type profileJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Position string `json:"position"`
	Former   bool   `json:"former"`
	Email    string `json:"email"`
	Shared   []struct {
		ID int64 `json:"id"`
	} `json:"shared_groups"`
	Posts []struct {
		ID      int64  `json:"id"`
		URL     string `json:"url"`
		Excerpt string `json:"excerpt"`
	} `json:"recent_posts"`
}

func getProfile(t *testing.T, c *testkit.Client, id int64) (*testkit.Response, profileJSON) {
	t.Helper()
	r := c.Get(fmt.Sprintf("/api/v1/users/%d", id))
	var p profileJSON
	if r.Status == http.StatusOK {
		r.Decode(&p)
	}
	return r, p
}

func profilePostIDs(p profileJSON) map[int64]bool {
	out := map[int64]bool{}
	for _, x := range p.Posts {
		out[x.ID] = true
	}
	return out
}

// Who sees whose profile, and which of their posts (README "Profiles").
func TestProfileVisibility(t *testing.T) {
	w := newForumWorld(t)
	env := w.env
	// member and outsider share no group; the outsider posts in their own
	// group and in the common one.
	_, ownPosts := env.NewThread(w.other.ID, w.outsider.ID, 1)
	_, commonPosts := env.NewThread(w.common.ID, w.outsider.ID, 1)
	_, groupPosts := env.NewThread(w.group.ID, w.moderator.ID, 2)
	if _, err := env.DB.Exec(`UPDATE posts SET hidden = true WHERE id = $1`, groupPosts[1]); err != nil {
		t.Fatal(err)
	}
	loner := env.NewUser(model.RoleMember) // in no group, never posted
	staff := env.Login(env.NewUser(model.RoleStaff))
	member, observer := env.Login(w.member), env.Login(w.observer)

	// A fellow member: shared group, visible posts, not the hidden one.
	r, p := getProfile(t, member, w.moderator.ID)
	wantStatus(t, "member → moderator", r, http.StatusOK)
	if len(p.Shared) != 1 || p.Shared[0].ID != w.group.ID || p.Position != "Inspektor" || p.Email != "" {
		t.Errorf("profile of a fellow member: %+v", p)
	}
	if ids := profilePostIDs(p); !ids[groupPosts[0]] || ids[groupPosts[1]] {
		t.Errorf("member sees posts %v; want %d and not the hidden %d", ids, groupPosts[0], groupPosts[1])
	}
	if strings.Contains(r.String(), "email") || strings.Contains(r.String(), w.moderator.Email) {
		t.Error("a member's profile shows the e-mail address")
	}
	// The group's moderator sees the hidden one.
	_, p = getProfile(t, env.Login(w.moderator), w.moderator.ID)
	if ids := profilePostIDs(p); !ids[groupPosts[1]] {
		t.Errorf("the moderator does not see their own hidden post: %v", ids)
	}
	// The outsider wrote in the common group: the member finds them through
	// that post, and sees only that post, not those of the other group.
	r, p = getProfile(t, member, w.outsider.ID)
	wantStatus(t, "member → outsider who posted in common", r, http.StatusOK)
	if ids := profilePostIDs(p); !ids[commonPosts[0]] || ids[ownPosts[0]] || len(p.Shared) != 0 {
		t.Errorf("member sees outsider's posts %v, shared %v", ids, p.Shared)
	}
	// The observer reads the group: sees members, not the outsider's group.
	wantStatus(t, "observer → member", observer.Get(fmt.Sprintf("/api/v1/users/%d", w.member.ID)), http.StatusOK)
	// Someone who shares nothing: 404, API and page alike.
	wantError(t, "member → loner", member.Get(fmt.Sprintf("/api/v1/users/%d", loner.ID)), http.StatusNotFound, "not_found")
	if r := member.Get(fmt.Sprintf("/u/%d", loner.ID)); r.Status != http.StatusNotFound {
		t.Errorf("profile page of an invisible user = %d", r.Status)
	}
	lonerC := env.Login(loner)
	wantError(t, "loner → member", lonerC.Get(fmt.Sprintf("/api/v1/users/%d", w.member.ID)), http.StatusNotFound, "not_found")
	wantStatus(t, "loner → self", lonerC.Get(fmt.Sprintf("/api/v1/users/%d", loner.ID)), http.StatusOK)
	wantError(t, "unknown id", member.Get("/api/v1/users/999999999"), http.StatusNotFound, "not_found")
	// Staff see everyone and every post.
	r, p = getProfile(t, staff, w.outsider.ID)
	wantStatus(t, "staff → outsider", r, http.StatusOK)
	if ids := profilePostIDs(p); !ids[ownPosts[0]] || !ids[commonPosts[0]] {
		t.Errorf("staff sees %v", ids)
	}
	wantStatus(t, "staff → loner", staff.Get(fmt.Sprintf("/api/v1/users/%d", loner.ID)), http.StatusOK)
	// Admins keep their account view, with the profile's parts.
	admin := env.Login(env.NewUser(model.RoleAdmin))
	r = admin.Get(fmt.Sprintf("/api/v1/users/%d", w.outsider.ID))
	wantStatus(t, "admin → outsider", r, http.StatusOK)
	var ad struct {
		Email          string `json:"email"`
		ActiveSessions *int   `json:"active_sessions"`
		RecentPosts    []any  `json:"recent_posts"`
	}
	r.Decode(&ad)
	if ad.Email != w.outsider.Email || ad.ActiveSessions == nil || len(ad.RecentPosts) != 2 {
		t.Errorf("admin view: %s", r.Body)
	}
	wantStatus(t, "anonymous", env.Anonymous().JSON("GET", fmt.Sprintf("/api/v1/users/%d", w.member.ID), nil), http.StatusUnauthorized)

	// The page: name, shared group, the post link; nothing of another group.
	page := member.Get(fmt.Sprintf("/u/%d", w.outsider.ID))
	wantStatus(t, "profile page", page, http.StatusOK)
	if s := page.String(); !strings.Contains(s, w.outsider.Name) || !strings.Contains(s, fmt.Sprintf("/p/%d", commonPosts[0])) ||
		strings.Contains(s, fmt.Sprintf("/p/%d", ownPosts[0])) {
		t.Error("profile page shows the wrong posts")
	}
	// Names in threads lead to profiles.
	th := member.Get(fmt.Sprintf("/p/%d", groupPosts[0]))
	if th.Status == http.StatusFound || th.Status == http.StatusSeeOther || th.Status == http.StatusMovedPermanently {
		th = member.Get(th.Header.Get("Location"))
	}
	if !strings.Contains(th.String(), fmt.Sprintf(`href="/u/%d"`, w.moderator.ID)) {
		t.Error("the thread page does not link the author's name to the profile")
	}
}

// readZip opens an export and returns its entries by name.
func readZip(t *testing.T, body []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("export is not a ZIP: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

// The export holds the person's data — profile, memberships, posts with
// revisions, notes, chat, files with their content, attendance, notifications —
// and nobody else's.
func TestExportMyData(t *testing.T) {
	w := newForumWorld(t)
	env := w.env
	me, other := env.Login(w.member), env.Login(w.moderator)
	secret := "tajemnica-" + uuid.NewString()

	// A thread by someone else, my reply and my edit of it, their reply to me.
	tid, first := env.NewThread(w.group.ID, w.moderator.ID, 1)
	r := me.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tid), map[string]any{"body": "Mój wpis pierwszy", "reply_to": first[0]})
	wantStatus(t, "my post", r, http.StatusCreated)
	var mine postJSON
	r.Decode(&mine)
	wantStatus(t, "edit", me.JSON("PATCH", fmt.Sprintf("/api/v1/posts/%d", mine.ID), map[string]any{"body": "Mój wpis poprawiony", "version": 1}), http.StatusOK)
	wantStatus(t, "their reply", other.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", tid),
		map[string]any{"body": secret, "reply_to": mine.ID}), http.StatusCreated)

	// A live meeting: my chat message and theirs, my note, my file, my answer.
	m := createMeeting(t, other, w.group.ID)
	wantStatus(t, "answer", me.JSON("PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", m.ID), map[string]string{"answer": "yes"}), http.StatusOK)
	wantStatus(t, "start", other.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil), http.StatusOK)
	wantStatus(t, "my chat", send(me, m.ID, uuid.NewString(), "Moja wiadomość na czacie"), http.StatusCreated)
	wantStatus(t, "their chat", send(other, m.ID, uuid.NewString(), secret), http.StatusCreated)
	createNote(t, me, m.ID, "Moja notatka", "Treść mojej notatki")
	createNote(t, other, m.ID, "Ich notatka", secret)
	pdf := samplePDF()
	upload(t, me, m.ID, "Mój plik.pdf", pdf)
	upload(t, other, m.ID, "Ich plik.pdf", append(samplePDF(), []byte(secret)...))

	// What the forum keeps about how I read: a watched thread, a mail
	// preference, and a mail addressed to me (its kind and subject only).
	wantStatus(t, "watch", me.JSON("PUT", fmt.Sprintf("/api/v1/threads/%d/watch", tid), nil), http.StatusOK)
	for _, q := range []string{
		`INSERT INTO mail_prefs (user_id, kind, mode) VALUES ($1, 'newsletter', 'never')`,
		`INSERT INTO mails (to_addr, user_id, kind, lang, subject, body_text, body_html, message_id)
		 VALUES ((SELECT email FROM users WHERE id = $1), $1, 'reply', 'pl', 'Temat mojej poczty', 'treść', '<p>treść</p>', 'mid-' || $1)`,
	} {
		if _, err := env.DB.Exec(q, w.member.ID); err != nil {
			t.Fatal(err)
		}
	}

	r = me.Get("/api/v1/me/export")
	wantStatus(t, "export", r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition %q", cd)
	}
	files := readZip(t, r.Body)
	for _, name := range []string{"README.txt", "profile.json", "memberships.json", "posts.json", "notes.json", "chat_messages.json",
		"files.json", "attendance.json", "notifications.json", "threads.json", "watches.json", "mail_prefs.json", "mails.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("export lacks %s", name)
		}
	}
	for name, b := range files {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("export's %s holds someone else's words", name)
		}
		if strings.HasSuffix(name, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON: %s", name, b)
		}
		if bytes.Contains(b, []byte(w.moderator.Email)) {
			t.Errorf("%s names another person's e-mail", name)
		}
	}
	var profile struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal(files["profile.json"], &profile); err != nil || profile.ID != w.member.ID || profile.Email != w.member.Email {
		t.Errorf("profile.json = %s (%v)", files["profile.json"], err)
	}
	var posts []struct {
		ID        int64 `json:"id"`
		Body      string
		Revisions []struct{ Body string }
	}
	if err := json.Unmarshal(files["posts.json"], &posts); err != nil || len(posts) != 1 || posts[0].ID != mine.ID ||
		posts[0].Body != "Mój wpis poprawiony" || len(posts[0].Revisions) != 2 || posts[0].Revisions[0].Body != "Mój wpis pierwszy" {
		t.Errorf("posts.json = %s (%v)", files["posts.json"], err)
	}
	for name, want := range map[string]string{"chat_messages.json": "Moja wiadomość na czacie", "notes.json": "Treść mojej notatki",
		"memberships.json": fmt.Sprint(w.group.ID), "attendance.json": `"yes"`, "files.json": "Mój plik.pdf",
		"mail_prefs.json": `"newsletter"`, "mails.json": "Temat mojej poczty"} {
		if !bytes.Contains(files[name], []byte(want)) {
			t.Errorf("%s lacks %q: %s", name, want, files[name])
		}
	}
	var found bool
	for name, b := range files {
		if strings.HasPrefix(name, "files/") {
			if !bytes.Equal(b, pdf) {
				t.Errorf("%s differs from the uploaded file", name)
			}
			found = true
		}
	}
	if !found {
		t.Error("export holds no file content")
	}
	var watches []struct {
		ThreadID *int64 `json:"thread_id"`
		State    string
	}
	if err := json.Unmarshal(files["watches.json"], &watches); err != nil || len(watches) != 1 || watches[0].ThreadID == nil ||
		*watches[0].ThreadID != tid || watches[0].State != "watch" {
		t.Errorf("watches.json = %s (%v)", files["watches.json"], err)
	}
	// The notification of their reply to me is mine.
	var notes []struct{ Kind string }
	if err := json.Unmarshal(files["notifications.json"], &notes); err != nil || len(notes) == 0 || notes[0].Kind != "reply" {
		t.Errorf("notifications.json = %s", files["notifications.json"])
	}
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'account.export' AND actor_id = $1`, w.member.ID); n != 1 {
		t.Errorf("%d audit entries for the export", n)
	}
	wantStatus(t, "anonymous export", env.Anonymous().JSON("GET", "/api/v1/me/export", nil), http.StatusUnauthorized)
	// The page offers it.
	if !strings.Contains(me.Get("/konto").String(), `href="/api/v1/me/export"`) {
		t.Error("/konto has no export button")
	}
}

// Deleting one's account: the password first, then the account is
// anonymised, every session and socket ends, and the discussions stay.
func TestDeleteAccount(t *testing.T) {
	w := newForumWorld(t)
	env := w.env
	u := w.member
	tid, posts := env.NewThread(w.group.ID, u.ID, 1)
	a, b := env.Login(u), env.Login(u)
	bWS := b.DialWS()
	// A second factor, enabled after these logins: it must go too.
	for _, q := range []string{`INSERT INTO two_factor (user_id, secret) VALUES ($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')`,
		`INSERT INTO two_factor_recovery_codes (user_id, code_hash) VALUES ($1, '\x00')`} {
		if _, err := env.DB.Exec(q, u.ID); err != nil {
			t.Fatal(err)
		}
	}

	// Mail waiting for them, a preference and a watch: none may outlive the
	// account (a queued mail would still go to the old address).
	wantStatus(t, "watch", a.JSON("PUT", fmt.Sprintf("/api/v1/threads/%d/watch", tid), nil), http.StatusOK)
	for _, q := range []string{
		`INSERT INTO mail_prefs (user_id, kind, mode) VALUES ($1, 'newsletter', 'never')`,
		`INSERT INTO group_watches (user_id, group_id, state) SELECT $1, group_id, 'watch' FROM memberships WHERE user_id = $1`,
		`INSERT INTO mails (to_addr, user_id, kind, lang, subject, body_text, body_html, message_id)
		 VALUES ((SELECT email FROM users WHERE id = $1), $1, 'reply', 'pl', 'Czeka', 'treść', '<p>treść</p>', 'mid-del-' || $1)`,
		`INSERT INTO mails (to_addr, kind, lang, subject, body_text, body_html, message_id)
		 VALUES (upper((SELECT email FROM users WHERE id = $1)), 'invitation', 'pl', 'Zaproszenie', 'treść', '<p>treść</p>', 'mid-inv-' || $1)`,
		`INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ('\x01', $1, now() + interval '1 hour')`,
	} {
		if _, err := env.DB.Exec(q, u.ID); err != nil {
			t.Fatal(q, err)
		}
	}

	wantDetails(t, "no password", a.JSON("POST", "/api/v1/me/delete", map[string]string{}), "password")
	wantDetails(t, "wrong password", a.JSON("POST", "/api/v1/me/delete", map[string]string{"password": "nie-moje-haslo"}), "password")
	wantStatus(t, "still there", b.Get("/api/v1/me"), http.StatusOK)

	r := a.JSON("POST", "/api/v1/me/delete", map[string]string{"password": u.Password})
	wantStatus(t, "delete", r, http.StatusNoContent)
	wantStatus(t, "a after", a.Get("/api/v1/me"), http.StatusUnauthorized)
	wantStatus(t, "b after", b.Get("/api/v1/me"), http.StatusUnauthorized)
	wsEnded(t, "b's socket", bWS)

	var row struct {
		Email, Name, JobTitle string
		JST                   *int64
		Disabled              bool
		Deleted               *time.Time
	}
	if err := env.DB.Get(&row, `SELECT email, display_name AS name, job_title AS jobtitle, jst_id AS jst, disabled, deleted_at AS deleted
		FROM users WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if row.Name != "Były uczestnik" || row.JobTitle != "" || row.JST != nil || !row.Disabled || row.Deleted == nil ||
		strings.Contains(row.Email, u.Email) || !strings.HasSuffix(row.Email, ".invalid") {
		t.Errorf("anonymised row: %+v", row)
	}
	for _, q := range []string{`SELECT count(*) FROM sessions WHERE user_id = $1`, `SELECT count(*) FROM memberships WHERE user_id = $1`,
		`SELECT count(*) FROM two_factor WHERE user_id = $1`, `SELECT count(*) FROM two_factor_recovery_codes WHERE user_id = $1`,
		`SELECT count(*) FROM mails WHERE user_id = $1 OR lower(to_addr) = lower('` + u.Email + `')`, `SELECT count(*) FROM mail_prefs WHERE user_id = $1`,
		`SELECT count(*) FROM thread_watches WHERE user_id = $1`, `SELECT count(*) FROM group_watches WHERE user_id = $1`,
		`SELECT count(*) FROM password_resets WHERE user_id = $1`, `SELECT count(*) FROM mail_digests WHERE user_id = $1`} {
		if n := countRows(t, env, q, u.ID); n != 0 {
			t.Errorf("%s = %d", q, n)
		}
	}
	if r := env.Anonymous().JSON("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}); r.Status != http.StatusUnauthorized {
		t.Errorf("login after deletion = %d", r.Status)
	}
	// The discussion stays readable, signed by a former participant.
	page := env.Login(w.moderator).Get(fmt.Sprintf("/t/%d", tid))
	if !strings.Contains(page.String(), "Wpis numer 1") || !strings.Contains(page.String(), "Były uczestnik") || strings.Contains(page.String(), u.Name) {
		t.Error("the thread lost the post or still names its author")
	}
	r, p := getProfile(t, env.Login(w.moderator), u.ID)
	wantStatus(t, "former participant's profile", r, http.StatusOK)
	if !p.Former || len(p.Posts) != 1 || p.Posts[0].ID != posts[0] {
		t.Errorf("profile of a former participant: %+v", p)
	}
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'account.delete' AND actor_id = $1`, u.ID); n != 1 {
		t.Errorf("%d audit entries for the deletion", n)
	}
	// The same e-mail can be given to a new account.
	admin := env.Login(env.NewUser(model.RoleAdmin))
	wantStatus(t, "new account with the old address", admin.JSON("POST", "/api/v1/users",
		map[string]any{"email": u.Email, "name": "Nowa Osoba", "password": "dobre-haslo-2026"}), http.StatusCreated)
}

// The last administrator cannot delete their account; one of two can.
func TestDeleteAccountLastAdmin(t *testing.T) {
	env := testkit.Start(t, dbURL)
	// Tests share the database: make these two the only enabled admins.
	if _, err := env.DB.Exec(`UPDATE users SET disabled = true WHERE role = 'admin'`); err != nil {
		t.Fatal(err)
	}
	a1, a2 := env.NewUser(model.RoleAdmin), env.NewUser(model.RoleAdmin)
	c1, c2 := env.Login(a1), env.Login(a2)
	wantStatus(t, "first of two", c1.JSON("POST", "/api/v1/me/delete", map[string]string{"password": a1.Password}), http.StatusNoContent)
	wantError(t, "the last", c2.JSON("POST", "/api/v1/me/delete", map[string]string{"password": a2.Password}), http.StatusConflict, "last_admin")
	wantStatus(t, "the last is still there", c2.Get("/api/v1/me"), http.StatusOK)
	// The page says why.
	r := c2.Form("/konto/delete", url.Values{"password": {a2.Password}, "confirm": {"on"}})
	if r.Status != http.StatusConflict || !strings.Contains(r.String(), "jedynym administratorem") {
		t.Errorf("page for the last admin: %d", r.Status)
	}
}

// The deletion form needs the box ticked and the password.
func TestDeleteAccountPage(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	wantStatus(t, "page", c.Get("/konto/delete"), http.StatusOK)
	r := c.Form("/konto/delete", url.Values{"password": {u.Password}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), "Zaznacz pole") {
		t.Errorf("unticked: %d", r.Status)
	}
	r = c.Form("/konto/delete", url.Values{"password": {"złe-hasło-123"}, "confirm": {"on"}})
	wantStatus(t, "wrong password", r, http.StatusBadRequest)
	wantStatus(t, "still in", c.Get("/api/v1/me"), http.StatusOK)
	r = c.Form("/konto/delete", url.Values{"password": {u.Password}, "confirm": {"on"}})
	wantStatus(t, "delete", r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login" {
		t.Errorf("redirect to %q", loc)
	}
	wantStatus(t, "gone", c.Get("/api/v1/me"), http.StatusUnauthorized)
}

// The forms of /konto: profile, notifications, password with confirmation.
func TestAccountForms(t *testing.T) {
	env := testkit.Start(t, dbURL)
	u := env.NewUser(model.RoleMember)
	c := env.Login(u)
	wantStatus(t, "profile", c.Form("/konto/profile", url.Values{"name": {"Jan Kowalski"}, "position": {"skarbnik"}, "lang": {"pl"}}), http.StatusSeeOther)
	if me := getMe(t, c); me.Name != "Jan Kowalski" || me.Position != "skarbnik" {
		t.Errorf("after the profile form: %+v", me)
	}
	r := c.Form("/konto/profile", url.Values{"name": {"J"}, "position": {""}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), `aria-invalid="true"`) {
		t.Errorf("invalid name: %d", r.Status)
	}
	// Only the boxes ticked stay on.
	wantStatus(t, "notifications", c.Form("/konto/notifications", url.Values{"notify_mention": {"on"}}), http.StatusSeeOther)
	if me := getMe(t, c); me.Prefs.Notify["reply"] || !me.Prefs.Notify["mention"] || me.Prefs.Notify["meeting_started"] {
		t.Errorf("after the notifications form: %v", me.Prefs.Notify)
	}
	r = c.Form("/konto/password", url.Values{"current_password": {u.Password}, "new_password": {"nowe-dobre-haslo-7"}, "new_password_confirm": {"inne"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.String(), "f-new_password_confirm") {
		t.Errorf("mismatched confirmation: %d", r.Status)
	}
	wantStatus(t, "password", c.Form("/konto/password", url.Values{"current_password": {u.Password},
		"new_password": {"nowe-dobre-haslo-7"}, "new_password_confirm": {"nowe-dobre-haslo-7"}}), http.StatusSeeOther)
	wantStatus(t, "still in after own change", c.Get("/api/v1/me"), http.StatusOK)
}

// The programme's own work is in the export too: the practices one wrote,
// one's own tournament ballots (secret to others, not to oneself) and one's
// comments on training materials — and still nothing of anyone else's.
func TestExportHoldsProgrammeWork(t *testing.T) {
	w := newForumWorld(t)
	env := w.env
	me := w.member
	secret := "cudze-" + uuid.NewString()
	var jstID, practiceID, theirPractice, tournamentID, criterionID, entryID, reviewID, sectionID int64
	mustGet := func(dst *int64, q string, args ...any) {
		t.Helper()
		if err := env.DB.Get(dst, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustGet(&jstID, `INSERT INTO jst (name, kind, voivodeship) VALUES ('Gmina Eksportowa ' || $1, 'gmina_wiejska', 'mazowieckie') RETURNING id`, uuid.NewString())
	mustGet(&practiceID, `INSERT INTO practices (group_id, jst_id, author_id, title, status, problem) VALUES ($1, $2, $3, 'Moja praktyka dowozów', 'submitted', 'Mój opis problemu') RETURNING id`,
		w.group.ID, jstID, me.ID)
	mustGet(&theirPractice, `INSERT INTO practices (group_id, jst_id, author_id, title, status, problem) VALUES ($1, $2, $3, $4, 'published', $4) RETURNING id`,
		w.group.ID, jstID, w.moderator.ID, secret)
	mustGet(&tournamentID, `INSERT INTO tournaments (title, max_entries, voting_starts_at, voting_ends_at) VALUES ('Runda eksportowa', 2, now() - interval '1 day', now() + interval '1 day') RETURNING id`)
	mustGet(&criterionID, `INSERT INTO tournament_criteria (tournament_id, position, name, weight) VALUES ($1, 1, 'Skuteczność', 2) RETURNING id`, tournamentID)
	if _, err := env.DB.Exec(`INSERT INTO tournament_groups (tournament_id, group_id) VALUES ($1, $2)`, tournamentID, w.group.ID); err != nil {
		t.Fatal(err)
	}
	mustGet(&entryID, `INSERT INTO tournament_entries (tournament_id, group_id, practice_id) VALUES ($1, $2, $3) RETURNING id`, tournamentID, w.group.ID, theirPractice)
	for _, voter := range []int64{me.ID, w.moderator.ID} {
		score := map[int64]int{me.ID: 4, w.moderator.ID: 1}[voter]
		if _, err := env.DB.Exec(`INSERT INTO tournament_ballots (entry_id, voter_id) VALUES ($1, $2)`, entryID, voter); err != nil {
			t.Fatal(err)
		}
		if _, err := env.DB.Exec(`INSERT INTO tournament_scores (entry_id, voter_id, criterion_id, score) VALUES ($1, $2, $3, $4)`, entryID, voter, criterionID, score); err != nil {
			t.Fatal(err)
		}
	}
	mustGet(&reviewID, `INSERT INTO reviews (title, deadline, author_id) VALUES ('Moduł eksportowy', now() + interval '1 day', $1) RETURNING id`, w.moderator.ID)
	mustGet(&sectionID, `INSERT INTO review_sections (review_id, number, sort_key, title, body, body_html) VALUES ($1, '2.3', '{2,3}', 'Sekcja', 'x', '<p>x</p>') RETURNING id`, reviewID)
	for _, c := range []struct {
		author int64
		body   string
	}{{me.ID, "Mój komentarz do sekcji"}, {w.moderator.ID, secret}} {
		if _, err := env.DB.Exec(`INSERT INTO review_comments (section_id, author_id, rating, body, body_html) VALUES ($1, $2, 'unclear', $3, $3)`, sectionID, c.author, c.body); err != nil {
			t.Fatal(err)
		}
	}

	r := env.Login(me).Get("/api/v1/me/export")
	wantStatus(t, "export", r, http.StatusOK)
	files := readZip(t, r.Body)
	for name, want := range map[string]string{"practices.json": "Mój opis problemu", "tournament_ballots.json": "Skuteczność",
		"review_comments.json": "Mój komentarz do sekcji"} {
		if !bytes.Contains(files[name], []byte(want)) {
			t.Errorf("%s lacks %q: %s", name, want, files[name])
		}
		if !json.Valid(files[name]) {
			t.Errorf("%s is not valid JSON", name)
		}
	}
	var ballots []struct {
		Scores []struct{ Score int }
	}
	if err := json.Unmarshal(files["tournament_ballots.json"], &ballots); err != nil || len(ballots) != 1 || len(ballots[0].Scores) != 1 || ballots[0].Scores[0].Score != 4 {
		t.Errorf("tournament_ballots.json = %s (%v): want my one ballot, scored 4", files["tournament_ballots.json"], err)
	}
	for name, b := range files {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("export's %s holds someone else's words", name)
		}
	}
}
