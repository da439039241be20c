package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/store"
)

const (
	memberEmail = "k.wojcik@morawica.example"
	adminEmail  = "admin@forum-jst.example"
	memberGroup = "gwd-wiejskie" // the member's group in the demo data
	// ruralHeading is the section of the index that lists the member's group.
	ruralHeading = "Gminy wiejskie i miejsko-wiejskie"
)

// The public pages: the about page, the login page, and the login page after
// an empty submit. Also the basics: lang="pl", the skip link comes first and
// works, every login field has a label.
func TestAnonymousPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)

	if st := p.open("/"); st != 200 {
		t.Fatalf("GET / (anonymous) = %d", st)
	}
	if lang := eval[string](p, `document.documentElement.lang`); lang != "pl" {
		t.Errorf(`<html lang> = %q, want "pl"`, lang)
	}
	p.checkPage("about")

	// The skip link is the first thing the Tab key reaches, it becomes
	// visible when focused, and Enter moves the focus to the main content.
	p.press("press Tab", kb.Tab)
	if href := eval[string](p, `document.activeElement.getAttribute("href") || ""`); href != "#main" {
		t.Errorf("first Tab focuses %q (%s), want the skip link to #main", href,
			eval[string](p, `document.activeElement.outerHTML.slice(0, 120)`))
	} else {
		if !eval[bool](p, `(() => { const r = document.activeElement.getBoundingClientRect();
			return r.left >= 0 && r.top >= 0 && r.width > 0 && r.right <= innerWidth })()`) {
			t.Error("the focused skip link is not visible on screen")
		}
		p.press("press Enter on the skip link", kb.Enter)
		if id := eval[string](p, `document.activeElement.id`); id != "main" {
			t.Errorf("after following the skip link the focus is on %q, want #main", id)
		}
	}

	if st := p.open("/login"); st != 200 {
		t.Fatalf("GET /login = %d", st)
	}
	if lang := eval[string](p, `document.documentElement.lang`); lang != "pl" {
		t.Errorf(`login: <html lang> = %q, want "pl"`, lang)
	}
	// Every visible field of the login form has a non-empty <label>.
	unlabelled := eval[[]string](p, `[...document.querySelectorAll("main form input:not([type=hidden]), main form select, main form textarea")]
		.filter(el => !el.labels || el.labels.length === 0 || !el.labels[0].textContent.trim())
		.map(el => el.id || el.name)`)
	if len(unlabelled) > 0 {
		t.Errorf("login fields without a label: %v", unlabelled)
	}
	labels := eval[[]string](p, `[...document.querySelectorAll("#f-email, #f-password")].map(el => el.labels[0] ? el.labels[0].textContent.trim() : "")`)
	if len(labels) != 2 || labels[0] == "" || labels[1] == "" {
		t.Errorf("login labels = %q, want two non-empty labels", labels)
	}
	p.checkPage("login")

	// An empty submit: the error summary names both fields, they are marked
	// invalid and described by their messages.
	st := p.submit("submit the empty login form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	if st != 400 {
		t.Errorf("empty login submit = %d, want 400", st)
	}
	// Each problem in the summary names its field and links to it.
	items := eval[[]string](p, `[...document.querySelectorAll(".error-summary li a")].map(a => a.getAttribute("href") + " " + a.textContent.trim())`)
	if len(items) != 2 || !strings.HasPrefix(items[0], "#f-email Adres e-mail") || !strings.HasPrefix(items[1], "#f-password Hasło") {
		t.Errorf("error summary links = %q, want one per field, naming it", items)
	}
	for _, id := range []string{"f-email", "f-password"} {
		got := eval[string](p, `(() => { const el = document.getElementById("`+id+`");
			const d = (el.getAttribute("aria-describedby") || "").trim();
			return el.getAttribute("aria-invalid") + "|" + (d && document.getElementById(d) ? document.getElementById(d).textContent.trim() : "") })()`)
		if !strings.HasPrefix(got, "true|") || got == "true|" {
			t.Errorf("#%s after an empty submit: aria-invalid|description = %q, want true|<message>", id, got)
		}
	}
	if active := eval[string](p, `document.activeElement.className`); !strings.Contains(active, "error-summary") {
		t.Errorf("after a failed submit the focus is on %q, want the error summary (so screen readers announce it)", active)
	}
	p.checkPage("login-error")

	// The login page on a phone (390 px wide): nothing scrolls sideways.
	p.viewport(mobileWidth, mobileHeight, true)
	p.open("/login")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > mobileWidth {
		t.Errorf("login at %dpx scrolls sideways: the page is %dpx wide", mobileWidth, w)
	}
	p.checkPage("login-mobile")
}

// A member logs in through the form and sees the index; the index is checked
// at desktop and phone widths, with larger text and in high contrast.
func TestMemberPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	p := s.newTab(t)
	p.loginForm(memberEmail)

	headings := eval[[]string](p, `[...document.querySelectorAll("main h2")].map(h => h.textContent.trim())`)
	if !contains(headings, ruralHeading) {
		t.Errorf("index headings = %q, want %q", headings, ruralHeading)
	}
	if eval[string](p, `document.documentElement.lang`) != "pl" {
		t.Error(`index: <html lang> is not "pl"`)
	}
	p.checkPage("index-member")

	// A+ makes the text larger: the computed font size of <html> grows.
	before := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
	p.do("click A+", chromedp.Click(chromedp.CSS(`[data-a11y-font="up"]`)))
	after := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
	if !(after > before) {
		t.Errorf("A+ changed the font size of <html> from %.2fpx to %.2fpx, want larger", before, after)
	}
	// The choice is remembered on the next page.
	p.open("/")
	if again := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); again != after {
		t.Errorf("after reloading, the font size is %.2fpx, want the chosen %.2fpx", again, after)
	}
	p.screenshot("index-member-larger-text")
	p.do("click A−", chromedp.Click(chromedp.CSS(`[data-a11y-font="down"]`)))
	if back := eval[float64](p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); back != before {
		t.Errorf("A− after A+ gives %.2fpx, want the original %.2fpx", back, before)
	}

	// The member's group page and its first thread.
	if st := p.open("/g/" + strconv.FormatInt(group.ID, 10)); st != 200 {
		t.Errorf("GET /g/%d = %d", group.ID, st)
	}
	p.checkPage("group")
	// A seeded thread someone else started (other tests of the package may
	// have started newer ones as this member, whose posts offer no report).
	href := eval[string](p, `([...document.querySelectorAll(".thread-list a[href^='/t/']")].find(a => a.textContent.includes("Dowozy uczniów")) || {}).pathname || ""`)
	if href == "" {
		t.Fatal("the group page lists no thread link")
	}
	if st := p.open(href); st != 200 {
		t.Fatalf("GET %s = %d", href, st)
	}
	p.checkPage("thread")
	// The report form a member reaches from a post.
	if rep := eval[string](p, `(document.querySelector("a[href$='/report']") || {}).pathname || ""`); rep == "" {
		t.Error("thread page offers no report link")
	} else if st := p.open(rep); st != 200 {
		t.Errorf("GET %s = %d", rep, st)
	} else {
		p.checkPage("post-report")
	}

	// A page that does not exist.
	if st := p.open("/g/999999"); st != 404 {
		t.Errorf("GET /g/999999 = %d, want 404", st)
	}
	if h1 := run(p, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); strings.TrimSpace(h1) == "" {
		t.Error("404 page has no heading")
	}
	p.checkPage("not-found")

	// The index on a phone (390 px wide).
	p.viewport(mobileWidth, mobileHeight, true)
	p.open("/")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > mobileWidth {
		t.Errorf("index at %dpx scrolls sideways: the page is %dpx wide", mobileWidth, w)
	}
	p.checkPage("index-mobile")
	p.viewport(desktopWidth, desktopHeight, false)

	// High contrast: the "Kontrast" toggle is pressed and the page passes again.
	p.open("/")
	label := run(p, "read the contrast button", chromedp.Text(chromedp.CSS(`[data-a11y-contrast]`)))
	if !strings.Contains(label, "Kontrast") {
		t.Errorf("contrast button label = %q, want Kontrast", label)
	}
	p.do("click Kontrast", chromedp.Click(chromedp.CSS(`[data-a11y-contrast]`)))
	if got := eval[string](p, `document.querySelector("[data-a11y-contrast]").getAttribute("aria-pressed") + " " + document.documentElement.classList.contains("contrast")`); got != "true true" {
		t.Errorf("after clicking Kontrast: aria-pressed and html.contrast = %q, want \"true true\"", got)
	}
	p.checkPage("index-contrast")
}

// The administrator's pages, with an invitation created through the form so
// that its one-time link is shown.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	member, err := store.GetUserByEmail(context.Background(), s.env.DB, memberEmail)
	if err != nil {
		t.Fatal(err)
	}
	p := s.newTab(t)
	p.loginForm(adminEmail)

	pages := []struct{ name, path string }{
		{"admin-users", "/admin/users"},
		{"admin-user", "/admin/users/" + strconv.FormatInt(member.ID, 10)},
		{"admin-jst", "/admin/jst"},
		{"admin-groups", "/admin/groups"},
	}
	for _, pg := range pages {
		if st := p.open(pg.path); st != 200 {
			t.Errorf("GET %s = %d", pg.path, st)
			continue
		}
		p.checkPage(pg.name)
	}

	// The end-sessions confirmation, reached from the user's page.
	p.open("/admin/users/" + strconv.FormatInt(member.ID, 10))
	if st := p.submit("click the end-sessions button", chromedp.Click(chromedp.CSS(`a.button.danger[href$="/sessions/end"]`))); st != 200 {
		t.Errorf("end-sessions confirmation = %d", st)
	}
	if !strings.HasSuffix(p.path(), "/sessions/end") {
		t.Errorf("end-sessions button led to %s", p.path())
	}
	p.checkPage("admin-confirm-end-sessions")

	// Create an invitation through the form; the page shows the one-time link.
	if st := p.open("/admin/invitations"); st != 200 {
		t.Fatalf("GET /admin/invitations = %d", st)
	}
	p.do("type the invitation email",
		chromedp.SendKeys(chromedp.CSS("#f-email"), "nowy.delegat@lubicz.example"),
		chromedp.SendKeys(chromedp.CSS("#f-job_title"), "Inspektor ds. oświaty"))
	if st := p.submit("submit the invitation form",
		chromedp.Click(chromedp.CSS(`form[action="/admin/invitations"] button[type="submit"]`))); st != 201 {
		t.Errorf("create invitation = %d, want 201", st)
	}
	link := run(p, "read the invitation link", chromedp.Value(chromedp.CSS("#invite-url")))
	if !strings.Contains(link, "/invite/") {
		t.Errorf("invitation link = %q", link)
	}
	p.checkPage("admin-invitations")
}

// Keyboard only: focus the email field, type, Tab to the password, type, Enter.
// A moderator's tools: the panels on the group and thread pages, every
// moderation form, the report queue, mutes and the audit log.
func TestModeratorPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.FormatInt(group.ID, 10)
	p := s.newTab(t)
	p.loginForm("moderator@forum-jst.example")

	if st := p.open("/g/" + gid); st != 200 {
		t.Fatalf("GET /g/%s = %d", gid, st)
	}
	if n := eval[int](p, `document.querySelectorAll(".mod-panel").length`); n != 1 {
		t.Errorf("group page shows %d moderation panels to a moderator, want 1", n)
	}
	p.checkPage("mod-group")
	// A seeded thread someone else started (other tests of the package may
	// have started newer ones as this member, whose posts offer no report).
	href := eval[string](p, `([...document.querySelectorAll(".thread-list a[href^='/t/']")].find(a => a.textContent.includes("Dowozy uczniów")) || {}).pathname || ""`)
	if href == "" {
		t.Fatal("the group page lists no thread link")
	}
	p.open(href)
	p.do("open the split form", chromedp.Click(chromedp.CSS(`details.split summary`)))
	p.checkPage("mod-thread")
	for _, form := range []string{"hide", "edit", "move", "merge"} {
		if st := p.open(href + "/mod/" + form); st != 200 {
			t.Errorf("GET %s/mod/%s = %d", href, form, st)
			continue
		}
		p.checkPage("mod-form-" + form)
	}
	p.open(href)
	if hide := eval[string](p, `(document.querySelector("a[href$='/mod/hide'][href^='/p/']") || {}).pathname || ""`); hide == "" {
		t.Error("thread page offers a moderator no post hide link")
	} else {
		p.open(hide)
		// Submitting without a reason is refused with the reason field marked.
		if st := p.submit("submit without a reason", chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); st != 400 {
			t.Errorf("hiding a post without a reason answered %d, want 400", st)
		}
		p.checkPage("mod-post-hide-error")
	}
	for _, page := range []string{"flags", "mutes", "audit"} {
		if st := p.open("/g/" + gid + "/" + page); st != 200 {
			t.Errorf("GET /g/%s/%s = %d", gid, page, st)
			continue
		}
		p.checkPage("mod-" + page)
	}
}

func TestKeyboardOnlyLogin(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	if st := p.open("/login"); st != 200 {
		t.Fatalf("GET /login = %d", st)
	}
	p.do("focus the email field", chromedp.Focus(chromedp.CSS("#f-email")))
	p.press("type the email", memberEmail)
	p.press("press Tab", kb.Tab)
	if id := eval[string](p, `document.activeElement.id`); id != "f-password" {
		t.Fatalf("Tab from the email field focuses #%s, want #f-password", id)
	}
	p.press("type the password", seed.DemoPassword)
	st := p.submit("press Enter", chromedp.KeyEvent(kb.Enter))
	if got := p.path(); st != 200 || got != "/" {
		t.Fatalf("keyboard login landed on %s with status %d, want / with 200", got, st)
	}
	headings := eval[[]string](p, `[...document.querySelectorAll("main h2")].map(h => h.textContent.trim())`)
	if !contains(headings, ruralHeading) {
		t.Errorf("after keyboard login the index headings are %q, want %q", headings, ruralHeading)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// demoNotePeople finds the demo's rural group, its moderator and a member.
func demoNotePeople(t *testing.T, s *suite) (model.Group, model.User, model.User) {
	t.Helper()
	ctx := context.Background()
	group, err := store.GetGroupBySlug(ctx, s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	var people [2]model.User
	for i, email := range []string{"moderator@forum-jst.example", memberEmail} {
		if people[i], err = store.GetUserByEmail(ctx, s.env.DB, email); err != nil {
			t.Fatal(err)
		}
	}
	return group, people[0], people[1]
}

// Session notes, files, attendance and the record (issue 6), as a moderator of
// the demo's rural group: a note written through the form, a file uploaded by
// the browser itself (Polish name), a stale save showing both texts, the
// history with its diff, and the record as printed.
func TestNotesPages(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, mod, member := demoNotePeople(t, s)
	// A meeting of our own, so the demo's meetings stay as other tests expect them.
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	agenda := "**Dzień 1:** wizyta w Szkole Podstawowej w Lubiczu\n\n**Dzień 2:** warsztat diagnozy potrzeb"
	agendaHTML, err := markup.New().Render(agenda)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.CreateMeeting(ctx, s.env.DB, store.NewMeeting{GroupID: group.ID, Title: "Sesja 6: Wspomaganie szkół (test notatek)",
		StartsAt: start, EndsAt: start.Add(30 * time.Hour), Location: "Urząd Gminy Lubicz", Agenda: agenda, AgendaHTML: agendaHTML, CreatedBy: mod.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"Dzień dobry, zaczynamy od wizyty w szkole.", "Prezentacja jest w plikach spotkania."} {
		if _, err := store.InsertChatMessage(ctx, s.env.DB, store.NewChatMessage{MeetingID: m.ID, AuthorID: []int64{mod.ID, member.ID}[i],
			ClientID: uuid.NewString(), Body: body, BodyHTML: "<p>" + body + "</p>"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetAnswer(ctx, s.env.DB, m.ID, member.ID, store.AnswerYes); err != nil {
		t.Fatal(err)
	}
	mid := strconv.FormatInt(m.ID, 10)
	p := s.newTab(t)
	p.loginForm("moderator@forum-jst.example")

	// A new note through the form.
	if st := p.open("/m/" + mid + "/notes/new"); st != 200 {
		t.Fatalf("GET new note = %d", st)
	}
	p.checkPage("note-new")
	p.do("write the note",
		chromedp.SendKeys(chromedp.CSS("#f-title"), "Notatka z sesji 6"),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "## Ustalenia\n\n1. Diagnoza potrzeb do końca marca.\n2. Wizyta studyjna w maju."))
	if st := p.submit("create the note", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Fatalf("create note = %d", st)
	}
	notePath := p.path()
	if !strings.HasPrefix(notePath, "/n/") {
		t.Fatalf("after creating a note the browser is at %s", notePath)
	}
	p.checkPage("note")

	// A file uploaded by the browser, named in Polish.
	dir := t.TempDir()
	file := filepath.Join(dir, "Prezentacja_gminy_łódź.pdf")
	if err := os.WriteFile(file, []byte("%PDF-1.4\n% test\ntrailer << >>\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := p.open("/m/" + mid + "/files"); st != 200 {
		t.Fatalf("GET files = %d", st)
	}
	// Submitting without a file: the error summary names the field.
	if st := p.submit("upload nothing", chromedp.Click(chromedp.CSS(`form.upload-form button[type="submit"]`))); st != 400 {
		t.Errorf("upload without a file = %d, want 400", st)
	}
	if n := eval[int](p, `document.querySelectorAll(".error-summary a[href='#f-file']").length`); n != 1 {
		t.Error("the error summary does not link to the file field")
	}
	p.checkPage("files-error")
	p.do("choose the file", chromedp.SetUploadFiles(chromedp.CSS("#f-file"), []string{file}))
	if st := p.submit("upload the file", chromedp.Click(chromedp.CSS(`form.upload-form button[type="submit"]`))); st != 200 {
		t.Fatalf("upload = %d", st)
	}
	if name := eval[string](p, `(document.querySelector("table.files td a") || {}).textContent || ""`); name != "Prezentacja_gminy_łódź.pdf" {
		t.Errorf("the files page lists %q", name)
	}
	p.checkPage("files")
	del := eval[string](p, `(document.querySelector("a[href^='/files/'][href$='/delete']") || {}).pathname || ""`)
	if del == "" {
		t.Error("no delete link for the uploader")
	} else if st := p.open(del); st != 200 {
		t.Errorf("GET %s = %d", del, st)
	} else {
		p.checkPage("file-delete")
	}

	// Someone else saves while the moderator edits: the form comes back with
	// both texts.
	if st := p.open(notePath + "/edit"); st != 200 {
		t.Fatalf("GET edit = %d", st)
	}
	if id := eval[string](p, `(document.querySelector("[data-note-id]") || {dataset: {}}).dataset.noteId || ""`); "/n/"+id != notePath {
		t.Errorf("edit page data-note-id = %q", id)
	}
	p.checkPage("note-edit")
	noteID, _ := strconv.ParseInt(strings.TrimPrefix(notePath, "/n/"), 10, 64)
	s.env.DB.MustExec(`UPDATE notes SET body = body || E'\n3. Członek dopisał: budżet na dowozy.', version = version + 1, edited_by = $2 WHERE id = $1`,
		noteID, member.ID)
	appendText := func(text string) string {
		return `(() => { const f = document.querySelector("#f-body"); f.value += ` + strconv.Quote(text) + `; return f.value })()`
	}
	eval[string](p, appendText("\n3. Moderator dopisał: rekomendacje do diagnozy."))
	if st := p.submit("save the stale version", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 409 {
		t.Fatalf("stale save = %d, want 409", st)
	}
	theirs := eval[string](p, `document.querySelector(".conflict-current pre").textContent`)
	mine := eval[string](p, `document.querySelector("#f-body").value`)
	if !strings.Contains(theirs, "Członek dopisał") || !strings.Contains(mine, "Moderator dopisał") {
		t.Errorf("conflict page: theirs %q, mine %q", theirs, mine)
	}
	p.checkPage("note-conflict")
	eval[string](p, appendText("\n4. Członek dopisał: budżet na dowozy."))
	if st := p.submit("save the merge", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 || p.path() != notePath {
		t.Fatalf("merged save = %d at %s", st, p.path())
	}

	if st := p.open(notePath + "/history"); st != 200 {
		t.Fatalf("GET history = %d", st)
	}
	if n := eval[int](p, `document.querySelectorAll(".diff ins").length`); n == 0 {
		t.Error("the history shows no added line")
	}
	p.checkPage("note-history")

	if st := p.open("/m/" + mid + "/attendance"); st != 200 {
		t.Fatalf("GET attendance = %d", st)
	}
	p.checkPage("attendance")

	// The meeting page links it all: notes, files with the upload form, the
	// attendance form and the record.
	if st := p.open("/m/" + mid); st != 200 {
		t.Fatalf("GET meeting = %d", st)
	}
	for _, sel := range []string{"#notes a[href^='/n/']", "#files form.upload-form", "#attendance form.answer-form", "a[href='/m/" + mid + "/record']"} {
		if !eval[bool](p, `!!document.querySelector("`+sel+`")`) {
			t.Errorf("meeting page lacks %s", sel)
		}
	}
	p.checkPage("meeting-notes-files")

	// The record, on screen and as printed: no header, navigation or forms.
	if st := p.open("/m/" + mid + "/record"); st != 200 {
		t.Fatalf("GET record = %d", st)
	}
	p.checkPage("record")
	printMedia := func(media string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		})
	}
	p.do("emulate print", printMedia("print"))
	visible := eval[[]string](p, `[...document.querySelectorAll(".site-header, .site-footer, .breadcrumb, form, .no-print")]
		.filter(el => getComputedStyle(el).display !== "none").map(el => el.className || el.tagName)`)
	if len(visible) > 0 {
		t.Errorf("printed record still shows %v", visible)
	}
	p.screenshot("record-print")
	p.do("back to screen", printMedia(""))
}

// A moderator and a member edit one session note at the same moment, each in
// a browser of their own (issue 6's "done when"): each edit page names the
// other editor; when the member saves first, the moderator's page says so at
// once; the moderator's stale save comes back with both texts; the merged
// save keeps both people's lines.
func TestNoteEditedTogether(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	group, mod, _ := demoNotePeople(t, s)
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	m, err := store.CreateMeeting(ctx, s.env.DB, store.NewMeeting{GroupID: group.ID, Title: "Sesja 7: Wspólna notatka",
		StartsAt: start, EndsAt: start.Add(8 * time.Hour), Location: "Starostwo Powiatowe", Agenda: "Notatka", AgendaHTML: "<p>Notatka</p>", CreatedBy: mod.ID})
	if err != nil {
		t.Fatal(err)
	}
	pm, pk := s.newTab(t), s.newTab(t)
	pm.loginForm("moderator@forum-jst.example")
	pk.loginForm(memberEmail)

	if st := pm.open(fmt.Sprintf("/m/%d/notes/new", m.ID)); st != 200 {
		t.Fatalf("GET new note = %d", st)
	}
	pm.do("write the note",
		chromedp.SendKeys(chromedp.CSS("#f-title"), "Notatka z sesji 7"),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "## Ustalenia\n\n1. Diagnoza potrzeb do marca."))
	if st := pm.submit("create the note", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Fatalf("create note = %d", st)
	}
	edit := pm.path() + "/edit"
	for _, p := range []*tab{pm, pk} {
		if st := p.open(edit); st != 200 {
			t.Fatalf("GET %s = %d", edit, st)
		}
	}
	const jsEditors = `(document.getElementById("note-editors").hidden ? "" : document.getElementById("note-editors").textContent)`
	pm.waitFor("the moderator to see the member editing", jsEditors+`.includes("Katarzyna Wójcik")`, jsEditors)
	pk.waitFor("the member to see the moderator editing", jsEditors+`.length > 0`, jsEditors)
	if got := eval[string](pk, jsEditors); strings.Contains(got, "Katarzyna Wójcik") {
		t.Errorf("the member is listed as another editor of their own page: %q", got)
	}
	pm.checkPage("note-edit-together")

	appendText := func(p *tab, text string) {
		p.t.Helper()
		eval[string](p, `(() => { const f = document.querySelector("#f-body"); f.value += `+strconv.Quote(text)+`; return f.value })()`)
	}
	// Both type; the member saves first.
	appendText(pm, "\n2. Moderator: rekomendacje do diagnozy.")
	appendText(pk, "\n2. Członkini: budżet na dowozy.")
	if st := pk.submit("the member saves", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Fatalf("member's save = %d", st)
	}
	const jsSaved = `(document.getElementById("note-saved").hidden ? "" : document.getElementById("note-saved").textContent)`
	pm.waitFor("the moderator to be told of the member's save", jsSaved+`.includes("Katarzyna Wójcik") && `+jsSaved+`.includes("wersja 2")`, jsSaved)
	if got := eval[string](pm, `document.querySelector("#f-body").value`); !strings.Contains(got, "Moderator: rekomendacje") {
		t.Errorf("the notice changed the moderator's text: %q", got)
	}
	pm.checkPage("note-edit-someone-saved")

	if st := pm.submit("the moderator saves the stale version", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 409 {
		t.Fatalf("stale save = %d, want 409", st)
	}
	theirs := eval[string](pm, `document.querySelector(".conflict-current pre").textContent`)
	mine := eval[string](pm, `document.querySelector("#f-body").value`)
	if !strings.Contains(theirs, "Członkini: budżet") || !strings.Contains(mine, "Moderator: rekomendacje") {
		t.Fatalf("conflict page: theirs %q, mine %q", theirs, mine)
	}
	appendText(pm, "\n3. Członkini: budżet na dowozy.")
	if st := pm.submit("save the merge", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); st != 200 {
		t.Fatalf("merged save = %d", st)
	}
	body := eval[string](pm, `document.querySelector(".post-body").textContent`)
	for _, want := range []string{"Diagnoza potrzeb", "Moderator: rekomendacje", "Członkini: budżet"} {
		if !strings.Contains(body, want) {
			t.Errorf("the saved note lacks %q: %q", want, body)
		}
	}
}
