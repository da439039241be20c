package browsertest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Search (issue 13): SHIFT+ALT+F reaches the header box from anywhere, the
// query typed without Polish letters finds the member's thread, and the
// results, the empty and the error pages pass axe at desktop and 360 px.
func TestSearchPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	p.loginForm(memberEmail)

	p.do("press Shift+Alt+F", chromedp.KeyEvent("F", chromedp.KeyModifiers(chromedp.ModifierAlt, chromedp.ModifierShift)))
	if id := eval[string](p, `document.activeElement.id`); id != "site-search" {
		t.Fatalf("Shift+Alt+F focuses %q, want the header search box", id)
	}
	p.do("type a query", chromedp.SendKeys(chromedp.CSS("#site-search"), "subwencja oswiatowa"))
	if st := p.submit("submit the header search", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("search = %d", st)
	}
	if got := p.path(); got != "/search?q="+url.QueryEscape("subwencja oswiatowa") {
		t.Errorf("landed on %s", got)
	}
	marks := eval[[]string](p, `[...document.querySelectorAll(".hit mark")].map(m => m.textContent)`)
	if !contains(marks, "Subwencja") && !contains(marks, "subwencji") && !contains(marks, "subwencja") {
		t.Errorf("marked words %q, want a form of subwencja", marks)
	}
	if v := eval[string](p, `document.getElementById("f-q").value`); v != "subwencja oswiatowa" {
		t.Errorf("the box holds %q after searching", v)
	}
	p.checkPage("search")

	// The "done when", on the demo data: typed without Polish letters,
	// the rural member's thread and session note are found, the urban
	// group's thread on the same subject is not.
	p.open("/search?q=oswiata+zlobek")
	titles := eval[[]string](p, `[...document.querySelectorAll(".hit-title a")].map(a => a.textContent.trim())`)
	if !contains(titles, "Żłobek w budynku po szkole – zadanie oświaty czy opieki?") || !contains(titles, "Notatka z sesji 3") {
		t.Errorf("oswiata zlobek found %q", titles)
	}
	for _, title := range titles {
		if strings.Contains(title, "miejskie") {
			t.Errorf("a rural member found the urban group's %q", title)
		}
	}

	// Nothing found with a filter: the page offers to search without it.
	p.open("/search?q=subwencja&type=file")
	if txt := run(p, "read the empty state", chromedp.Text(chromedp.CSS(".search-results .empty"))); !strings.Contains(txt, "bez filtrów") {
		t.Errorf("empty state %q", txt)
	}
	p.checkPage("search-empty")
	if st := p.open("/search?q=%22"); st != 400 {
		t.Errorf("lone quote = %d", st)
	}
	p.checkPage("search-error")

	p.viewport(360, mobileHeight, true)
	p.open("/search?q=" + url.QueryEscape("subwencja oswiatowa"))
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("search at 360px scrolls sideways: the page is %dpx wide", w)
	}
	p.checkPage("search-mobile")

	// The author filter: from a colleague's profile, without typing an id;
	// the results page shows it as a ticked box naming them.
	var colleague int64
	if err := s.env.DB.Get(&colleague, `SELECT id FROM users WHERE email = 't.kaczmarek@dopiewo.example'`); err != nil {
		t.Fatal(err)
	}
	p.open(fmt.Sprintf("/u/%d", colleague))
	p.checkPage("profile-search-mobile")
	p.do("type in the profile's search", chromedp.SendKeys(chromedp.CSS("#profile-search-q"), "zlobek"))
	if st := p.submit("search the colleague's writing", chromedp.KeyEvent(kb.Enter)); st != 200 {
		t.Fatalf("profile search = %d", st)
	}
	if on := eval[bool](p, `document.getElementById("f-author_id").checked`); !on {
		t.Errorf("the author filter is not shown ticked")
	}
	if label := eval[string](p, `document.querySelector("label[for=f-author_id]").textContent`); !strings.Contains(label, "Tomasz Kaczmarek") {
		t.Errorf("author filter label %q", label)
	}
	p.checkPage("search-author-mobile")
}
