package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/json"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/config"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type meetingJSON struct {
	ID         int64  `json:"id"`
	GroupID    int64  `json:"group_id"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	LastSeq    int64  `json:"last_seq"`
	AgendaHTML string `json:"agenda_html"`
}

type chatJSON struct {
	ID       int64  `json:"id"`
	Seq      int64  `json:"seq"`
	ClientID string `json:"client_id"`
	Body     string `json:"body"`
	BodyHTML string `json:"body_html"`
	Author   struct {
		ID   int64
		Name string
	}
}

func createMeeting(t *testing.T, c *testkit.Client, groupID int64) meetingJSON {
	t.Helper()
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	r := c.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", groupID), map[string]any{
		"title": "Sesja 5: Monitorowanie jakości", "starts_at": start, "ends_at": start.Add(29 * time.Hour),
		"location": "Urząd Gminy Lubicz", "agenda": "**Dzień 1**\n\n- powitanie"})
	if r.Status != http.StatusCreated {
		t.Fatalf("create meeting: %d %s", r.Status, r.Body)
	}
	var m meetingJSON
	r.Decode(&m)
	return m
}

func send(c *testkit.Client, meetingID int64, clientID, body string) *testkit.Response {
	return c.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/messages", meetingID), map[string]any{"client_id": clientID, "body": body})
}

func TestMeetingLifecycleAndPermissions(t *testing.T) {
	w := newForumWorld(t)
	mod, member, observer, outsider := w.env.Login(w.moderator), w.env.Login(w.member), w.env.Login(w.observer), w.env.Login(w.outsider)
	m := createMeeting(t, mod, w.group.ID)
	if m.Status != "scheduled" || !strings.Contains(m.AgendaHTML, "<strong>Dzień 1</strong>") {
		t.Errorf("created meeting = %+v", m)
	}
	if r := member.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{"title": "abc"}); r.Status != http.StatusForbidden {
		t.Errorf("member creates a meeting: %d, want 403", r.Status)
	}
	for _, p := range []string{fmt.Sprintf("/api/v1/meetings/%d", m.ID), fmt.Sprintf("/m/%d", m.ID), fmt.Sprintf("/api/v1/meetings/%d/messages", m.ID)} {
		if r := outsider.Get(p); r.Status != http.StatusNotFound {
			t.Errorf("outsider GET %s = %d, want 404", p, r.Status)
		}
	}
	start := time.Now().Add(48 * time.Hour).UTC()
	if r := mod.JSON("POST", fmt.Sprintf("/api/v1/groups/%d/meetings", w.group.ID), map[string]any{"title": "Zła data", "starts_at": start, "ends_at": start.Add(-time.Hour)}); r.Status != http.StatusBadRequest {
		t.Errorf("meeting ending before it starts: %d, want 400", r.Status)
	}

	// Chat opens only while the meeting is live.
	if r := send(member, m.ID, uuid.NewString(), "za wcześnie"); r.Status != http.StatusForbidden || r.ErrorCode() != "meeting_not_live" {
		t.Errorf("send before start: %d %s", r.Status, r.Body)
	}
	if r := member.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil); r.Status != http.StatusForbidden {
		t.Errorf("member starts the meeting: %d, want 403", r.Status)
	}
	if r := mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/end", m.ID), nil); r.Status != http.StatusConflict {
		t.Errorf("ending a scheduled meeting: %d, want 409", r.Status)
	}
	var started meetingJSON
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil).Decode(&started)
	if started.Status != "live" {
		t.Fatalf("after start: %+v", started)
	}

	cid := uuid.NewString()
	r := send(member, m.ID, cid, "Dzień dobry **wszystkim**")
	var first chatJSON
	r.Decode(&first)
	if r.Status != http.StatusCreated || first.Seq != 1 || first.ClientID != cid || !strings.Contains(first.BodyHTML, "<strong>wszystkim</strong>") || first.Author.ID != w.member.ID {
		t.Fatalf("first message: %d %s", r.Status, r.Body)
	}
	// The same client id again returns the same message and stores nothing new.
	r = send(member, m.ID, cid, "Dzień dobry **wszystkim**")
	var again chatJSON
	r.Decode(&again)
	if r.Status != http.StatusOK || again.ID != first.ID || again.Seq != first.Seq {
		t.Errorf("resend: %d %s, want the same id and seq", r.Status, r.Body)
	}
	var n int
	if err := w.env.DB.Get(&n, `SELECT count(*) FROM chat_messages WHERE meeting_id = $1`, m.ID); err != nil || n != 1 {
		t.Errorf("stored messages = %d (%v), want 1", n, err)
	}
	for name, tc := range map[string]struct {
		c      *testkit.Client
		cid    string
		body   string
		status int
	}{
		"observer":      {observer, uuid.NewString(), "x", http.StatusForbidden},
		"too long":      {member, uuid.NewString(), strings.Repeat("a", 4001), http.StatusBadRequest},
		"empty":         {member, uuid.NewString(), "   ", http.StatusBadRequest},
		"bad client id": {member, "not-a-uuid", "x", http.StatusBadRequest},
		"other group":   {outsider, uuid.NewString(), "x", http.StatusNotFound},
	} {
		if r := send(tc.c, m.ID, tc.cid, tc.body); r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", name, r.Status, r.Body, tc.status)
		}
	}

	// The HTML form works without JavaScript and a double submit stores one message.
	form := url.Values{"client_id": {uuid.NewString()}, "body": {"Z formularza"}}
	r1, r2 := member.Form(fmt.Sprintf("/m/%d/messages", m.ID), form), member.Form(fmt.Sprintf("/m/%d/messages", m.ID), form)
	if r1.Status != http.StatusSeeOther || r2.Status != http.StatusSeeOther || r1.Header.Get("Location") != r2.Header.Get("Location") {
		t.Errorf("form sends: %d %q / %d %q", r1.Status, r1.Header.Get("Location"), r2.Status, r2.Header.Get("Location"))
	}
	if page := member.Get(fmt.Sprintf("/m/%d", m.ID)).String(); strings.Count(page, "Z formularza") != 1 || !strings.Contains(page, `name="client_id"`) {
		t.Error("meeting page does not show the form message exactly once, or lacks the chat form")
	}

	// Ended: the chat is a read-only archive.
	mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/end", m.ID), nil)
	if r := send(member, m.ID, uuid.NewString(), "po końcu"); r.Status != http.StatusForbidden || r.ErrorCode() != "meeting_not_live" {
		t.Errorf("send after end: %d %s", r.Status, r.Body)
	}
	page := observer.Get(fmt.Sprintf("/m/%d", m.ID)).String()
	if !strings.Contains(page, "Dzień dobry") || strings.Contains(page, `name="client_id"`) || !strings.Contains(page, "tylko do odczytu") {
		t.Error("ended meeting page is not a read-only archive")
	}
	var list struct{ Items []meetingJSON }
	member.Get(fmt.Sprintf("/api/v1/groups/%d/meetings?when=past", w.group.ID)).Decode(&list)
	if len(list.Items) != 1 || list.Items[0].ID != m.ID {
		t.Errorf("past meetings = %+v", list.Items)
	}
}

// Concurrent senders get seqs 1..n with no gap and no duplicate, and the
// history read with after_seq pages through them in order.
func TestChatSeqIsGapFreeUnderConcurrency(t *testing.T) {
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.PostsPerMinute = 1000 })
	g := env.NewGroup(model.KindRural)
	mod := env.NewUser(model.RoleStaff) // staff: no chat rate limit
	mc := env.Login(mod)
	m := createMeeting(t, mc, g.ID)
	mc.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil)

	const senders, each = 8, 15
	var mu sync.Mutex
	seqs := map[int64]string{}
	var wg sync.WaitGroup
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				cid := uuid.NewString()
				r := send(mc, m.ID, cid, fmt.Sprintf("nadawca %d wiadomość %d", i, j))
				var msg chatJSON
				if err := jsonUnmarshal(r.Body, &msg); err != nil || r.Status != http.StatusCreated {
					t.Errorf("send: %d %s", r.Status, r.Body)
					return
				}
				mu.Lock()
				if prev, dup := seqs[msg.Seq]; dup {
					t.Errorf("seq %d given to %s and %s", msg.Seq, prev, cid)
				}
				seqs[msg.Seq] = cid
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	got := make([]int64, 0, len(seqs))
	for s := range seqs {
		got = append(got, s)
	}
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("seqs are not 1..%d without gaps: position %d holds %d", senders*each, i, s)
		}
	}
	var after int64
	read := 0
	for {
		var page struct {
			Items   []chatJSON
			HasMore bool `json:"has_more"`
		}
		mc.Get(fmt.Sprintf("/api/v1/meetings/%d/messages?after_seq=%d&limit=50", m.ID, after)).Decode(&page)
		for _, msg := range page.Items {
			if msg.Seq != after+1 {
				t.Fatalf("history jumps from %d to %d", after, msg.Seq)
			}
			after = msg.Seq
			read++
		}
		if !page.HasMore {
			break
		}
	}
	if read != senders*each {
		t.Errorf("history holds %d messages, want %d", read, senders*each)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
