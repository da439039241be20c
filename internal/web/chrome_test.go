package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
)

// The chrome-* blocks of layout.html are rendered once per language and kind
// of reader and reused (views.chrome): each must read nothing of the page but
// what its key holds. Two pages that differ in everything else must get the
// same block, and the cached block must be what rendering it afresh gives.
func TestChromeDependsOnlyOnItsKey(t *testing.T) {
	st, err := newStaticFiles()
	if err != nil {
		t.Fatal(err)
	}
	vw, err := newViews(st)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tm := range vw.chromeSet.Templates() {
		if strings.HasPrefix(tm.Name(), "chrome-") {
			names = append(names, tm.Name())
		}
	}
	if len(names) < 5 {
		t.Fatalf("chrome blocks: %v", names)
	}
	page := func(lang string, u *model.User, admin bool, variant int) Page {
		p := Page{Tr: cat.Printer(lang), Lang: lang, IsAdmin: admin, Now: time.Date(2026, 3, 1+variant, 10, 0, 0, 0, time.UTC)}
		if u != nil {
			uu := *u
			uu.Name = []string{"Anna Nowak", "Jan <Kowalski> & syn"}[variant]
			p.User = &uu
			p.Actor = access.NewActor(uu, nil)
		}
		p.Title = []string{"Wątek pierwszy", "Inny <tytuł>"}[variant]
		p.CSRF = []string{"csrf-a", "csrf-b"}[variant]
		p.Nav = []string{"index", "accessibility"}[variant]
		p.Path = []string{"/t/1", "/g/2?page=3"}[variant]
		p.Flash = []string{"", "Zapisano."}[variant]
		p.Unread = []int{0, 7}[variant]
		p.Errors = []map[string]string{nil, {"form": "błąd"}}[variant]
		p.TwoFactorDue = []string{"", "1 kwietnia 2026"}[variant]
		return p
	}
	member := &model.User{ID: 7, Role: model.RoleMember}
	admin := &model.User{ID: 8, Role: model.RoleAdmin}
	for _, lang := range []string{"pl", "en"} {
		for _, r := range []struct {
			u     *model.User
			admin bool
		}{{nil, false}, {member, false}, {admin, true}} {
			for _, name := range names {
				var fresh [2]string
				for v := range fresh {
					var buf bytes.Buffer
					if err := vw.chromeSet.ExecuteTemplate(&buf, name, page(lang, r.u, r.admin, v)); err != nil {
						t.Fatal(err)
					}
					fresh[v] = buf.String()
				}
				if fresh[0] != fresh[1] {
					t.Errorf("%s (%s, admin %v) depends on more than its key:\n%s\n---\n%s", name, lang, r.admin, fresh[0], fresh[1])
				}
				got, err := vw.chrome(name, page(lang, r.u, r.admin, 1))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != fresh[0] {
					t.Errorf("%s (%s, admin %v): cached block differs from a fresh rendering", name, lang, r.admin)
				}
			}
		}
	}
	// The kinds of reader do differ where the layout says so.
	m, _ := vw.chrome("chrome-editor-i18n", page("pl", member, false, 0))
	a, _ := vw.chrome("chrome-editor-i18n", page("pl", nil, false, 0))
	if !strings.Contains(string(m), "editor-i18n") || a != "" {
		t.Errorf("editor labels: member %q…, anonymous %q", string(m)[:min(40, len(m))], a)
	}
}
