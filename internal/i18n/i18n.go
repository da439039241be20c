// Package i18n holds the Polish and English message catalogs. Plural forms follow
// CLDR rules through go-i18n (Polish needs one/few/many/other: 1 wątek, 2 wątki,
// 5 wątków), and dates are shown in Europe/Warsaw whatever the server's zone.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var locales embed.FS

// Languages the UI speaks, default first.
var Languages = []string{"pl", "en"}

// Catalog is built once at start and shared.
type Catalog struct {
	bundle   *goi18n.Bundle
	zone     *time.Location
	printers map[string]*Printer
}

func New() (*Catalog, error) {
	zone, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return nil, fmt.Errorf("load Europe/Warsaw: %w", err)
	}
	b := goi18n.NewBundle(language.Polish)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range Languages {
		files, err := catalogFiles(locales, l)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if _, err := b.LoadMessageFileFS(locales, f); err != nil {
				return nil, fmt.Errorf("load %s catalog %s: %w", l, f, err)
			}
		}
	}
	c := &Catalog{bundle: b, zone: zone, printers: map[string]*Printer{}}
	for _, l := range Languages {
		c.printers[l] = &Printer{Lang: l, loc: goi18n.NewLocalizer(b, l), zone: zone, cache: &sync.Map{}, plurals: &sync.Map{}, frames: &sync.Map{}}
	}
	return c, nil
}

// catalogFiles lists a language's message files: locales/{lang}.json and one
// locales/{area}.{lang}.json per feature area, so areas built side by side
// each keep their own file.
func catalogFiles(fsys fs.FS, lang string) ([]string, error) {
	areas, err := fs.Glob(fsys, "locales/*."+lang+".json")
	if err != nil {
		return nil, fmt.Errorf("list %s catalogs: %w", lang, err)
	}
	return append([]string{"locales/" + lang + ".json"}, areas...), nil
}

// Printer returns the printer for lang, falling back to Polish.
func (c *Catalog) Printer(lang string) *Printer {
	if p, ok := c.printers[lang]; ok {
		return p
	}
	return c.printers[Languages[0]]
}

// Match picks a supported language from an Accept-Language header.
func Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return ""
	}
	for _, t := range tags {
		base, _ := t.Base()
		for _, l := range Languages {
			if base.String() == l {
				return l
			}
		}
	}
	return ""
}

// Printer translates into one language. Safe for concurrent use.
type Printer struct {
	Lang  string
	loc   *goi18n.Localizer
	zone  *time.Location
	cache *sync.Map // message id → string, for messages without arguments
	// plurals: (message id, count) → string, for counts below pluralCacheMax
	// (lists print "12 wpisów", "5 minut temu" for each line).
	plurals *sync.Map
	// frames: (message id, argument key) → the text around the argument.
	frames *sync.Map
}

// pluralCacheMax bounds the plural cache: counts from 0 to 999 per message.
const pluralCacheMax = 1000

type pluralKey struct {
	id    string
	count int
}

// T translates id; args are key/value pairs for the message's template
// ({{.Name}}). A missing message shows its id, which tests forbid.
func (p *Printer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := p.cache.Load(id); ok {
			return s.(string)
		}
	}
	data := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		data[fmt.Sprint(args[i])] = args[i+1]
	}
	s, err := p.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	if len(args) == 0 {
		// The id may be a view into a request's buffer (the flash cookie's
		// key): the cache outlives the request, so it keeps its own copy.
		p.cache.Store(strings.Clone(id), s)
	}
	return s
}

// frameKey names a message with one argument.
type frameKey struct{ id, key string }

// frame is the text of a message around its one argument.
type frame struct {
	before, after string
	ok            bool
}

// Around returns the text of message id before and after its argument key,
// so that lists can write "started by <name>" for each row without
// executing go-i18n's template each time (issue 16). ok is false when the
// argument does not appear exactly once; the caller then calls T per use.
// A message's translation does not change while the server runs, so the
// answer is kept.
func (p *Printer) Around(id, key string) (before, after string, ok bool) {
	k := frameKey{id, key}
	if f, found := p.frames.Load(k); found {
		f := f.(frame)
		return f.before, f.after, f.ok
	}
	const mark = "\x00"
	var f frame
	f.before, f.after, f.ok = strings.Cut(p.T(id, key, mark), mark)
	if f.ok && strings.Contains(f.after, mark) {
		f = frame{}
	}
	p.frames.Store(k, f)
	return f.before, f.after, f.ok
}

// N translates a message with plural forms; {{.Count}} is the number.
func (p *Printer) N(id string, count int) string {
	cached := count >= 0 && count < pluralCacheMax
	if cached {
		if s, ok := p.plurals.Load(pluralKey{id, count}); ok {
			return s.(string)
		}
	}
	s, err := p.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count,
		TemplateData: map[string]any{"Count": count}})
	if err != nil {
		return id
	}
	if cached {
		p.plurals.Store(pluralKey{strings.Clone(id), count}, s)
	}
	return s
}

// monthIDs are the catalog's month names (genitive in Polish), January first.
var monthIDs = [12]string{"month.1", "month.2", "month.3", "month.4", "month.5", "month.6",
	"month.7", "month.8", "month.9", "month.10", "month.11", "month.12"}

// Date formats t as "23 listopada 2026" / "23 November 2026" in Warsaw time.
// Concatenated, not Sprintf'd: a thread page writes two dates per post
// (its <time>'s title and, for older posts, its text; issue 16).
func (p *Printer) Date(t time.Time) string {
	y, m, d := t.In(p.zone).Date()
	return strconv.Itoa(d) + " " + p.T(monthIDs[m-1]) + " " + strconv.Itoa(y)
}

// DateTime formats t as "23 listopada 2026, 18:05" in Warsaw time.
func (p *Printer) DateTime(t time.Time) string {
	return p.Date(t) + ", " + t.In(p.zone).Format("15:04")
}

// Clock formats t as "18:05" in Warsaw time (a chat line under its day).
func (p *Printer) Clock(t time.Time) string { return t.In(p.zone).Format("15:04") }

// Day is t's calendar day in Warsaw ("2026-11-23"): where a chat's day changes.
func (p *Printer) Day(t time.Time) string { return t.In(p.zone).Format("2006-01-02") }

// Ago says how long ago t was, as people say it: "przed chwilą", "5 minut
// temu", "wczoraj, 18:05"; older than that, the date. The exact time goes
// in the <time> element's title beside it.
func (p *Printer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return p.T("ago.now")
	case d < time.Hour:
		return p.N("ago.minutes", int(d/time.Minute))
	case d < 6*time.Hour:
		return p.N("ago.hours", int(d/time.Hour))
	}
	// Calendar days in Warsaw compared as numbers (Day's strings cost three
	// formattings per call).
	ty, tm, td := t.In(p.zone).Date()
	sameDay := func(u time.Time) bool {
		y, m, d := u.In(p.zone).Date()
		return y == ty && m == tm && d == td
	}
	switch {
	case sameDay(now):
		return p.T("ago.today", "Time", p.Clock(t))
	case sameDay(now.AddDate(0, 0, -1)):
		return p.T("ago.yesterday", "Time", p.Clock(t))
	}
	return p.Date(t)
}

// ISO is the machine-readable form for <time datetime>.
func (p *Printer) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Zone is Europe/Warsaw.
func (p *Printer) Zone() *time.Location { return p.zone }

// Decimal writes a number with places decimals as the language writes it
// (3,25 in Polish, 3.25 in English); v is a float64 or a *float64 (nil: "–").
func (p *Printer) Decimal(v any, places int) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case *float64:
		if x == nil {
			return "–"
		}
		f = *x
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatFloat(f, 'f', places, 64)
	if p.Lang == "pl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
