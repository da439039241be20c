package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

const (
	// chromiumPath is Debian's Chromium (apt-get install chromium).
	chromiumPath = "/usr/bin/chromium"
	// axeRelPath is axe-core from `npm install`, relative to the repo root.
	axeRelPath = "node_modules/axe-core/axe.min.js"
	// pageTimeout bounds every browser step (a navigation, a click and the
	// page load it causes, one axe run, one screenshot).
	pageTimeout = 30 * time.Second
	// startTimeout bounds starting Chromium and opening a tab.
	startTimeout = 30 * time.Second

	desktopWidth, desktopHeight = 1280, 900
	mobileWidth, mobileHeight   = 390, 844
)

// chromiumFlags are the only flags the tests give Chromium (chromedp adds the
// pipe it talks through and the first about:blank page; Debian's launcher
// script adds its own defaults from /etc/chromium.d).
var chromiumFlags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// axeTags are the rule sets of WCAG 2.1 level A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// repoRoot is the directory holding go.mod, found by walking up from the
// test's working directory (the package directory under `go test`).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// skipOrFail skips the test, or fails it when CI=true: CI must not skip silently.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: browser tests must run in CI)", msg)
	}
	t.Skipf("%s; skipping the browser tests", msg)
}

// tools reads axe-core and checks that Chromium is there.
func tools(t testing.TB) (root, axeSource string) {
	t.Helper()
	root = repoRoot(t)
	var missing []string
	if fi, err := os.Stat(chromiumPath); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missing = append(missing, chromiumPath+" (install it: apt-get install chromium)")
	}
	src, err := os.ReadFile(filepath.Join(root, axeRelPath))
	if err != nil {
		missing = append(missing, filepath.Join(root, axeRelPath)+" (run `npm ci` in "+root+")")
	}
	if len(missing) > 0 {
		skipOrFail(t, "missing %s", strings.Join(missing, " and "))
	}
	return root, string(src)
}

var (
	seedMu   sync.Mutex
	seededDB = map[string]bool{}
)

// suite is one running server with the demo data, and one Chromium.
type suite struct {
	env  *testkit.Env
	root string
	axe  string
	ctx  context.Context // the browser's root chromedp context
}

// newSuite starts the server on a fresh port with the demo data and Chromium.
func newSuite(t *testing.T) *suite {
	t.Helper()
	root, axe := tools(t)
	env := testkit.Start(t, dbURL)
	seedMu.Lock()
	if !seededDB[dbURL] {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		_, err := seed.Run(ctx, env.DB, markup.New())
		cancel()
		if err != nil {
			seedMu.Unlock()
			t.Fatalf("seed demo data: %v", err)
		}
		seededDB[dbURL] = true
	}
	seedMu.Unlock()

	// Chromium's own temporary files (its singleton socket, shared memory
	// when /dev/shm is small) go to a test directory too, removed afterwards.
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR=" + t.TempDir())}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp's own error messages are kept and shown only if the test fails.
	cdpErrors := &testkit.SyncBuffer{}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		fmt.Fprintf(cdpErrors, format+"\n", args...)
	}))
	t.Cleanup(func() {
		if t.Failed() && cdpErrors.String() != "" {
			t.Logf("chromedp errors:\n%s", cdpErrors)
		}
		// Closing the browser normally takes milliseconds; if it hangs,
		// cancelling the allocator kills the process.
		done := make(chan struct{})
		go func() { cancel(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Log("chromium did not close within 10s; killing it")
		}
		cancelAlloc()
	})
	// The first Run binds the browser's life to its context, so it gets no
	// timeout of its own; a watchdog bounds it instead.
	if err := watchdog(startTimeout, cancelAlloc, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return &suite{env: env, root: root, axe: axe, ctx: ctx}
}

// watchdog runs f and cancels (which makes f return) when it takes longer than d.
func watchdog(d time.Duration, cancel func(), f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cancel()
		<-done
		return fmt.Errorf("timed out after %s", d)
	}
}

// tab is one browser tab in its own browser context: its own cookies and
// localStorage, like a separate person on a separate computer.
type tab struct {
	t    *testing.T
	s    *suite
	ctx  context.Context
	base string // the server this tab talks to (the suite's unless onServer says otherwise)

	mu       sync.Mutex
	problems []string // script errors and console errors (such as CSP refusals) not yet reported
}

// newTab opens a tab with a desktop viewport (1280 wide).
func (s *suite) newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := watchdog(startTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p := &tab{t: t, s: s, ctx: ctx, base: s.env.URL}
	// Uncaught script errors and console errors (a CSP refusal, a failed
	// module) are collected and fail the next page check. Error statuses of
	// documents (the 404 page, a 400 form) are expected and not collected.
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = fmt.Sprintf("uncaught exception: %s at %s:%d", d.Text, d.URL, d.LineNumber+1)
			if d.Exception != nil && d.Exception.Description != "" {
				msg += ": " + d.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError && ev.Entry.Source != cdplog.EntrySourceNetwork {
				msg = fmt.Sprintf("console %s error: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if msg != "" {
			p.mu.Lock()
			p.problems = append(p.problems, msg)
			p.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(func() {
		if probs := p.takeProblems(); len(probs) > 0 {
			t.Errorf("browser errors after the last page check:\n  %s", strings.Join(probs, "\n  "))
		}
	})
	p.viewport(desktopWidth, desktopHeight, false)
	return p
}

// takeProblems returns and forgets the collected browser errors.
func (p *tab) takeProblems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	probs := p.problems
	p.problems = nil
	return probs
}

// do runs browser steps, bounded by pageTimeout, and fails the test on error.
func (p *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one browser action with a result, bounded by pageTimeout.
func run[T any](p *tab, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](p *tab, expr string) T {
	p.t.Helper()
	return run(p, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// viewport sets the viewport size (mobile: a phone with touch and meta viewport).
func (p *tab) viewport(w, h int64, mobile bool) {
	p.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateLandscape}
	if mobile {
		opts = []chromedp.EmulateViewportOption{chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
	// Hidden scrollbars keep the layout (and the screenshots) exactly w wide.
	hideScrollbars := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScrollbarsHidden, emulation.SetScrollbarsHiddenParams{Hidden: true})
		return err
	})
	p.do(fmt.Sprintf("set the viewport to %dx%d", w, h), chromedp.EmulateViewport(w, h, opts...), hideScrollbars)
}

// open loads a path of the test server, waits for the load event and returns
// the HTTP status of the document.
func (p *tab) open(path string) int64 {
	p.t.Helper()
	resp := run(p, "open "+path, chromedp.NavigateResponse(p.base+path))
	return resp.Status
}

// submit runs the steps (a click, an Enter key) and waits for the page they
// load; it returns the HTTP status of the final document.
func (p *tab) submit(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	if resp == nil {
		p.t.Fatalf("%s: no document response", what)
	}
	return resp.Status
}

// path is the current URL's path (and query).
func (p *tab) path() string {
	p.t.Helper()
	return eval[string](p, `location.pathname + location.search`)
}

// loginForm logs in through the real login form: types into the fields and
// clicks the submit button, then expects the forum index.
func (p *tab) loginForm(email string) {
	p.t.Helper()
	if st := p.open("/login"); st != 200 {
		p.t.Fatalf("GET /login = %d", st)
	}
	p.do("type the credentials",
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), seed.DemoPassword))
	st := p.submit("submit the login form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	if got := p.path(); st != 200 || got != "/" {
		p.t.Fatalf("login as %s: landed on %s with status %d, want / with 200", email, got, st)
	}
}

// press sends keys (see package kb) to the focused element.
func (p *tab) press(what, keys string) {
	p.t.Helper()
	p.do(what, chromedp.KeyEvent(keys))
}

// screenshot saves a full-page PNG as <repo>/test-artifacts/screenshots/NAME.png.
func (p *tab) screenshot(name string) {
	p.t.Helper()
	png := run(p, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := filepath.Join(p.s.root, "test-artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// violation is one failed axe rule with the elements it failed on.
type violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []string `json:"target"`
		HTML    string   `json:"html"`
		Summary string   `json:"summary"`
	} `json:"nodes"`
}

// axeResult is what runAxe reads back from the page.
type axeResult struct {
	Violations []violation `json:"violations"`
	Incomplete []string    `json:"incomplete"` // rules axe could not decide ("needs review")
	Passes     int         `json:"passes"`
}

// runAxe injects axe-core (once per document) and runs the WCAG 2.1 A/AA rules.
func (p *tab) runAxe() axeResult {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === "object" && typeof window.axe.run === "function"`) {
		// Runtime.evaluate is not subject to the page's CSP, so the
		// strict script-src 'self' of the server needs no exception.
		p.do("inject axe-core", chromedp.Evaluate[chromedp.Void](p.s.axe+"\n;true"))
	}
	tags := `["` + strings.Join(axeTags, `","`) + `"]`
	js := `axe.run(document, {runOnly: {type: 'tag', values: ` + tags + `}, resultTypes: ['violations']}).then(r => ({
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html, summary: n.failureSummary || ""}))})),
		incomplete: r.incomplete.map(v => v.id + " (" + v.nodes.length + ")"),
		passes: r.passes.length}))`
	return run(p, "run axe-core", chromedp.Evaluate[axeResult](js, chromedp.EvalAwaitPromise))
}

// formatViolations prints each violation's id, impact, help and the first
// few elements (selector and HTML) it failed on.
func formatViolations(page string, vs []violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d axe violation(s) of WCAG 2.1 A/AA:", page, len(vs))
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  [%s] %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
		for i, n := range v.Nodes {
			if i == 4 {
				fmt.Fprintf(&b, "\n      … and %d more element(s)", len(v.Nodes)-i)
				break
			}
			html := n.HTML
			if len(html) > 200 {
				html = html[:200] + "…"
			}
			fmt.Fprintf(&b, "\n      %s\n        %s", strings.Join(n.Target, " "), html)
			if n.Summary != "" {
				fmt.Fprintf(&b, "\n        %s", strings.ReplaceAll(n.Summary, "\n", "\n        "))
			}
		}
	}
	return b.String()
}

// checkPage runs axe on the current page, fails the test on any violation, and
// saves the screenshot NAME.png.
func (p *tab) checkPage(name string) {
	p.t.Helper()
	if probs := p.takeProblems(); len(probs) > 0 {
		p.t.Errorf("%s: browser errors:\n  %s", name, strings.Join(probs, "\n  "))
	}
	p.screenshot(name)
	res := p.runAxe()
	if len(res.Violations) > 0 {
		p.t.Error(formatViolations(name, res.Violations))
	}
	if len(res.Incomplete) > 0 {
		p.t.Logf("%s: axe needs a human to review: %s", name, strings.Join(res.Incomplete, ", "))
	}
}
