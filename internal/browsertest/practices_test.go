package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

// practiceMedia switches the tab to print (or back to screen) media.
func practiceMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}

// Issue 15's "done when" for the library: a member writes a good practice and
// submits it with the browser alone (no script needed), staff find it under
// "Do przejrzenia" and publish it; the list, the practice page, the form and
// the print view pass axe at 1280 and 360 px, and printing hides the header,
// navigation and buttons and writes out the links.
func TestPracticeSubmitAndPublish(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	member := s.newTab(t)
	member.loginForm(memberEmail)

	if st := member.open("/praktyki"); st != 200 {
		t.Fatalf("GET /praktyki = %d", st)
	}
	titles := eval[[]string](member, `[...document.querySelectorAll(".practice-item h3 a")].map(a => a.textContent.trim())`)
	if !contains(titles, "Boiska wielofunkcyjne przy szkołach otwarte dla mieszkańców") {
		t.Errorf("the library lists %q, want the demo practices", titles)
	}
	member.checkPage("practices-list")

	// A filter by voivodeship (a GET form) keeps only that JST's practice.
	member.do("filter by voivodeship", chromedp.SetValue(chromedp.CSS("#f-voivodeship"), "dolnośląskie"))
	if st := member.submit("apply the filters", chromedp.Click(chromedp.CSS(".practice-filters button"))); st != 200 {
		t.Fatalf("filter = %d", st)
	}
	filtered := eval[[]string](member, `[...document.querySelectorAll("#published-h ~ .practice-list .practice-item h3 a")].map(a => a.textContent.trim())`)
	if len(filtered) != 1 || !strings.Contains(filtered[0], "Boiska") {
		t.Errorf("dolnośląskie lists %q", filtered)
	}

	// The form: the member's own JST is chosen for them.
	if st := member.submit("open the form", chromedp.Click(chromedp.CSS(`a[href="/praktyki/nowa"]`))); st != 200 {
		t.Fatalf("new practice form = %d", st)
	}
	if jst := eval[string](member, `document.querySelector("#f-jst_id option:checked").textContent`); !strings.Contains(jst, "Morawica") {
		t.Errorf("the JST chosen by default is %q, want Morawica", jst)
	}
	member.checkPage("practice-form")
	title := "Gminne stypendia dla uzdolnionych " + testkit.Unique()
	member.do("fill in the practice",
		chromedp.SendKeys(chromedp.CSS("#f-title"), title),
		chromedp.Click(chromedp.CSS(`#f-areas input[type="checkbox"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-problem"), "Zdolni uczniowie z małych szkół rezygnowali z olimpiad."),
		chromedp.SendKeys(chromedp.CSS("#f-solution"), "Gminny program stypendialny i opiekun w każdej szkole."),
		chromedp.SendKeys(chromedp.CSS("#f-results"), "**18** finalistów olimpiad w dwa lata (wcześniej 3)."),
		chromedp.SendKeys(chromedp.CSS("#f-costs"), "60 tys. zł rocznie"),
		chromedp.SendKeys(chromedp.CSS("#f-contact"), "Katarzyna Wójcik, Referat Oświaty"))
	if st := member.submit("save the draft", chromedp.Click(chromedp.CSS(`main form[action="/praktyki"] button[type="submit"]`))); st != 200 {
		t.Fatalf("save the draft = %d", st)
	}
	url := member.path()
	if !strings.HasPrefix(url, "/praktyki/") {
		t.Fatalf("after saving: %s", url)
	}
	if st := member.submit("ask to submit", chromedp.Click(chromedp.CSS(`a[href="`+url+`/zglos"]`))); st != 200 {
		t.Fatalf("submit confirmation = %d", st)
	}
	if st := member.submit("confirm", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || member.path() != url {
		t.Fatalf("submit = %d, on %s", st, member.path())
	}
	if status := run(member, "read the status", chromedp.Text(chromedp.CSS("main .practice-status"))); !strings.Contains(status, "zgłoszona") {
		t.Errorf("status after submitting: %q", status)
	}

	staff := s.newTab(t)
	staff.loginForm("doradca@forum-jst.example")
	staff.open("/praktyki")
	review := eval[[]string](staff, `[...document.querySelectorAll("#review-h ~ .practice-list a")].map(a => a.textContent.trim())`)
	if !contains(review, title) {
		t.Fatalf("staff's review section lists %q", review)
	}
	// The return form (a comment is the confirmation) passes axe too.
	if st := staff.open(url + "/zwroc"); st != 200 {
		t.Fatalf("return form = %d", st)
	}
	staff.checkPage("practice-return")
	staff.open("/praktyki")
	if st := staff.submit("open it", chromedp.Click(chromedp.CSS(`#review-h ~ .practice-list a[href="`+url+`"]`))); st != 200 {
		t.Fatalf("open the practice = %d", st)
	}
	if st := staff.submit("ask to publish", chromedp.Click(chromedp.CSS(`a[href="`+url+`/opublikuj"]`))); st != 200 {
		t.Fatalf("publish confirmation = %d", st)
	}
	if st := staff.submit("confirm", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || staff.path() != url {
		t.Fatalf("publish = %d, on %s", st, staff.path())
	}
	if status := run(staff, "read the status", chromedp.Text(chromedp.CSS("main .practice-status"))); !strings.Contains(status, "opublikowana") {
		t.Errorf("status after publishing: %q", status)
	}
	staff.checkPage("practice-page")

	// The member finds it among the published ones and is told.
	member.open("/praktyki")
	published := eval[[]string](member, `[...document.querySelectorAll("#published-h ~ .practice-list a")].map(a => a.textContent.trim())`)
	if !contains(published, title) {
		t.Errorf("published practices for the member: %q", published)
	}
	member.open("/notifications")
	if txt := run(member, "read the notifications", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(txt, "publikuje Twoją dobrą praktykę") {
		t.Errorf("no notification of the publication")
	}

	if st := member.open(url + "/historia"); st != 200 {
		t.Fatalf("history = %d", st)
	}
	member.checkPage("practice-history")

	// The print view, as printed: only the description, links written out.
	member.open(url + "/druk")
	member.checkPage("practice-print-screen")
	member.do("emulate print", practiceMedia("print"))
	visible := eval[[]string](member, `[...document.querySelectorAll(".site-header, .site-footer, nav, form, button, .no-print")]
		.filter(el => el.getClientRects().length > 0).map(el => el.className || el.tagName)`)
	if len(visible) > 0 {
		t.Errorf("the printed practice still shows %v", visible)
	}
	if after := eval[string](member, `getComputedStyle(document.querySelector(".practice-print p.meta a"), "::after").content`); !strings.Contains(after, "/praktyki/") {
		t.Errorf("a printed link does not show its address: %q", after)
	}
	member.screenshot("practice-print")
	member.do("back to screen", practiceMedia(""))

	member.viewport(360, mobileHeight, true)
	for _, page := range []struct{ path, name string }{{"/praktyki", "practices-list-mobile"}, {url, "practice-page-mobile"}} {
		member.open(page.path)
		if w := eval[int](member, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s at 360px scrolls sideways: %dpx wide", page.path, w)
		}
		member.checkPage(page.name)
	}
}
