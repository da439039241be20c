package i18n_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
)

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPlurals(t *testing.T) {
	c := catalog(t)
	pl, en := c.Printer("pl"), c.Printer("en")
	for _, tc := range []struct {
		p    *i18n.Printer
		n    int
		want string
	}{
		{pl, 0, "0 wątków"},
		{pl, 1, "1 wątek"},
		{pl, 2, "2 wątki"},
		{pl, 4, "4 wątki"},
		{pl, 5, "5 wątków"},
		{pl, 12, "12 wątków"},
		{pl, 14, "14 wątków"},
		{pl, 22, "22 wątki"},
		{pl, 25, "25 wątków"},
		{pl, 102, "102 wątki"},
		{pl, 112, "112 wątków"},
		{en, 0, "0 threads"},
		{en, 1, "1 thread"},
		{en, 2, "2 threads"},
		{en, 21, "21 threads"},
	} {
		if got := tc.p.N("count.threads", tc.n); got != tc.want {
			t.Errorf("%s N(count.threads, %d) = %q, want %q", tc.p.Lang, tc.n, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	c := catalog(t)
	pl, en := c.Printer("pl"), c.Printer("en")
	winter := time.Date(2026, 11, 23, 17, 5, 0, 0, time.UTC) // CET, UTC+1
	summer := time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC)  // CEST, UTC+2: already 2 July in Warsaw
	for _, tc := range []struct {
		name, got, want string
	}{
		{"pl winter", pl.DateTime(winter), "23 listopada 2026, 18:05"},
		{"en winter", en.DateTime(winter), "23 November 2026, 18:05"},
		{"pl summer", pl.DateTime(summer), "2 lipca 2026, 00:30"},
		{"pl date", pl.Date(time.Date(2027, 3, 5, 12, 0, 0, 0, time.UTC)), "5 marca 2027"},
		{"en date", en.Date(time.Date(2027, 9, 15, 12, 0, 0, 0, time.UTC)), "15 September 2027"},
		{"ISO is UTC", pl.ISO(winter.In(time.FixedZone("x", 3600*5))), "2026-11-23T17:05:00Z"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	// A time in another zone is still shown in Warsaw time.
	if got := pl.DateTime(winter.In(time.FixedZone("New York", -5*3600))); got != "23 listopada 2026, 18:05" {
		t.Errorf("zone-independent DateTime = %q", got)
	}
	// Every month has a genitive name in both languages.
	for m := time.January; m <= time.December; m++ {
		for _, p := range []*i18n.Printer{pl, en} {
			d := p.Date(time.Date(2026, m, 15, 12, 0, 0, 0, time.UTC))
			if strings.Contains(d, "month.") {
				t.Errorf("%s month %d: %q", p.Lang, m, d)
			}
		}
	}
	if pl.Zone().String() != "Europe/Warsaw" {
		t.Errorf("zone %s", pl.Zone())
	}
}

// Ago names the day in Warsaw: "today" and "yesterday" follow Warsaw's
// midnight, not UTC's.
func TestAgo(t *testing.T) {
	c := catalog(t)
	pl, en := c.Printer("pl"), c.Printer("en")
	now := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC) // 24 November, 00:30 in Warsaw
	for _, tc := range []struct {
		name, got, want string
	}{
		{"now", pl.Ago(now.Add(-30*time.Second), now), "przed chwilą"},
		{"minutes", pl.Ago(now.Add(-5*time.Minute), now), "5 minut temu"},
		{"hours", en.Ago(now.Add(-2*time.Hour), now), "2 hours ago"},
		{"today in Warsaw, yesterday in UTC", pl.Ago(time.Date(2026, 11, 23, 23, 10, 0, 0, time.UTC), time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)), "dziś, 00:10"},
		{"yesterday in Warsaw", pl.Ago(time.Date(2026, 11, 22, 23, 10, 0, 0, time.UTC), time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)), "wczoraj, 00:10"},
		{"yesterday", en.Ago(now.Add(-20*time.Hour), now), "yesterday, 04:30"},
		{"older: the date", pl.Ago(now.Add(-50*time.Hour), now), "21 listopada 2026"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestPrinterFallbacks(t *testing.T) {
	c := catalog(t)
	if c.Printer("de").Lang != "pl" {
		t.Error("unknown language does not fall back to Polish")
	}
	if got := c.Printer("en").T("no.such.message"); got != "no.such.message" {
		t.Errorf("missing message = %q, want its id", got)
	}
	for h, want := range map[string]string{"en-US,en;q=0.9": "en", "pl-PL": "pl", "de-DE, fr": "", "": ""} {
		if got := i18n.Match(h); got != want {
			t.Errorf("Match(%q) = %q, want %q", h, got, want)
		}
	}
}

// Around gives the text around a message's one argument, the same as T with
// the argument in place, asked once or again; a message without that
// argument is not framed.
func TestAround(t *testing.T) {
	c := catalog(t)
	for _, lang := range []string{"pl", "en"} {
		p := c.Printer(lang)
		for range 2 {
			before, after, ok := p.Around("thread.started_by", "Name")
			if !ok || before+"Anna Nowak"+after != p.T("thread.started_by", "Name", "Anna Nowak") {
				t.Errorf("%s: Around = %q, %q, %v; T = %q", lang, before, after, ok, p.T("thread.started_by", "Name", "Anna Nowak"))
			}
		}
		if _, _, ok := p.Around("thread.started_by", "Count"); ok {
			t.Errorf("%s: a message framed around an argument it does not have", lang)
		}
	}
}

// --- the catalogs are complete ---------------------------------------------

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s", r)
	}
	return r
}

func loadCatalog(t *testing.T, lang string) map[string]any {
	t.Helper()
	// The same files the catalog loads: {lang}.json and {area}.{lang}.json.
	areas, err := fs.Glob(os.DirFS(filepath.Join(root(t), "internal", "i18n")), "locales/*."+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{"locales/" + lang + ".json"}, areas...)
	m := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root(t), "internal", "i18n", f))
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				t.Errorf("%s: %q is defined twice", f, k)
			}
			m[k] = v
		}
	}
	return m
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(v any) string {
	var texts []string
	switch x := v.(type) {
	case string:
		texts = []string{x}
	case map[string]any:
		for _, s := range x {
			if str, ok := s.(string); ok {
				texts = append(texts, str)
			}
		}
	}
	set := map[string]bool{}
	for _, s := range texts {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	pl, en := loadCatalog(t, "pl"), loadCatalog(t, "en")
	for k := range pl {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in pl.json but not in en.json", k)
		}
	}
	for k := range en {
		if _, ok := pl[k]; !ok {
			t.Errorf("%q is in en.json but not in pl.json", k)
		}
	}
	plurals := map[string][]string{"pl": {"one", "few", "many", "other"}, "en": {"one", "other"}}
	for lang, cat := range map[string]map[string]any{"pl": pl, "en": en} {
		for k, v := range cat {
			switch x := v.(type) {
			case string:
				if strings.TrimSpace(x) == "" {
					t.Errorf("%s %q is empty", lang, k)
				}
			case map[string]any:
				for _, form := range plurals[lang] {
					if s, _ := x[form].(string); strings.TrimSpace(s) == "" {
						t.Errorf("%s plural %q lacks the %q form", lang, k, form)
					}
				}
			default:
				t.Errorf("%s %q has a value of type %T", lang, k, v)
			}
		}
	}
	for k, v := range pl {
		if w, ok := en[k]; ok {
			if a, b := placeholders(v), placeholders(w); a != b {
				t.Errorf("%q uses {{%s}} in Polish but {{%s}} in English", k, a, b)
			}
			if _, plural := v.(map[string]any); plural {
				if _, ok := w.(map[string]any); !ok {
					t.Errorf("%q is plural in Polish only", k)
				}
			}
		}
	}
}

var (
	tmplComment = regexp.MustCompile(`(?s)\{\{-?\s*/\*.*?\*/\s*-?\}\}`)
	tmplCalls   = []*regexp.Regexp{
		regexp.MustCompile(`\.Tr\.[TN]\s+"([^"]+)"`), // .Tr.T "id", $.Tr.T "id", .P.Tr.N "id"
		regexp.MustCompile(`"Hint"\s+"([^"]+)"`),     // hints passed to the input partial
	}
	tmplFieldName = regexp.MustCompile(`"Name"\s+"([^"]+)"`) // rendered as field.<name>
	goCalls       = []*regexp.Regexp{
		regexp.MustCompile(`\.[TN]\("([^"]+)"\s*[,)]`),                       // tr.T("id"), tr.N("id", n)
		regexp.MustCompile(`newFrame\([^,]+,\s*"([^"]+)"`),                   // newFrame(tr, "id", key): web's pre-translated messages
		regexp.MustCompile(`Invalid\("[^"]*",\s*"([^"]+)"\)`),                // apperr.Invalid(field, "err.x")
		regexp.MustCompile(`\.Add\("[^"]*",\s*"([^"]+)"\)`),                  // v.Add(field, "err.x")
		regexp.MustCompile(`flash\([^,]+,\s*"([^"]+)"\)`),                    // s.flash(c, "flash.x")
		regexp.MustCompile(`"((?:err|flash)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`), // any err.* / flash.* literal
	}
	goErrorCode = regexp.MustCompile(`return fiber\.Status\w+, "([a-z_]+)"|return fe\.Code, "([a-z_]+)"`)
)

// usedIDs collects every literal message id in the templates and the Go code.
func usedIDs(t *testing.T) map[string][]string {
	t.Helper()
	r := root(t)
	used := map[string][]string{}
	add := func(id, where string) { used[id] = append(used[id], where) }

	tmpls, err := filepath.Glob(filepath.Join(r, "frontend", "templates", "*.html"))
	if err != nil || len(tmpls) == 0 {
		t.Fatalf("no templates found: %v", err)
	}
	for _, f := range tmpls {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := tmplComment.ReplaceAllString(string(b), "")
		for _, re := range tmplCalls {
			for _, m := range re.FindAllStringSubmatch(src, -1) {
				add(m[1], filepath.Base(f))
			}
		}
		for _, m := range tmplFieldName.FindAllStringSubmatch(src, -1) {
			add("field."+m[1], filepath.Base(f))
		}
	}

	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(r, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			if strings.Contains(p, string(filepath.Separator)+"testkit"+string(filepath.Separator)) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(r, p)
			for _, re := range goCalls {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					if strings.Contains(m[1], ".") { // message ids are dotted; skip e.g. .T("x") of other APIs
						add(m[1], rel)
					}
				}
			}
			if filepath.Base(p) == "errors.go" && strings.HasSuffix(filepath.Dir(p), "web") {
				for _, m := range goErrorCode.FindAllStringSubmatch(string(b), -1) {
					code := m[1] + m[2]
					if code == "" {
						continue
					}
					// handleError shows error.<code>; the error page error.explain.<code>.
					add("error."+code, rel)
					add("error.explain."+code, rel)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Ids built from a prefix and a value (join "kind." .Kind): every value the
	// model allows must have its message.
	for prefix, values := range map[string][]string{
		"kind.": model.GroupKinds, "role.": model.GlobalRoles, "group_role.": model.GroupRoles, "jst_kind.": model.JSTKinds,
	} {
		for _, v := range values {
			add(prefix+v, "model")
		}
	}
	for _, status := range []string{"400", "401", "403", "404", "405", "409", "413", "415", "429", "500"} {
		add("error.title."+status, "handleError")
	}
	for m := 1; m <= 12; m++ {
		add("month."+strconv.Itoa(m), "Printer.Date")
	}
	return used
}

func TestEveryUsedMessageExists(t *testing.T) {
	used := usedIDs(t)
	if len(used) < 50 {
		t.Fatalf("found only %d message ids; the scanner is broken", len(used))
	}
	for _, must := range []string{"login.title", "err.required", "flash.saved", "count.threads", "field.email", "error.not_found", "error.explain.csrf"} {
		if _, ok := used[must]; !ok {
			t.Errorf("scanner missed %q", must)
		}
	}
	cats := map[string]map[string]any{"pl": loadCatalog(t, "pl"), "en": loadCatalog(t, "en")}
	var ids []string
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for lang, cat := range cats {
			if _, ok := cat[id]; !ok {
				t.Errorf("%s.json lacks %q (used in %s)", lang, id, strings.Join(dedupe(used[id]), ", "))
			}
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
