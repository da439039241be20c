package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The header badge's unread count is read only where a page can show it:
// the page look-up counts alice's unread reply, the look-up of the API, the
// websocket upgrade and a socket's re-checks leaves it at 0 (it is the
// dearest part of the session statement for a reader with many unread).
func TestUnreadCountedOnlyForPages(t *testing.T) {
	env := testkit.Start(t, dbURL)
	g := env.NewGroup(model.KindRural)
	alice, bob := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(alice.ID, g.ID, model.GroupMember)
	env.AddMember(bob.ID, g.ID, model.GroupMember)
	ac, bc := env.Login(alice), env.Login(bob)
	thread, _ := env.NewThread(g.ID, alice.ID, 1)
	r := bc.JSON("POST", fmt.Sprintf("/api/v1/threads/%d/posts", thread), map[string]any{"body": "Odpowiedź dla Alicji"})
	wantStatus(t, "bob's reply", r, http.StatusCreated)

	base, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, c := range ac.HTTP.Jar.Cookies(base) {
		if strings.HasSuffix(c.Name, "forumjst_session") {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("alice has no session cookie")
	}
	ctx := context.Background()
	page, err := env.App.Accounts.AuthenticatePage(ctx, token)
	if err != nil || page.UnreadNotifications != 1 {
		t.Errorf("page look-up: %v unread (%v), want 1", page, err)
	}
	plain, err := env.App.Accounts.Authenticate(ctx, token)
	if err != nil || plain.UnreadNotifications != 0 {
		t.Errorf("API look-up: %v unread (%v), want 0 (not counted)", plain, err)
	}
	if home := ac.Get("/").String(); !strings.Contains(home, `data-unread="1"`) {
		t.Error(`the page header lacks data-unread="1"`)
	}
}
