package security_test

// Issue 10, item 7: observers could report posts, and reports count toward
// hiding a post automatically. A report is a member's write: whoever may only
// read the group is refused (403, as for posting) and no flag is stored.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

func TestObserversCannotReport(t *testing.T) {
	// One report would hide the post: an observer's report must not.
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.FlagHideThreshold = 1 })
	w := cwSetup(t, env)
	obs := env.Login(w.observer)
	flags := func() int { return cwCount(t, env, `SELECT count(*) FROM flags WHERE post_id = $1`, w.postID) }
	hidden := func() bool {
		return cwCount(t, env, `SELECT count(*) FROM posts WHERE id = $1 AND hidden`, w.postID) == 1
	}

	r := obs.JSON("POST", fmt.Sprintf("/api/v1/posts/%d/flags", w.postID), map[string]any{"reason": "Nieprawdziwe informacje"})
	cwStatus(t, "API report by an observer", r, http.StatusForbidden, "forbidden")
	r = obs.Form(fmt.Sprintf("/p/%d/report", w.postID), url.Values{"reason": {"Nieprawdziwe informacje"}})
	cwStatus(t, "form report by an observer", r, http.StatusForbidden, "")
	if n := flags(); n != 0 {
		t.Errorf("observer reports stored %d flags", n)
	}
	if hidden() {
		t.Error("an observer's report hid the post")
	}
	if page := obs.Get(fmt.Sprintf("/t/%d", w.threadID)); strings.Contains(page.String(), fmt.Sprintf("/p/%d/report", w.postID)) {
		t.Error("the thread page offers observers a report link")
	}

	// A member of the group still reports (and with this threshold, hides).
	reporter := env.NewUser(model.RoleMember)
	env.AddMember(reporter.ID, w.group.ID, model.GroupMember)
	r = env.Login(reporter).JSON("POST", fmt.Sprintf("/api/v1/posts/%d/flags", w.postID), map[string]any{"reason": "Nieprawdziwe informacje"})
	cwStatus(t, "API report by a member", r, http.StatusCreated, "")
	if n := flags(); n != 1 {
		t.Errorf("%d flags after a member's report, want 1", n)
	}
}
