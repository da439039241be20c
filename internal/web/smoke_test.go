package web_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// A member logs in and sees their group and the common forum on the Polish index,
// but not another group.
func TestIndexShowsVisibleGroupsByKind(t *testing.T) {
	env := testkit.Start(t, dbURL)
	own, other, common := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban), env.NewGroup(model.KindCommon)
	u := env.NewUser(model.RoleMember)
	env.AddMember(u.ID, own.ID, model.GroupMember)
	c := env.Login(u)

	r := c.Get("/")
	if r.Status != http.StatusOK {
		t.Fatalf("GET / = %d", r.Status)
	}
	page := r.String()
	for _, want := range []string{`<html lang="pl">`, "Gminy wiejskie i miejsko-wiejskie", "Forum ogólne", own.Name, common.Name, `href="#main"`} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(page, other.Name) {
		t.Errorf("index shows another group %q", other.Name)
	}
	if r := c.Get("/g/" + itoa(other.ID)); r.Status != http.StatusNotFound {
		t.Errorf("other group page = %d, want 404", r.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
