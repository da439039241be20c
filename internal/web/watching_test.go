package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 12, items 3 and 4: mentions, watching and the notifications they cause.

type notifJSON struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	TargetType string     `json:"target_type"`
	TargetID   int64      `json:"target_id"`
	URL        string     `json:"url"`
	OpenURL    string     `json:"open_url"`
	ReadAt     *time.Time `json:"read_at"`
}

func notificationsOf(t *testing.T, c *testkit.Client) []notifJSON {
	t.Helper()
	r := c.Get("/api/v1/notifications?limit=200")
	wantStatus(t, "list notifications", r, http.StatusOK)
	var out struct{ Items []notifJSON }
	r.Decode(&out)
	return out.Items
}

// about returns the notifications of c about one target.
func about(t *testing.T, c *testkit.Client, targetType string, id int64) []notifJSON {
	t.Helper()
	var out []notifJSON
	for _, n := range notificationsOf(t, c) {
		if n.TargetType == targetType && n.TargetID == id {
			out = append(out, n)
		}
	}
	return out
}

// wantTold asserts that c has exactly one notification about post id, of kind
// (or none when kind is "").
func wantTold(t *testing.T, who string, c *testkit.Client, id int64, kind string) {
	t.Helper()
	got := about(t, c, "post", id)
	switch {
	case kind == "" && len(got) != 0:
		t.Errorf("%s was told of post %d: %+v", who, id, got)
	case kind != "" && (len(got) != 1 || got[0].Kind != kind):
		t.Errorf("%s: notifications of post %d = %+v, want one %q", who, id, got, kind)
	}
}

func post(t *testing.T, c *testkit.Client, threadID int64, body string, replyTo *int64) postJSON {
	t.Helper()
	in := map[string]any{"body": body}
	if replyTo != nil {
		in["reply_to"] = *replyTo
	}
	r := c.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), in)
	wantStatus(t, "post", r, http.StatusCreated)
	var p postJSON
	r.Decode(&p)
	return p
}

type watchWorld struct {
	env                     *testkit.Env
	group, other            model.Group
	ann, ben, obs, out, cat testkit.User
	annC, benC, obsC, outC  *testkit.Client
	catC                    *testkit.Client
}

// newWatchWorld: ann, ben and cat are members of group, obs observes it, out
// is a member of another group only.
func newWatchWorld(t *testing.T) *watchWorld {
	env := testkit.Start(t, dbURL)
	w := &watchWorld{env: env, group: env.NewGroup(model.KindRural), other: env.NewGroup(model.KindRural),
		ann: env.NewUser(model.RoleMember), ben: env.NewUser(model.RoleMember), obs: env.NewUser(model.RoleMember),
		out: env.NewUser(model.RoleMember), cat: env.NewUser(model.RoleMember)}
	for _, u := range []testkit.User{w.ann, w.ben, w.cat} {
		env.AddMember(u.ID, w.group.ID, model.GroupMember)
	}
	env.AddMember(w.obs.ID, w.group.ID, model.GroupObserver)
	env.AddMember(w.out.ID, w.other.ID, model.GroupMember)
	w.annC, w.benC, w.obsC, w.outC, w.catC = env.Login(w.ann), env.Login(w.ben), env.Login(w.obs), env.Login(w.out), env.Login(w.cat)
	return w
}

func (w *watchWorld) thread(t *testing.T, c *testkit.Client, body string) (threadID, postID int64) {
	t.Helper()
	r := c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/threads", w.group.ID), map[string]any{"title": "Wątek " + testkit.Unique(), "body": body})
	wantStatus(t, "new thread", r, http.StatusCreated)
	var out struct {
		ID        int64 `json:"id"`
		FirstPost struct {
			ID int64 `json:"id"`
		} `json:"first_post"`
	}
	r.Decode(&out)
	if out.FirstPost.ID == 0 {
		t.Fatalf("new thread answer has no first post: %s", r.Body)
	}
	return out.ID, out.FirstPost.ID
}

func TestMentionsReachReadersOnly(t *testing.T) {
	w := newWatchWorld(t)
	tid, _ := w.thread(t, w.catC, "Początek rozmowy.")
	body := fmt.Sprintf("Pytanie do @%s, @%s i @%s (oraz do siebie: @%s). `@%s` w kodzie to nie wzmianka.",
		w.ben.Name, w.obs.Name, w.out.Name, w.ann.Name, w.cat.Name)
	p := post(t, w.annC, tid, body, nil)

	// A mention is a plain link to the person, for readers of the place only.
	for _, u := range []testkit.User{w.ben, w.obs} {
		if link := fmt.Sprintf(`<a href="/u/%d" rel="nofollow ugc noopener">@%s</a>`, u.ID, u.Name); !strings.Contains(p.BodyHTML, link) {
			t.Errorf("post lacks the link %s: %s", link, p.BodyHTML)
		}
	}
	if strings.Contains(p.BodyHTML, fmt.Sprintf("/u/%d", w.out.ID)) {
		t.Errorf("someone who cannot read the group was linked: %s", p.BodyHTML)
	}
	wantTold(t, "ben (member, mentioned)", w.benC, p.ID, "mention")
	wantTold(t, "obs (observer, mentioned: observers read)", w.obsC, p.ID, "mention")
	wantTold(t, "out (other group, mentioned)", w.outC, p.ID, "")
	wantTold(t, "ann (mentions herself)", w.annC, p.ID, "")
	// cat is the thread's author (a reply); the mention in code does not count.
	wantTold(t, "cat (thread author, in code only)", w.catC, p.ID, "reply")

	// Being mentioned makes ben watch the thread: cat's next post reaches him.
	p2 := post(t, w.catC, tid, "Dalszy ciąg bez wzmianek.", nil)
	wantTold(t, "ben (watching since mentioned)", w.benC, p2.ID, "watched_thread")
	wantTold(t, "ann (watching since she posted)", w.annC, p2.ID, "watched_thread")
	wantTold(t, "cat (wrote it)", w.catC, p2.ID, "")

	// The notification's link marks it read and leads to the post; someone
	// else's notification is not found.
	n := about(t, w.benC, "post", p.ID)[0]
	if n.OpenURL != fmt.Sprintf("/notifications/%d", n.ID) || n.URL != fmt.Sprintf("/p/%d", p.ID) {
		t.Fatalf("notification links: %+v", n)
	}
	if r := w.annC.Get(n.OpenURL); r.Status != http.StatusNotFound {
		t.Errorf("another user opens ben's notification: %d, want 404", r.Status)
	}
	if about(t, w.benC, "post", p.ID)[0].ReadAt != nil {
		t.Error("ben's notification was marked read by someone else")
	}
	r := w.benC.Get(n.OpenURL)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != n.URL {
		t.Errorf("open notification: %d → %q, want 303 → %s", r.Status, r.Header.Get("Location"), n.URL)
	}
	if about(t, w.benC, "post", p.ID)[0].ReadAt == nil {
		t.Error("opening the notification did not mark it read")
	}
	page := w.benC.Get("/notifications").String()
	if !strings.Contains(page, fmt.Sprintf(`href="/notifications/%d"`, n.ID)) {
		t.Error("the notifications page does not link through the marking route")
	}
}

func TestOneNotificationPerPostWhateverTheReasons(t *testing.T) {
	w := newWatchWorld(t)
	tid, first := w.thread(t, w.annC, "Mój wpis.")
	// ben replies to ann's post, quotes it and mentions her, while she
	// watches the thread (she opened it) and the group.
	wantStatus(t, "watch group", w.annC.JSON("PUT", fmt.Sprintf("/api/v1/groups/%d/watch", w.group.ID), nil), http.StatusOK)
	body := fmt.Sprintf("> **%s** [(#1)](/p/%d):\n> Mój wpis.\n\nZgadzam się, @%s.", w.ann.Name, first, w.ann.Name)
	p := post(t, w.benC, tid, body, &first)
	if got := about(t, w.annC, "post", p.ID); len(got) != 1 || got[0].Kind != "mention" {
		t.Errorf("ann: %+v, want exactly one notification, a mention", got)
	}
	// Quoted without a mention: a quote.
	p2 := post(t, w.benC, tid, fmt.Sprintf("> **%s** [(#1)](/p/%d):\n> Mój wpis.\n\nJeszcze raz.", w.ann.Name, first), nil)
	wantTold(t, "ann (quoted, also thread author and watcher)", w.annC, p2.ID, "quote")
	// Editing the post to mention her again tells her nothing new; a newly
	// mentioned cat hears of it once.
	r := w.benC.JSON("PATCH", fmt.Sprintf("/api/v1/posts/%d", p.ID), map[string]any{"body": body + " Także @" + w.cat.Name + ".", "version": 1})
	wantStatus(t, "edit", r, http.StatusOK)
	if got := about(t, w.annC, "post", p.ID); len(got) != 1 {
		t.Errorf("ann after the edit: %+v, want still one", got)
	}
	wantTold(t, "cat (mentioned by an edit)", w.catC, p.ID, "mention")
}

func TestWatchingAndMuting(t *testing.T) {
	w := newWatchWorld(t)
	groupWatch := fmt.Sprintf("/api/v1/groups/%d/watch", w.group.ID)

	// Watching a group: every new thread and post in it.
	r := w.catC.JSON("PUT", groupWatch, nil)
	wantStatus(t, "watch group", r, http.StatusOK)
	if !strings.Contains(r.String(), `"state":"watch"`) {
		t.Errorf("watch answer: %s", r.Body)
	}
	tid, first := w.thread(t, w.annC, "Nowy wątek.")
	wantTold(t, "cat (watches the group): new thread", w.catC, first, "watched_thread")
	if page := w.catC.Get(fmt.Sprintf("/t/%d", tid)).String(); !strings.Contains(page, "Obserwujesz całą grupę") {
		t.Error("the thread page of a group watcher does not say the thread is watched through the group")
	}
	p := post(t, w.annC, tid, "Odpowiedź.", nil)
	wantTold(t, "cat (watches the group): new post", w.catC, p.ID, "watched_thread")
	wantTold(t, "ben (watches nothing)", w.benC, p.ID, "")

	// Muting the thread silences it despite the group; posting there does
	// not undo the mute.
	threadWatch := fmt.Sprintf("/api/v1/threads/%d/watch", tid)
	wantStatus(t, "mute thread", w.catC.JSON("PUT", threadWatch, map[string]any{"state": "mute"}), http.StatusOK)
	post(t, w.catC, tid, "Piszę, choć wyciszyłam.", nil)
	p = post(t, w.annC, tid, "Kolejna odpowiedź.", nil)
	wantTold(t, "cat (muted the thread, posted since)", w.catC, p.ID, "")
	// …but what addresses her still reaches her.
	p = post(t, w.annC, tid, "Pytanie do @"+w.cat.Name+".", nil)
	wantTold(t, "cat (muted, mentioned)", w.catC, p.ID, "mention")

	// DELETE goes back to the default: the group's watch applies again.
	wantStatus(t, "unmute", w.catC.JSON("DELETE", threadWatch, nil), http.StatusNoContent)
	p = post(t, w.annC, tid, "I jeszcze.", nil)
	wantTold(t, "cat (thread back to default, group watched)", w.catC, p.ID, "watched_thread")
	wantStatus(t, "unwatch group", w.catC.JSON("DELETE", groupWatch, nil), http.StatusNoContent)

	// The thread's author hears of replies unless she mutes her thread.
	wantStatus(t, "ann mutes", w.annC.JSON("PUT", threadWatch, map[string]any{"state": "mute"}), http.StatusOK)
	p = post(t, w.benC, tid, "Odpowiedź w wyciszonym wątku.", nil)
	wantTold(t, "ann (author, muted)", w.annC, p.ID, "")
	p = post(t, w.benC, tid, "Bezpośrednio do Ciebie.", &first)
	wantTold(t, "ann (author, muted, replied to directly)", w.annC, p.ID, "reply")

	// Watching needs reading: another group's thread is not found; the
	// observer may watch; a PUT state must be watch or mute.
	wantError(t, "outsider watches", w.outC.JSON("PUT", threadWatch, nil), http.StatusNotFound, "not_found")
	wantError(t, "outsider watches group", w.outC.JSON("PUT", groupWatch, nil), http.StatusNotFound, "not_found")
	wantStatus(t, "observer watches", w.obsC.JSON("PUT", threadWatch, nil), http.StatusOK)
	wantDetails(t, "bad state", w.obsC.JSON("PUT", threadWatch, map[string]any{"state": "none"}), "state")
	wantError(t, "unknown field", w.obsC.JSON("PUT", threadWatch, map[string]any{"stan": "watch"}), http.StatusBadRequest, "bad_request")
	p = post(t, w.benC, tid, "Dla obserwatora.", nil)
	wantTold(t, "obs (observer, watching)", w.obsC, p.ID, "watched_thread")

	// The buttons work without JavaScript: a plain form, then the page says so.
	page := w.benC.Get(fmt.Sprintf("/t/%d", tid)).String()
	if !strings.Contains(page, fmt.Sprintf(`action="/t/%d/watch"`, tid)) {
		t.Fatal("thread page lacks the watch form")
	}
	r = w.benC.Form(fmt.Sprintf("/t/%d/watch", tid), map[string][]string{"state": {"mute"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("watch form: %d %s", r.Status, r.Body)
	}
	if page := w.benC.Get(fmt.Sprintf("/t/%d", tid)).String(); !strings.Contains(page, `value="watch"`) || strings.Contains(page, `name="state" value="mute"`) {
		t.Error("after muting, the page should offer watching and stop offering muting")
	}
	r = w.benC.Form(fmt.Sprintf("/g/%d/watch", w.group.ID), map[string][]string{"state": {"watch"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("group watch form: %d %s", r.Status, r.Body)
	}
	if page := w.benC.Get(fmt.Sprintf("/g/%d", w.group.ID)).String(); !strings.Contains(page, `name="state" value="none"`) {
		t.Error("after watching, the group page should offer to stop")
	}
}

func TestGroupPageCountsUnreadPerThread(t *testing.T) {
	w := newWatchWorld(t)
	tid, _ := w.thread(t, w.annC, "Pierwszy.")
	w.benC.Get(fmt.Sprintf("/t/%d", tid)) // ben has read it all
	for i := 0; i < 3; i++ {
		post(t, w.annC, tid, fmt.Sprintf("Nowy %d.", i), nil)
	}
	page := w.benC.Get(fmt.Sprintf("/g/%d", w.group.ID)).String()
	if !strings.Contains(page, fmt.Sprintf(`<a class="badge" href="/t/%d#unread">3 nowe wpisy</a>`, tid)) {
		t.Errorf("group page lacks \"3 nowe wpisy\" for the thread: %s", excerpt(page, "thread-item", 600))
	}
}

func TestPeopleForMentionCompletion(t *testing.T) {
	w := newWatchWorld(t)
	people := func(c *testkit.Client, groupID int64, q string) *testkit.Response {
		return c.Get(fmt.Sprintf("/api/v1/groups/%d/people?q=%s", groupID, q))
	}
	// "Użytkownik <digits>": the second word of ben's name, then the whole name.
	suffix := strings.TrimPrefix(w.ben.Name, "Użytkownik ")
	for _, q := range []string{suffix, strings.ReplaceAll(strings.ToLower(w.ben.Name), " ", "%20")} {
		r := people(w.annC, w.group.ID, q)
		wantStatus(t, "people "+q, r, http.StatusOK)
		var out struct {
			Items []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			}
		}
		r.Decode(&out)
		if len(out.Items) != 1 || out.Items[0].ID != w.ben.ID || out.Items[0].Name != w.ben.Name {
			t.Errorf("people %q = %+v, want ben only", q, out.Items)
		}
	}
	// Someone of another group is never offered, and cannot ask.
	if r := people(w.annC, w.group.ID, strings.TrimPrefix(w.out.Name, "Użytkownik ")); !strings.Contains(r.String(), `"items":[]`) {
		t.Errorf("a non-reader was offered: %s", r.Body)
	}
	wantError(t, "outsider asks", people(w.outC, w.group.ID, "U"), http.StatusNotFound, "not_found")
	wantDetails(t, "empty q", people(w.annC, w.group.ID, ""), "q")
	// Capped and limited: at most 8 people; past 60 lookups a minute, 429.
	r := people(w.annC, w.group.ID, "u")
	var out struct{ Items []any }
	r.Decode(&out)
	if len(out.Items) > 8 {
		t.Errorf("%d people offered, want at most 8", len(out.Items))
	}
	limited := false
	for i := 0; i < 70 && !limited; i++ {
		limited = people(w.catC, w.group.ID, "u").Status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("70 lookups in a row were never limited")
	}
}

func TestMeetingReminderOnceAcrossInstances(t *testing.T) {
	w := newWatchWorld(t)
	second := testkit.Start(t, dbURL) // another serve instance on the same database
	staff := w.env.NewUser(model.RoleStaff)
	staffC := w.env.Login(staff)
	start := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)
	r := staffC.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{
		"title": "Sesja " + testkit.Unique(), "starts_at": start, "ends_at": start.Add(2 * time.Hour)})
	wantStatus(t, "meeting", r, http.StatusCreated)
	var m struct {
		ID int64 `json:"id"`
	}
	r.Decode(&m)
	later := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Second)
	r = staffC.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{
		"title": "Później " + testkit.Unique(), "starts_at": later, "ends_at": later.Add(time.Hour)})
	wantStatus(t, "later meeting", r, http.StatusCreated)

	// Both instances run the job at once, several times.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := 0; i < 6; i++ {
		env := w.env
		if i%2 == 1 {
			env = second
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := env.App.Meetings.SendReminders(t.Context())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	// At most once: the housekeeping of any test server sharing this
	// database may have claimed it first (every minute); either way each
	// person below has exactly one reminder.
	if total > 1 {
		t.Errorf("reminded of %d meetings in all, want at most 1 (the one starting in 10 minutes, once)", total)
	}
	for _, c := range []*testkit.Client{w.annC, w.benC, w.obsC} {
		reminders := 0
		for _, n := range notificationsOf(t, c) {
			if n.Kind == "meeting_reminder" {
				reminders++
				if n.TargetID != m.ID || n.URL != fmt.Sprintf("/m/%d", m.ID) {
					t.Errorf("reminder of the wrong meeting: %+v", n)
				}
			}
		}
		if reminders != 1 {
			t.Errorf("%d reminders, want 1", reminders)
		}
	}
	if n := about(t, w.outC, "meeting", m.ID); len(n) != 0 {
		t.Errorf("another group's member was reminded: %+v", n)
	}
}

func TestChatMentionsAndNoteForAttendees(t *testing.T) {
	w := newWatchWorld(t)
	mod := w.env.NewUser(model.RoleMember)
	w.env.AddMember(mod.ID, w.group.ID, model.GroupModerator)
	modC := w.env.Login(mod)
	m := createMeeting(t, modC, w.group.ID)
	wantStatus(t, "ben will come", w.benC.JSON("PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", m.ID), map[string]any{"answer": "yes"}), http.StatusOK)
	wantStatus(t, "start", modC.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil), http.StatusOK)

	r := send(w.annC, m.ID, "6f1f6a5e-3c1b-4a43-9d55-0c1e8d3b2a11", fmt.Sprintf("@%s, zobacz to. @%s też.", w.cat.Name, w.out.Name))
	wantStatus(t, "chat", r, http.StatusCreated)
	var msg struct {
		ID       int64  `json:"id"`
		BodyHTML string `json:"body_html"`
	}
	r.Decode(&msg)
	if !strings.Contains(msg.BodyHTML, fmt.Sprintf(`href="/u/%d"`, w.cat.ID)) || strings.Contains(msg.BodyHTML, fmt.Sprintf(`/u/%d`, w.out.ID)) {
		t.Errorf("chat message links: %s", msg.BodyHTML)
	}
	if got := about(t, w.catC, "message", msg.ID); len(got) != 1 || got[0].Kind != "mention" || got[0].URL != fmt.Sprintf("/m/%d", m.ID) {
		t.Errorf("cat's chat mention: %+v", got)
	}
	if got := about(t, w.outC, "message", msg.ID); len(got) != 0 {
		t.Errorf("a non-reader was told of a chat message: %+v", got)
	}

	// A note on the meeting reaches who said they would come (ben), once
	// even though it also mentions him; cat, only mentioned, gets a mention.
	r = w.annC.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", m.ID), map[string]any{"title": "Notatka z sesji",
		"body": fmt.Sprintf("Ustalenia. @%s i @%s – proszę o uwagi.", w.ben.Name, w.cat.Name)})
	wantStatus(t, "note", r, http.StatusCreated)
	var note struct {
		ID int64 `json:"id"`
	}
	r.Decode(&note)
	if got := about(t, w.benC, "note", note.ID); len(got) != 1 || got[0].Kind != "mention" || got[0].URL != fmt.Sprintf("/n/%d", note.ID) {
		t.Errorf("ben (attendee, mentioned): %+v, want one mention", got)
	}
	if got := about(t, w.catC, "note", note.ID); len(got) != 1 || got[0].Kind != "mention" {
		t.Errorf("cat (mentioned): %+v", got)
	}
	r = w.catC.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", m.ID), map[string]any{"title": "Druga notatka", "body": "Bez wzmianek."})
	wantStatus(t, "second note", r, http.StatusCreated)
	r.Decode(&note)
	if got := about(t, w.benC, "note", note.ID); len(got) != 1 || got[0].Kind != "note_added" {
		t.Errorf("ben (attendee): %+v, want note_added", got)
	}
	if got := about(t, w.annC, "note", note.ID); len(got) != 0 {
		t.Errorf("ann did not attend: %+v", got)
	}
}

// In a hidden thread only its moderators (and staff) read: a member named
// there is neither linked nor told, nor offered by a later edit.
func TestMentionInHiddenThreadReachesModeratorsOnly(t *testing.T) {
	w := newWatchWorld(t)
	mod := w.env.NewUser(model.RoleMember)
	w.env.AddMember(mod.ID, w.group.ID, model.GroupModerator)
	other := w.env.NewUser(model.RoleMember)
	w.env.AddMember(other.ID, w.group.ID, model.GroupModerator)
	modC, otherC := w.env.Login(mod), w.env.Login(other)
	tid, _ := w.thread(t, w.annC, "Wątek do ukrycia.")
	wantStatus(t, "hide", modC.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/hide", tid), map[string]any{"reason": "porządki"}), http.StatusOK)
	p := post(t, modC, tid, fmt.Sprintf("Uwaga @%s oraz @%s.", w.ben.Name, other.Name), nil)
	if strings.Contains(p.BodyHTML, fmt.Sprintf("/u/%d", w.ben.ID)) || !strings.Contains(p.BodyHTML, fmt.Sprintf("/u/%d", other.ID)) {
		t.Errorf("hidden thread's links: %s", p.BodyHTML)
	}
	wantTold(t, "ben (member, hidden thread)", w.benC, p.ID, "")
	wantTold(t, "ann (thread author, hidden thread)", w.annC, p.ID, "")
	wantTold(t, "other moderator", otherC, p.ID, "mention")
}
