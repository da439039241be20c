package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/frontend"
	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
)

// views holds one parsed template set per page: layout.html + partials + the page.
type views struct {
	pages map[string]*template.Template
	// chromeSet holds layout.html and the partials alone: the chrome-*
	// blocks are rendered from it, once per key, into chromeDone.
	chromeSet  *template.Template
	chromeDone sync.Map // chromeKey → template.HTML
}

// chromeKey names one rendering of a chrome-* block: what such a block may
// depend on — the language, and whether the reader is logged in and an admin
// (the menu's items).
type chromeKey struct{ name, lang, reader string }

// chrome renders the named chrome-* block of layout.html for p once per
// language and kind of reader, and reuses it: those blocks hold most of the
// layout's template actions (about fifty translated labels and attributes)
// and never change between two pages of the same reader kind (issue 16).
// The block is rendered in HTML text context and must be called from there.
func (v *views) chrome(name string, p Page) (template.HTML, error) {
	k := chromeKey{name: name, lang: p.Lang, reader: "anonymous"}
	switch {
	case p.User != nil && p.IsAdmin:
		k.reader = "admin"
	case p.User != nil:
		k.reader = "member"
	}
	if h, ok := v.chromeDone.Load(k); ok {
		return h.(template.HTML), nil
	}
	var buf bytes.Buffer
	if err := v.chromeSet.ExecuteTemplate(&buf, name, p); err != nil {
		return "", fmt.Errorf("chrome %s: %w", name, err)
	}
	h := template.HTML(buf.String())
	v.chromeDone.Store(k, h)
	return h, nil
}

func newViews(st *staticFiles) (*views, error) { return parseViews(st, frontend.FS) }

// parseViews parses the templates of fsys (frontend.FS but in tests).
func parseViews(st *staticFiles, fsys fs.FS) (*views, error) {
	v := &views{pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"chrome":          v.chrome,
		"threadLiveHead":  threadLiveHead,
		"threadWatchForm": threadWatchForm,
		"threadBodyField": threadBodyField,
		"static":          st.URL,
		"join":            func(parts ...string) string { return strings.Join(parts, "") },
		"add":             func(a, b int) int { return a + b },
		"sub":             func(a, b int) int { return a - b },
		"div":             func(a, b int) int { return a / b },
		"deref": func(p any) any {
			switch v := p.(type) {
			case *string:
				if v == nil {
					return ""
				}
				return *v
			case *int64:
				if v == nil {
					return int64(0)
				}
				return *v
			}
			return p
		},
		"errorItems": errorItems,
		"eqi64":      func(a *int64, b int64) bool { return a != nil && *a == b },
		// initials and avatarTone draw a person's initials avatar (the
		// "avatar" partial in _people.html): the tone is fixed by the id.
		"initials":   initials,
		"avatarTone": func(id int64) int64 { return ((id % avatarTones) + avatarTones) % avatarTones },
		"query":      url.QueryEscape,
		"list":       func(items ...string) []string { return items },
		"hasPrefix":  strings.HasPrefix,
		// filesize writes a byte count as people read it: filesize .Size $.Lang.
		"filesize": humanSize,
		// safeHTML marks text that was sanitized by package markup when it was
		// written; it is never applied to anything else.
		"safeHTML": func(s string) template.HTML { return template.HTML(s) },
		// dict passes several values to a sub-template: dict "Page" $ "Name" "email".
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs key/value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
	}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base := template.New("").Funcs(funcs)
	var pages []string
	for _, n := range names {
		b := path.Base(n)
		if b == "layout.html" || strings.HasPrefix(b, "_") {
			if _, err := base.ParseFS(fsys, n); err != nil {
				return nil, fmt.Errorf("parse %s: %w", n, err)
			}
			continue
		}
		pages = append(pages, n)
	}
	chromeSet, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("clone layout: %w", err)
	}
	v.chromeSet = chromeSet
	for _, n := range pages {
		t, err := template.Must(base.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		v.pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return v, nil
}

// avatarTones is the number of avatar colours in app.css (.avatar.tone-N),
// each dark enough for white initials at WCAG AA.
const avatarTones = 8

// initials are the first letters of a name's first and last words
// ("Katarzyna Wójcik" → "KW"), upper-cased; one word gives one letter.
func initials(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return "?"
	}
	first := func(w string) string {
		for _, r := range w {
			return strings.ToUpper(string(r))
		}
		return ""
	}
	if len(words) == 1 {
		return first(words[0])
	}
	return first(words[0]) + first(words[len(words)-1])
}

// errorItem is one line of a form's error summary.
type errorItem struct {
	Field    string // "" for a message about the whole form
	Target   string // the id (without "f-") the line links to
	LabelKey string // catalog key of the field's name
	Msg      string
}

// fieldOrder is the order fields appear in on the forms, so a summary lists
// problems as a reader meets them; a field not listed comes after, by name.
var fieldOrder = []string{"email", "name", "display_name", "position", "number", "reply_to", "rating", "title", "starts_at", "ends_at", "location",
	"online_url", "areas", "agenda", "body", "group_id", "user_id", "role", "jst_id", "kind", "voivodeship", "teryt",
	"slug", "description", "deadline", "macro_area", "until", "status", "reason", "password", "new_password", "code", "file"}

// fieldTarget: where a summary line about a field made of several inputs links.
var fieldTarget = map[string]string{"starts_at": "starts_date", "ends_at": "ends_date"}

// fieldLabel: fields whose name is not under "field.<name>" in the catalog.
var fieldLabel = map[string]string{"jst_id": "field.jst", "group_id": "field.group", "areas": "thread.areas", "user_id": "field.user"}

// errorItems orders a form's errors as its fields appear: the whole form's
// message first, then field by field.
func errorItems(errs map[string]string) []errorItem {
	rank := func(f string) int {
		if f == "form" {
			return -1
		}
		for i, o := range fieldOrder {
			if o == f {
				return i
			}
		}
		return len(fieldOrder)
	}
	out := make([]errorItem, 0, len(errs))
	for f, m := range errs {
		it := errorItem{Field: f, Target: f, LabelKey: "field." + f, Msg: m}
		if f == "form" {
			it.Field = ""
		}
		if t, ok := fieldTarget[f]; ok {
			it.Target = t
		}
		if l, ok := fieldLabel[f]; ok {
			it.LabelKey = l
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(errFieldName(out[i])), rank(errFieldName(out[j]))
		if ri != rj {
			return ri < rj
		}
		return out[i].Field < out[j].Field
	})
	return out
}

func errFieldName(it errorItem) string {
	if it.Field == "" {
		return "form"
	}
	return it.Field
}

// Page is what every template receives.
type Page struct {
	Title   string
	Tr      *i18n.Printer
	Lang    string
	User    *model.User
	Actor   *access.Actor
	CSRF    string
	Nav     string
	Flash   string
	Path    string
	Data    any
	Errors  map[string]string // per-field messages, already translated
	Form    map[string]string // submitted values, re-shown after an error
	IsAdmin bool
	Unread  int // unread notifications, for the header
	// Now is when the page was rendered: relative times ("5 minut temu") count from it.
	Now time.Time
	// TwoFactorDue is the last day (formatted) by which the user's roles
	// require two-factor login, shown as a reminder until they enable it.
	TwoFactorDue string
	// Newsletter, on the programme's pages, offers the newsletter (issue 12
	// item 8) or says that the reader gets it; nil elsewhere.
	Newsletter *newsletterOffer
}

// newsletterOffer is the reader's newsletter subscription, for the
// "newsletter-offer" partial.
type newsletterOffer struct{ Subscribed bool }

type pageOpts struct {
	Title  string
	Nav    string
	Errors map[string]string
	Form   map[string]string
	// NoTwoFactorBanner: the two-step login set-up pages themselves do not
	// remind of its deadline.
	NoTwoFactorBanner bool
	// NewsletterOffer: a programme page (good practices, tournaments,
	// reviews) that offers its logged-in reader the newsletter.
	NewsletterOffer bool
}

// render executes a page template into the response.
func (s *server) render(c *fiber.Ctx, name string, o pageOpts, data any) error {
	t, ok := s.views.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	l := lang(c)
	p := Page{Title: o.Title, Tr: s.tr(c), Lang: l, Nav: o.Nav, Path: c.Path(), Data: data,
		Errors: o.Errors, Form: o.Form, Flash: s.takeFlash(c), Now: time.Now()}
	if pr := principal(c); pr != nil {
		p.User, p.Actor, p.CSRF, p.IsAdmin, p.Unread = &pr.User, pr.Actor, pr.CSRFToken, pr.Actor.IsAdmin(), pr.UnreadNotifications
		if pr.TwoFactorDeadline != nil && !pr.TwoFactorEnabled && !o.NoTwoFactorBanner {
			// The deadline is the start of the day after the last allowed one.
			p.TwoFactorDue = p.Tr.Date(pr.TwoFactorDeadline.Add(-time.Minute))
		}
		if o.NewsletterOffer {
			prefs, err := s.Mail.PrefsOf(c.UserContext(), pr.User.ID)
			if err != nil {
				return err
			}
			p.Newsletter = &newsletterOffer{Subscribed: prefs[mail.KindNewsletter] != mail.Never}
		}
	}
	// The page is written straight into the response's body buffer, which
	// fasthttp pools: a page-sized buffer grown and copied on every view was
	// a good part of the page's allocations (issue 16). A failed rendering
	// leaves no half page behind for the error handler.
	c.Response().ResetBody()
	if err := t.ExecuteTemplate(c, "layout", p); err != nil {
		c.Response().ResetBody()
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return nil
}

// tr is the request's printer: every message, date and time zone a handler
// shows goes through it, in the reader's language.
func (s *server) tr(c *fiber.Ctx) *i18n.Printer { return s.Catalog.Printer(lang(c)) }

func lang(c *fiber.Ctx) string {
	if l, ok := c.Locals(localLang).(string); ok {
		return l
	}
	return "pl"
}

// Flash messages survive one redirect in a short-lived cookie holding a catalog key.
func (s *server) flash(c *fiber.Ctx, key string) {
	c.Cookie(&fiber.Cookie{Name: "flash", Value: key, Path: "/", HTTPOnly: true, Secure: s.Config.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60})
}

func (s *server) takeFlash(c *fiber.Ctx) string {
	key := c.Cookies("flash")
	if key == "" {
		return ""
	}
	c.Cookie(&fiber.Cookie{Name: "flash", Value: "", Path: "/", MaxAge: -1, HTTPOnly: true, Secure: s.Config.Secure()})
	if !strings.HasPrefix(key, "flash.") {
		return ""
	}
	// T shows the id of a missing message; the cookie is the visitor's, so an
	// unknown key is dropped. (Printer.Has is false for every non-plural message.)
	msg := s.tr(c).T(key)
	if msg == key {
		return ""
	}
	return msg
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// translateErrors turns a validation error's catalog keys into messages.
func (s *server) translateErrors(c *fiber.Ctx, fields map[string]string) map[string]string {
	tr := s.tr(c)
	out := make(map[string]string, len(fields))
	for f, k := range fields {
		out[f] = tr.T(k)
	}
	return out
}
