package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 12's "done when": a member mentioned in a thread gets a live badge
// and one e-mail, even with two serve instances on one database; a person
// of another group named the same way gets neither.
func TestMentionBadgeAndMailOnceAcrossTwoInstances(t *testing.T) {
	srv := testkit.StartSMTP(t)
	a := startWithSMTP(t, srv)
	b := startWithSMTP(t, srv)
	g, other := a.NewGroup(model.KindRural), a.NewGroup(model.KindUrban)
	writer, named, outsider := a.NewUser(model.RoleMember), a.NewUser(model.RoleMember), a.NewUser(model.RoleMember)
	a.AddMember(writer.ID, g.ID, model.GroupMember)
	a.AddMember(named.ID, g.ID, model.GroupMember)
	a.AddMember(outsider.ID, other.ID, model.GroupMember)
	threadID, _ := a.NewThread(g.ID, writer.ID, 1)

	// The mentioned member has the forum open on instance B.
	ws := b.Login(named).DialWS()
	ws.Drain(200 * time.Millisecond)

	r := a.Login(writer).JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", threadID), map[string]any{
		"body": fmt.Sprintf("Pytanie do @%s i do @%s o dowozy.", named.Name, outsider.Name)})
	wantStatus(t, "post with mentions on A", r, http.StatusCreated)
	var p struct {
		ID       int64  `json:"id"`
		BodyHTML string `json:"body_html"`
	}
	r.Decode(&p)
	if !strings.Contains(p.BodyHTML, fmt.Sprintf(`href="/u/%d"`, named.ID)) || strings.Contains(p.BodyHTML, fmt.Sprintf(`/u/%d"`, outsider.ID)) {
		t.Errorf("body_html links the wrong people: %s", p.BodyHTML)
	}

	// The live badge: a notification frame of kind mention about the post.
	deadline := time.After(20 * time.Second)
	for got := false; !got; {
		select {
		case f, ok := <-ws.Frames():
			if !ok {
				t.Fatalf("socket closed: %v", ws.Err())
			}
			if f.Type != "notification" {
				continue
			}
			n, _ := f.M["notification"].(map[string]any)
			if n["kind"] != "mention" || int64(n["target_id"].(float64)) != p.ID {
				t.Fatalf("unexpected notification pushed: %s", f.Raw)
			}
			got = true
		case <-deadline:
			t.Fatal("no mention notification pushed to instance B within 20 s")
		}
	}

	srv.WaitFor(t, 1, 15*time.Second)
	time.Sleep(time.Second) // a second mail (a duplicate, or one to the outsider) would have arrived by now
	got := srv.Received()
	if len(got) != 1 || len(got[0].To) != 1 || !strings.EqualFold(got[0].To[0], named.Email) {
		for _, m := range got {
			t.Logf("mail to %v: %s", m.To, m.Subject)
		}
		t.Fatalf("%d mails, want exactly one, to %s", len(got), named.Email)
	}
	if link := fmt.Sprintf("%s/p/%d", a.URL, p.ID); !strings.Contains(got[0].Text, link) {
		t.Errorf("the mail does not link the post %s: %s", link, got[0].Text)
	}
}
