package web

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
)

// The header menu (Page.NavItems through layout.html): the programme's spaces
// for logged-in people only, marked current by their Nav value, in the order
// the shortcuts help numbers them; the phone Menu button repeats the unread
// count and controls the menu and the tools.
func TestNavItemsInTheHeader(t *testing.T) {
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
	render := func(p Page) string {
		t.Helper()
		p.Tr, p.Lang = cat.Printer("pl"), "pl"
		var buf bytes.Buffer
		if err := vw.pages["about"].ExecuteTemplate(&buf, "layout", p); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	links := regexp.MustCompile(`<nav id="site-nav"[\s\S]*?</nav>`)
	hrefs := regexp.MustCompile(`href="([^"]+)"( aria-current="page")?`)
	menu := func(html string) (order []string, current string) {
		for _, m := range hrefs.FindAllStringSubmatch(links.FindString(html), -1) {
			order = append(order, m[1])
			if m[2] != "" {
				current = m[1]
			}
		}
		return order, current
	}

	user := &model.User{ID: 7, Name: "Anna Nowak"}
	for nav, want := range map[string]string{"practices": "/praktyki", "tournaments": "/turnieje", "reviews": "/opiniowanie"} {
		html := render(Page{User: user, Nav: nav, Unread: 3})
		order, current := menu(html)
		if got := strings.Join(order, " "); got != "/ /notifications /newsletter /praktyki /turnieje /opiniowanie" {
			t.Errorf("a member's menu = %s", got)
		}
		if current != want {
			t.Errorf("Nav %q marks %q current, want %s", nav, current, want)
		}
		for _, s := range []string{">Dobre praktyki</a>", ">Turnieje</a>", ">Opiniowanie materiałów</a>",
			`aria-controls="site-nav site-tools"`, `<span class="badge" data-menu-unread>3<`,
			"<kbd>4</kbd></td><td>menu: Dobre praktyki</td>"} {
			if !strings.Contains(html, s) {
				t.Errorf("Nav %q: the page lacks %s", nav, s)
			}
		}
	}
	if order, _ := menu(render(Page{User: user, IsAdmin: true})); len(order) != 7 || order[6] != "/admin/users" {
		t.Errorf("an administrator's menu = %v, want administration last (7th)", order)
	}
	html := render(Page{Nav: "about"})
	if order, current := menu(html); strings.Join(order, " ") != "/about /login" || current != "/about" {
		t.Errorf("an anonymous menu = %v (current %s), want /about /login", order, current)
	}
	if strings.Contains(html, "/praktyki") || strings.Contains(html, "data-menu-unread") {
		t.Error("the anonymous header links the programme's spaces or has an unread count")
	}
	if !strings.Contains(render(Page{User: user}), `data-menu-unread hidden>0<`) {
		t.Error("with nothing unread the Menu button's count is not hidden")
	}
}
