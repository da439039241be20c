package live_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 15: an open section page of a material under review learns of new
// comments (section:ID), readable by the page's readers only.
func TestReviewSectionTopic(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g, elsewhere := env.NewGroup(model.KindRural), env.NewGroup(model.KindCounty)
	su, mu, ou, xu := env.NewUser(model.RoleStaff), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(mu.ID, g.ID, model.GroupMember)
	env.AddMember(ou.ID, g.ID, model.GroupObserver)
	env.AddMember(xu.ID, elsewhere.ID, model.GroupMember)
	staff, member := env.Login(su), env.Login(mu)
	var ids struct{ ID int64 }
	r := staff.JSON("POST", "/api/v1/reviews", map[string]any{"title": "Moduł 3", "deadline": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "group_ids": []int64{g.ID}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create review: %d %s", r.Status, r.Body)
	}
	r.Decode(&ids)
	r = staff.JSON("POST", fmt.Sprintf("/api/v1/reviews/%d/sections", ids.ID), map[string]any{"number": "3.1", "title": "Cele", "body": "Tekst."})
	if r.Status != http.StatusCreated {
		t.Fatalf("add section: %d %s", r.Status, r.Body)
	}
	r.Decode(&ids)
	name := fmt.Sprintf("section:%d", ids.ID)

	outsider := env.Login(xu).DialWS()
	outsider.Send(map[string]any{"type": "subscribe", "topic": name})
	if f := outsider.Expect("error", wait); f.Str("code") != "not_found" {
		t.Errorf("outsider following a section: %s", f.Raw)
	}
	obs := env.Login(ou).DialWS()
	if f := subscribe(t, obs, name, 0); f.M["state"].(map[string]any)["comment_count"] != float64(0) {
		t.Errorf("subscribed = %s", f.Raw)
	}
	r = member.JSON("POST", fmt.Sprintf("/api/v1/sections/%d/comments", ids.ID), map[string]any{"body": "Jasne.", "rating": "clear"})
	if r.Status != http.StatusCreated {
		t.Fatalf("comment: %d %s", r.Status, r.Body)
	}
	var c struct{ ID int64 }
	r.Decode(&c)
	f := obs.Expect("section.comment", wait)
	if f.Int("comment_count") != 1 || f.Int("last_comment_id") != c.ID {
		t.Errorf("section.comment = %s", f.Raw)
	}
}
