package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// shiftAlt presses key with SHIFT and ALT held, as the programme sites'
// shortcuts want (a11y.js reads event.code, which kb derives from the key).
func (p *tab) shiftAlt(key string) {
	p.t.Helper()
	p.do("press Shift+Alt+"+key, chromedp.KeyEvent(key, chromedp.KeyModifiers(kb.ModifierShift|kb.ModifierAlt)))
}

// holds polls a JavaScript condition until it holds or a few seconds pass.
func (p *tab) holds(what, cond string) bool {
	p.t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if eval[bool](p, cond) {
			return true
		}
	}
	p.t.Errorf("%s: %s never held", what, cond)
	return false
}

// Issue 14 item 8: the accessibility statement is public, axe-clean and does
// not scroll sideways at 1280 and 360 px; the keyboard shortcuts move the
// focus to the main content and open the help dialog, which ESC closes
// giving the focus back; the spacing toggle applies the WCAG 1.4.12 values
// and is remembered across a reload.
func TestAccessibilityStatementAndShortcuts(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	noSideways := func(what string) {
		t.Helper()
		if eval[bool](p, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("%s scrolls sideways: %d > %d; sticking out: %s", what, eval[int](p, `document.documentElement.scrollWidth`),
				eval[int](p, `document.documentElement.clientWidth`), eval[string](p, `[...document.querySelectorAll("body *")]
				.filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
				.slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
		}
	}

	if st := p.open("/deklaracja-dostepnosci"); st != 200 {
		t.Fatalf("GET /deklaracja-dostepnosci anonymously = %d", st)
	}
	p.checkPage("a11y-statement")
	noSideways("the statement at 1280px")

	// SHIFT+ALT+M: the main content takes the focus.
	p.shiftAlt("m")
	p.holds("Shift+Alt+M", `document.activeElement === document.getElementById("main")`)

	// SHIFT+ALT+/ (the "?" key) from the footer link: the help dialog opens
	// modally with the focus inside; ESC closes it and the focus is back.
	p.do("focus the footer link", chromedp.Focus(chromedp.CSS(`footer a[href="/deklaracja-dostepnosci"]`)))
	p.shiftAlt("/")
	if p.holds("Shift+Alt+/", `document.getElementById("shortcuts-dialog").open`) {
		if !eval[bool](p, `document.getElementById("shortcuts-dialog").contains(document.activeElement)`) {
			t.Error("the focus is not inside the shortcuts dialog")
		}
		if !eval[bool](p, `document.getElementById("shortcuts-dialog").matches(":modal")`) {
			t.Error("the shortcuts dialog is not modal (the focus is not kept inside)")
		}
		p.checkPage("a11y-shortcuts-dialog")
		p.press("Escape", kb.Escape)
		p.holds("Escape", `!document.getElementById("shortcuts-dialog").open`)
		p.holds("focus returned", `document.activeElement && document.activeElement.matches('footer a[href="/deklaracja-dostepnosci"]')`)
	}
	// The Close button closes it too.
	p.shiftAlt("/")
	if p.holds("Shift+Alt+/ again", `document.getElementById("shortcuts-dialog").open`) {
		p.do("click Close", chromedp.Click(chromedp.CSS(`#shortcuts-dialog [data-dialog-close]`)))
		p.holds("Close button", `!document.getElementById("shortcuts-dialog").open`)
	}

	// The spacing toggle: the class on <html>, the computed values, the
	// pressed state, and all of it after a reload.
	p.do("click Spacing", chromedp.Click(chromedp.CSS(`[data-a11y-spacing]`)))
	p.holds("spacing on", `document.documentElement.classList.contains("spacing")`)
	if got := eval[string](p, `(() => { const cs = getComputedStyle(document.querySelector("main p"));
		return (parseFloat(cs.lineHeight) / parseFloat(cs.fontSize)).toFixed(2) + " " +
			(parseFloat(cs.letterSpacing) / parseFloat(cs.fontSize)).toFixed(2) })()`); got != "1.50 0.12" {
		t.Errorf("with wider spacing a paragraph has line-height/letter-spacing %q, want \"1.50 0.12\"", got)
	}
	p.open("/deklaracja-dostepnosci")
	if !eval[bool](p, `document.documentElement.classList.contains("spacing")`) {
		t.Error("the spacing setting did not survive a reload")
	}
	if got := eval[string](p, `document.querySelector("[data-a11y-spacing]").getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("spacing button after reload: aria-pressed=%q", got)
	}
	p.checkPage("a11y-statement-spacing")
	noSideways("the statement with wider spacing at 1280px")

	p.viewport(360, 780, true)
	p.open("/deklaracja-dostepnosci")
	p.checkPage("a11y-statement-mobile-spacing")
	noSideways("the statement with wider spacing at 360px")
	// On a phone the display controls are behind the Menu button.
	p.do("open the menu", chromedp.Click(chromedp.CSS(`.menu-button`)))
	p.do("click Spacing off", chromedp.Click(chromedp.CSS(`[data-a11y-spacing]`)))
	p.holds("spacing off", `!document.documentElement.classList.contains("spacing")`)
	p.open("/deklaracja-dostepnosci")
	p.checkPage("a11y-statement-mobile")
	noSideways("the statement at 360px")

	// A member: SHIFT+ALT+2 follows the header menu's second item, and
	// SHIFT+ALT+H goes home.
	m := s.newTab(t)
	m.loginForm(adminEmail)
	m.open("/deklaracja-dostepnosci")
	if got := eval[string](m, `document.querySelectorAll(".main-nav a[href]")[1].getAttribute("aria-keyshortcuts")`); got != "Shift+Alt+2" {
		t.Errorf("the second menu item's aria-keyshortcuts = %q", got)
	}
	second := eval[string](m, `document.querySelectorAll(".main-nav a[href]")[1].pathname`)
	m.shiftAlt("2")
	m.holds("Shift+Alt+2", `location.pathname === "`+second+`" && document.readyState === "complete"`)
	m.shiftAlt("h")
	m.holds("Shift+Alt+H", `location.pathname === "/" && document.readyState === "complete"`)
	m.shiftAlt("f")
	m.holds("Shift+Alt+F", `document.activeElement === document.getElementById("site-search")`)
}
