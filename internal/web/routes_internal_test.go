package web

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/gwd-jst/forumjst/internal/config"
)

// tableServer is a server with just enough to build the route table (no
// database: nothing here serves a real request).
func tableServer(t *testing.T) (*server, []route) {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://unused@127.0.0.1:1/unused?sslmode=disable" // never dialled
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStaticFiles()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := &server{Deps: Deps{Config: cfg, Registry: reg}, static: st, metrics: newHTTPMetrics(reg)}
	table := s.routeTable()
	if s.routes, err = newRouteMatcher(table); err != nil {
		t.Fatal(err)
	}
	return s, table
}

var alternatives = regexp.MustCompile(`^\^\(([a-z|]+)\)\$$`)

// samplePaths fills a pattern's parameters: ids, each allowed word of a
// constrained parameter, a file path for a wildcard.
func samplePaths(pattern string) []string {
	out := []string{""}
	for _, part := range strings.Split(strings.TrimPrefix(pattern, "/"), "/") {
		var vals []string
		switch {
		case part == "*":
			vals = []string{"a/b.css"}
		case strings.HasPrefix(part, ":"):
			vals = []string{"42"}
			if m := constraintRE.FindStringSubmatch(part[1:]); m != nil {
				vals = []string{"nope"}
				if a := alternatives.FindStringSubmatch(m[2]); a != nil {
					vals = append(vals, strings.Split(a[1], "|")...)
				}
			}
		default:
			vals = []string{part}
		}
		var next []string
		for _, p := range out {
			for _, v := range vals {
				next = append(next, p+"/"+v)
			}
		}
		out = next
	}
	return out
}

// The matcher that decides body limits and timeouts picks, for every path
// and method, the route Fiber itself dispatches to: the table is mounted on
// a Fiber app whose handlers answer with their entry's index, and the two
// are compared over every route's sample paths and their near misses.
func TestMatcherAgreesWithFiber(t *testing.T) {
	s, table := tableServer(t)
	probe := make([]route, len(table))
	index := map[*route]int{}
	for i := range table {
		r := table[i]
		index[&table[i]] = i
		if r.through {
			r.handlers = []fiber.Handler{func(c *fiber.Ctx) error { return c.Next() }}
		} else {
			i := i
			r.handlers = []fiber.Handler{func(c *fiber.Ctx) error {
				c.Set("X-Route", strconv.Itoa(i))
				return nil
			}}
		}
		probe[i] = r
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	mount(app, probe)
	handler := app.Handler()

	paths := map[string]bool{}
	for _, r := range table {
		if r.prefix {
			paths[r.path] = true
			paths[r.path+"x"] = true
			paths[r.path+"/x"] = true
			continue
		}
		for _, p := range samplePaths(r.path) {
			paths[p] = true
			paths[strings.ToUpper(p)] = true
			paths[p+"/"] = true
			paths[p+"/extra"] = true
			paths[strings.Replace(p, "42", "x", 1)] = true
			if i := strings.LastIndexByte(p, '/'); i > 0 {
				paths[p[:i]] = true
			}
		}
	}
	for _, p := range []string{"/", "//", "/api", "/apiary", "/API/V1/ME", "/api/v2/me", "/admin", "/administrator",
		"/static", "/m/1/START", "/m/1/files/", "/attachments/1/a/b", "/n/1/files//", "/nope"} {
		paths[p] = true
	}
	methods := []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete}
	checked := 0
	for p := range paths {
		for _, m := range methods {
			var fctx fasthttp.RequestCtx
			fctx.Request.Header.SetMethod(m)
			fctx.Request.SetRequestURI(p)
			handler(&fctx)
			got := string(fctx.Response.Header.Peek("X-Route"))
			r, _ := s.routes.matchRequestURI(m, []byte(p))
			want := "none"
			if r != nil {
				want = strconv.Itoa(index[r])
			}
			if got != want {
				t.Errorf("%s %s: Fiber routes to entry %s (%s), the matcher to %s (%s)", m, p, got, describe(table, got), want, describe(table, want))
			}
			checked++
		}
	}
	t.Logf("%d requests over %d paths agree", checked, len(paths))
}

func describe(table []route, idx string) string {
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= len(table) {
		return "no route"
	}
	return table[i].method + " " + table[i].path
}

// An upload handler is reachable only through a route the table marks as an
// upload (so its body is streamed and bounded, its uploader's time granted
// from the headers), and every upload route has one; the same for downloads.
func TestTransferHandlersOnlyOnTheirRoutes(t *testing.T) {
	s, table := tableServer(t)
	ptr := func(h fiber.Handler) uintptr { return reflect.ValueOf(h).Pointer() }
	kinds := map[uintptr]bodyKind{
		ptr(s.pageUpload): bodyUpload, ptr(s.apiUpload): bodyUpload,
		ptr(s.pagePracticeUpload): bodyUpload, ptr(s.apiPracticeUpload): bodyUpload,
		ptr(s.download): bodyDownload, ptr(s.apiAttachment): bodyDownload,
		ptr(s.apiExport): bodyDownload, // the personal data ZIP
		// A material under review's draft document (issue 15).
		ptr(s.pageReviewDocument): bodyUpload, ptr(s.apiReviewDocument): bodyUpload, ptr(s.reviewDocument): bodyDownload,
	}
	seen := map[bodyKind]int{}
	for _, r := range table {
		kind := bodyNormal
		for _, h := range r.handlers {
			if k, ok := kinds[ptr(h)]; ok {
				kind = k
			}
		}
		if kind != r.body {
			t.Errorf("%s %s: handler is of body kind %d, the table says %d", r.method, r.path, kind, r.body)
		}
		seen[r.body]++
	}
	if seen[bodyUpload] != 8 || seen[bodyDownload] != 6 {
		t.Errorf("upload routes %d, download routes %d; want 8 and 6", seen[bodyUpload], seen[bodyDownload])
	}
}

// The header hook reads the same entries: every download route (and no
// other) gets the transfer timeout to send, and without a session nothing
// gets more than the ordinary body limit, uploads included.
func TestHeaderHookFollowsTable(t *testing.T) {
	s, table := tableServer(t)
	for _, r := range table {
		if r.prefix {
			continue
		}
		for _, p := range samplePaths(r.path) {
			var h fasthttp.RequestHeader
			h.SetMethod(r.method)
			h.SetRequestURI(p + "?q=1")
			h.SetContentLength(s.Config.MaxBodyBytes + 1)
			rc := s.requestLimits(&h)
			want, _ := s.routes.match(r.method, p)
			if wantDownload := want.body == bodyDownload; (rc.WriteTimeout == s.Config.TransferTimeout) != wantDownload {
				t.Errorf("%s %s: write timeout %v, download route %v", r.method, p, rc.WriteTimeout, wantDownload)
			}
			if rc.ReadTimeout != 0 {
				t.Errorf("%s %s: read timeout %v granted without a session", r.method, p, rc.ReadTimeout)
			}
			if len(h.Peek(headerBodyRefused)) == 0 {
				t.Errorf("%s %s: a body over FORUM_MAX_BODY_BYTES was not refused without a session", r.method, p)
			}
		}
	}
}

// A pattern the matcher could not follow Fiber on is refused when the table
// is built, not discovered in production.
func TestMatcherRefusesUnknownPatterns(t *testing.T) {
	h := func(*fiber.Ctx) error { return nil }
	for _, bad := range []route{
		get("/a/:id?", h), get("/a/:id<int>", h), get("/a/+", h), get("/a/*/b", h),
		post("/a", h).downloads(), get("/a", h).uploadsTo(uploadToNote), post("/a/:note", h).uploadsTo(uploadToNote), {method: fiber.MethodPost, path: "/a", body: bodyUpload, handlers: []fiber.Handler{h}},
	} {
		if _, err := newRouteMatcher([]route{bad}); err == nil {
			t.Errorf("%s %s (body %d) accepted", bad.method, bad.path, bad.body)
		}
	}
}
