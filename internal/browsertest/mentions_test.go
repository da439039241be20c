package browsertest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A member mentions a colleague with the keyboard alone: typing "@" and the
// start of a name opens the list of people who can read the group, the first
// is chosen (aria-activedescendant), Enter inserts "@Name " without sending
// or breaking the line, and the posted text links to the person. The open
// list passes axe at 1280 px and 360 px.
func TestMentionCompletionByKeyboard(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	writer, colleague := s.env.NewUser(model.RoleMember), s.env.NewUser(model.RoleMember)
	s.env.AddMember(writer.ID, group.ID, model.GroupMember)
	s.env.AddMember(colleague.ID, group.ID, model.GroupMember)
	name := "Zofia Kwiatkowska-" + testkit.Unique()
	if _, err := s.env.DB.ExecContext(ctx, `UPDATE users SET display_name = $1 WHERE id = $2`, name, colleague.ID); err != nil {
		t.Fatal(err)
	}
	outsider := s.env.NewUser(model.RoleMember) // in no group: never offered
	if _, err := s.env.DB.ExecContext(ctx, `UPDATE users SET display_name = $1 WHERE id = $2`, "Zofia Kwiatkowska-obca", outsider.ID); err != nil {
		t.Fatal(err)
	}
	tid, _ := s.env.NewThread(group.ID, writer.ID, 1)

	p := s.newTab(t)
	p.loginAs(writer)
	if st := p.open(fmt.Sprintf("/t/%d", tid)); st != 200 {
		t.Fatalf("thread page = %d", st)
	}
	p.do("focus the composer", chromedp.Focus(chromedp.CSS("#f-body")))
	p.typeText("type a mention", "Dzień dobry @Zofia Kwiat")
	const jsOptions = `JSON.stringify([...document.querySelectorAll(".mention-list [role=option]")].map(o => o.textContent))`
	p.waitFor("the suggestion list", `!document.querySelector(".mention-list").hidden && document.querySelectorAll(".mention-list [role=option]").length > 0`, jsOptions)
	opts := eval[string](p, jsOptions)
	if !strings.Contains(opts, name) || strings.Contains(opts, "obca") {
		t.Errorf("suggestions %s: want %q and nobody from outside the group", opts, name)
	}
	active := eval[string](p, `document.getElementById("f-body").getAttribute("aria-activedescendant") || ""`)
	if active == "" || eval[string](p, `document.getElementById(`+strconv.Quote(active)+`).getAttribute("aria-selected")`) != "true" {
		t.Errorf("no option is active (aria-activedescendant %q)", active)
	}
	if focused := eval[string](p, `document.activeElement.id`); focused != "f-body" {
		t.Errorf("focus moved to %q; the textarea keeps it", focused)
	}
	p.checkPage("mention-suggestions")
	p.viewport(phoneWidth, phoneHeight, true)
	p.checkPage("mention-suggestions-360")
	p.viewport(desktopWidth, desktopHeight, false)

	p.press("Enter chooses", kb.Enter)
	p.waitFor("the name inserted", `document.getElementById("f-body").value.includes("@`+name+` ")`, `document.getElementById("f-body").value`)
	if v := eval[string](p, `document.getElementById("f-body").value`); v != "Dzień dobry @"+name+" " {
		t.Errorf("textarea = %q", v)
	}
	if !eval[bool](p, `document.querySelector(".mention-list").hidden`) {
		t.Error("the list stays open after choosing")
	}
	// Escape closes a list without inserting anything.
	p.typeText("type another", "i @Zof")
	p.waitFor("the list again", `!document.querySelector(".mention-list").hidden`, jsOptions)
	p.press("Escape closes", kb.Escape)
	if !eval[bool](p, `document.querySelector(".mention-list").hidden`) {
		t.Error("Escape did not close the list")
	}

	st := p.submit("send the post", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/t/%d/posts"] button[type="submit"]`, tid))))
	if st != 200 {
		t.Fatalf("post = %d", st)
	}
	link := fmt.Sprintf(`.post-body a[href="/u/%d"]`, colleague.ID)
	if got := eval[string](p, `(document.querySelector(`+strconv.Quote(link)+`) || {}).textContent || ""`); got != "@"+name {
		t.Errorf("posted mention link text = %q, want %q", got, "@"+name)
	}
}
