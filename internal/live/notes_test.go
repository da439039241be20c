package live_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Issue 6 item 2: while a note is open for editing, the others editing it are
// shown, and a save by one of them is announced to the rest before they save.
func TestNoteEditorsSeeEachOther(t *testing.T) {
	env := testkit.Start(t, dbURL)
	r := newRoom(t, env)
	mod, member := env.Login(r.moderator), env.Login(r.member)
	resp := mod.JSON("POST", fmt.Sprintf("/api/v1/meetings/%d/notes", r.meetingID), map[string]any{
		"title": "Notatka z sesji 4", "body": "## Ustalenia\n\n1. Budżet zadaniowy."})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create note: %d %s", resp.Status, resp.Body)
	}
	var note struct {
		ID      int64
		Version int
	}
	resp.Decode(&note)
	name := fmt.Sprintf("note:%d", note.ID)

	a, b := mod.DialWS(), member.DialWS()
	if f := subscribe(t, a, name, 0); f.M["state"].(map[string]any)["version"] != float64(1) {
		t.Errorf("subscribed = %s", f.Raw)
	}
	subscribe(t, b, name, 0)
	if p := presenceUntil(t, a, func(f testkit.Frame) bool { return presenceIDs(f)[r.member.ID] }); p.Int("count") != 2 {
		t.Errorf("editors = %s", p.Raw)
	}
	outsider := env.Login(r.outsider).DialWS()
	outsider.Send(map[string]any{"type": "subscribe", "topic": name})
	if f := outsider.Expect("error", wait); f.Str("code") != "not_found" {
		t.Errorf("outsider following a note: %s", f.Raw)
	}

	a.Drain(500 * time.Millisecond) // no state read pending: only the save's own hint can tell
	if resp := member.JSON("PATCH", fmt.Sprintf("/api/v1/notes/%d", note.ID), map[string]any{"body": "## Ustalenia\n\n1. Budżet zadaniowy.\n2. Konsultacje.", "version": 1}); resp.Status != http.StatusOK {
		t.Fatalf("edit note: %d %s", resp.Status, resp.Body)
	}
	f := a.Expect("note.update", wait)
	if f.Int("version") != 2 || f.Int("edited_by") != r.member.ID || f.Str("editor_name") != r.member.Name {
		t.Errorf("note.update = %s", f.Raw)
	}
	_ = b.Conn.Close()
	presenceUntil(t, a, func(f testkit.Frame) bool { return f.Int("count") == 1 })
}
