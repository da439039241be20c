package web

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The route table. Every route is one entry: method, pattern, handlers, what
// its body is (bodyKind) and whether it belongs to the JSON API. The Fiber
// router is built from it (mount), and so is routeMatcher, which fasthttp's
// header hook (requestLimits, files.go) and the middleware use to find the
// request's route before Fiber routes it: the body limit and the transfer
// timeouts of an upload are decided by the same entry that registers the
// upload handler, so the two cannot disagree. Each feature area contributes
// its slice (forumRoutes, noteAPIRoutes, …) in its own file; routeTable
// lists the slices in registration order, which is Fiber's matching order.

// bodyKind is what a route does with a request or response body.
type bodyKind int

const (
	// bodyNormal: the request body is read into memory up to FORUM_MAX_BODY_BYTES.
	bodyNormal bodyKind = iota
	// bodyUpload: a multipart body up to FORUM_MAX_UPLOAD_BYTES, streamed by
	// the handler into the upload directory; the uploader gets the transfer
	// timeout to send it.
	bodyUpload
	// bodyDownload: a file is sent; the response gets the transfer timeout.
	bodyDownload
)

// uploadTarget is what an upload route attaches its file to; its :id is
// that meeting's, that note's or that good practice's.
type uploadTarget int

const (
	uploadNone uploadTarget = iota
	uploadToMeeting
	uploadToNote
	// uploadToReview: a material under review's draft document (staff only).
	uploadToReview
	// uploadToPractice: a good practice's attachments (who may edit it).
	uploadToPractice
)

// route is one entry of the table.
type route struct {
	method   string // a fiber.Method*; GET routes answer HEAD too, as Fiber's app.Get does
	path     string // a Fiber pattern: literals, :params (optionally <regex(…)>), a final *
	handlers []fiber.Handler
	body     bodyKind
	upload   uploadTarget
	// api: answers in JSON (errors included) and lives under /api/v1.
	api bool
	// prefix: mounted with Use, for every method and every path that begins
	// with path (Fiber's prefix test, with no segment boundary).
	prefix bool
	// through: a prefix entry that passes the request on (c.Next); it is
	// never the request's route.
	through bool
	// relogin: logging in here while logged in needs no CSRF token (login
	// replaces the session anyway; the same-origin check stops login CSRF).
	relogin bool
	// signedLink: the path carries a signature that is the permission (a
	// mail's unsubscribe link), so the POST needs no CSRF token.
	signed bool
	// openWhileHeld: a user held at the two-step login set-up page (roles that
	// require it, past their date) may still use it (twoFactorGate).
	openWhileHeld bool
	// socket: the websocket upgrade, which the gate refuses rather than
	// redirects like a page.
	socket bool
}

func newRoute(method, path string, h []fiber.Handler) route {
	return route{method: method, path: path, handlers: h}
}

func get(path string, h ...fiber.Handler) route   { return newRoute(fiber.MethodGet, path, h) }
func post(path string, h ...fiber.Handler) route  { return newRoute(fiber.MethodPost, path, h) }
func put(path string, h ...fiber.Handler) route   { return newRoute(fiber.MethodPut, path, h) }
func patch(path string, h ...fiber.Handler) route { return newRoute(fiber.MethodPatch, path, h) }
func del(path string, h ...fiber.Handler) route   { return newRoute(fiber.MethodDelete, path, h) }

// use is middleware for every path under prefix that passes the request on.
func use(prefix string, h ...fiber.Handler) route {
	return route{path: prefix, handlers: h, prefix: true, through: true}
}

// fallback answers every request under prefix that no earlier entry took.
func fallback(prefix string, h ...fiber.Handler) route {
	return route{path: prefix, handlers: h, prefix: true}
}

// uploadsTo marks an upload route.
func (r route) uploadsTo(t uploadTarget) route {
	r.body, r.upload = bodyUpload, t
	return r
}

// downloads marks a route that sends a file.
func (r route) downloads() route {
	r.body = bodyDownload
	return r
}

func (r route) loginRoute() route {
	r.relogin = true
	return r
}

func (r route) whileHeld() route {
	r.openWhileHeld = true
	return r
}

func (r route) signedLink() route {
	r.signed = true
	return r
}

// under puts routes below a path prefix (a Fiber group, spelled out).
func under(prefix string, rs ...[]route) []route {
	var out []route
	for _, list := range rs {
		for _, r := range list {
			if r.path == "/" {
				r.path = prefix
			} else {
				r.path = prefix + r.path
			}
			out = append(out, r)
		}
	}
	return out
}

// apiPrefix is where the JSON API lives.
const apiPrefix = "/api/v1"

// apiGroup puts routes under /api/v1 and marks them as the API's.
func apiGroup(rs ...[]route) []route {
	out := under(apiPrefix, rs...)
	for i := range out {
		out[i].api = true
	}
	return out
}

// routeTable is every route, in the order Fiber tries them.
func (s *server) routeTable() []route {
	var t []route
	t = append(t, s.opsRoutes()...)
	t = append(t, s.wsRoutes()...)
	t = append(t, apiGroup(
		s.accountAPIRoutes(),
		s.forumAPIRoutes(),
		s.moderationAPIRoutes(),
		s.meetingAPIRoutes(),
		s.notificationAPIRoutes(),
		s.noteAPIRoutes(),
		s.fileAPIRoutes(),
		s.twoFactorAPIRoutes(),
		s.meAPIRoutes(),
		s.mailAPIRoutes(),
		s.searchAPIRoutes(),
		s.watchAPIRoutes(),
		s.mailPrefsAPIRoutes(),
		s.newsletterAPIRoutes(),
		s.tournamentAPIRoutes(),
		s.reviewAPIRoutes(),
		s.practiceAPIRoutes(),
	)...)
	// Anything else under /api is a JSON 404.
	api404 := fallback("/api", notFound)
	api404.api = true
	t = append(t, api404)
	t = append(t, s.accountPageRoutes()...)
	t = append(t, s.accessibilityRoutes()...)
	t = append(t, s.forumPageRoutes()...)
	t = append(t, s.moderationPageRoutes()...)
	t = append(t, s.meetingPageRoutes()...)
	t = append(t, s.notificationPageRoutes()...)
	t = append(t, s.notePageRoutes()...)
	t = append(t, s.filePageRoutes()...)
	t = append(t, s.twoFactorPageRoutes()...)
	t = append(t, s.mePageRoutes()...)
	t = append(t, s.mailPageRoutes()...)
	t = append(t, s.searchPageRoutes()...)
	t = append(t, s.watchPageRoutes()...)
	t = append(t, s.mailPrefsPageRoutes()...)
	t = append(t, s.newsletterPageRoutes()...)
	t = append(t, s.tournamentPageRoutes()...)
	t = append(t, s.reviewPageRoutes()...)
	t = append(t, s.practicePageRoutes()...)
	t = append(t, under("/admin", s.adminRoutes(), s.twoFactorAdminRoutes())...)
	t = append(t, fallback("/", notFound))
	return t
}

func notFound(*fiber.Ctx) error { return fiber.ErrNotFound }

// opsRoutes: probes, metrics, static files.
func (s *server) opsRoutes() []route {
	return []route{
		get("/healthz", s.healthz).whileHeld(),
		get("/readyz", s.readyz).whileHeld(),
		get("/metrics", s.metricsHandler()).whileHeld(),
		get("/static/:hash/*", s.serveStatic).whileHeld(),
		get("/favicon.ico", func(c *fiber.Ctx) error {
			return c.Redirect(s.static.URL("img/favicon.svg"), fiber.StatusMovedPermanently)
		}).whileHeld(),
	}
}

// mount registers the table with Fiber, in order.
func mount(app *fiber.App, t []route) {
	for _, r := range t {
		switch {
		case r.prefix:
			args := make([]any, 0, len(r.handlers)+1)
			args = append(args, r.path)
			for _, h := range r.handlers {
				args = append(args, h)
			}
			app.Use(args...)
		case r.method == fiber.MethodGet:
			app.Get(r.path, r.handlers...)
		default:
			app.Add(r.method, r.path, r.handlers...)
		}
	}
}

// --- matcher ------------------------------------------------------------------

// routeMatcher finds a request's route in the table the way Fiber's router
// does with its default settings (CaseSensitive and StrictRouting off):
// the raw path, ASCII-lowercased, trailing slashes dropped; entries tried in
// order; a :param is one non-empty segment; a final * is the rest, if any.
// TestMatcherAgreesWithFiber holds it to Fiber's choice.
type routeMatcher struct {
	entries []matchEntry
}

type matchEntry struct {
	r      *route
	prefix string // lowercased, for prefix entries
	segs   []segment
	star   bool // ends in /*
}

type segment struct {
	lit   string // lowercased literal, when name is ""
	name  string // parameter name
	check *regexp.Regexp
}

var constraintRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)<regex\((.*)\)>$`)

func newRouteMatcher(t []route) (*routeMatcher, error) {
	m := &routeMatcher{}
	for i := range t {
		r := &t[i]
		if r.through {
			continue
		}
		if len(r.handlers) == 0 {
			return nil, fmt.Errorf("route %s %s: no handler", r.method, r.path)
		}
		if (r.body == bodyUpload) != (r.upload != uploadNone) {
			return nil, fmt.Errorf("route %s %s: an upload route needs its target, and only it", r.method, r.path)
		}
		if r.body == bodyUpload && r.method != fiber.MethodPost || r.body == bodyDownload && r.method != fiber.MethodGet {
			return nil, fmt.Errorf("route %s %s: uploads are POST, downloads GET", r.method, r.path)
		}
		e := matchEntry{r: r}
		p := normalisePath(r.path)
		if r.prefix {
			if strings.ContainsAny(p, ":*+?") {
				return nil, fmt.Errorf("prefix %q: patterns are for routes only", r.path)
			}
			e.prefix = p
			m.entries = append(m.entries, e)
			continue
		}
		if p != "/" {
			parts := strings.Split(p[1:], "/")
			for j, part := range parts {
				switch {
				case part == "*" && j == len(parts)-1:
					e.star = true
				case strings.HasPrefix(part, ":"):
					sg := segment{name: part[1:]}
					if mm := constraintRE.FindStringSubmatch(part[1:]); mm != nil {
						re, err := regexp.Compile(mm[2])
						if err != nil {
							return nil, fmt.Errorf("route %s: %w", r.path, err)
						}
						sg.name, sg.check = mm[1], re
					}
					if strings.ContainsAny(sg.name, ":*+?<>.-") {
						return nil, fmt.Errorf("route %s: segment %q is more than the matcher knows", r.path, part)
					}
					e.segs = append(e.segs, sg)
				default:
					if part == "" || strings.ContainsAny(part, ":*+?") {
						return nil, fmt.Errorf("route %s: segment %q is more than the matcher knows", r.path, part)
					}
					e.segs = append(e.segs, segment{lit: part})
				}
			}
		}
		if r.body == bodyUpload && !e.hasParam("id") {
			return nil, fmt.Errorf("route %s %s: an upload route names its meeting or note :id", r.method, r.path)
		}
		m.entries = append(m.entries, e)
	}
	return m, nil
}

func (e *matchEntry) hasParam(name string) bool {
	for _, sg := range e.segs {
		if sg.name == name {
			return true
		}
	}
	return false
}

// normalisePath is Fiber's detection path: ASCII lowercase, no trailing slash.
func normalisePath(p string) string {
	p = asciiLower(p)
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// match is the route a request for method and raw path ends at, with its
// parameters (as sent, not lowercased), or nil.
func (m *routeMatcher) match(method, path string) (*route, map[string]string) {
	det := normalisePath(path)
	orig := path
	if len(orig) > 1 {
		orig = orig[:len(det)] // asciiLower keeps byte lengths
	}
	var parts, origParts []string
	if len(det) > 1 {
		parts, origParts = strings.Split(det[1:], "/"), strings.Split(orig[1:], "/")
	}
	for i := range m.entries {
		e := &m.entries[i]
		if e.r.prefix {
			if e.prefix == "/" || strings.HasPrefix(det, e.prefix) {
				return e.r, nil
			}
			continue
		}
		if e.r.method != method && !(method == fiber.MethodHead && e.r.method == fiber.MethodGet) {
			continue
		}
		if params, ok := e.matchParts(parts, origParts); ok {
			return e.r, params
		}
	}
	return nil, nil
}

// matchRequestURI is match for a request line's URI, read the way fasthttp
// reads it for Fiber ("//x" is host x and path "/"; the query is not
// routed).
func (m *routeMatcher) matchRequestURI(method string, uri []byte) (*route, map[string]string) {
	u := fasthttp.AcquireURI()
	defer fasthttp.ReleaseURI(u)
	if u.Parse(nil, uri) != nil {
		return nil, nil
	}
	return m.match(method, string(u.PathOriginal()))
}

func (e *matchEntry) matchParts(parts, orig []string) (map[string]string, bool) {
	if len(parts) < len(e.segs) || len(parts) > len(e.segs) && !e.star {
		return nil, false
	}
	var params map[string]string
	for i, sg := range e.segs {
		if sg.name == "" {
			if parts[i] != sg.lit {
				return nil, false
			}
			continue
		}
		v := orig[i]
		if v == "" || sg.check != nil && !sg.check.MatchString(v) {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[sg.name] = v
	}
	return params, true
}

// localRoute holds the request's *route.
const localRoute = "route"

// routeOf is the table entry the request is routed to (nil for none), found
// once per request.
func (s *server) routeOf(c *fiber.Ctx) *route {
	if r, ok := c.Locals(localRoute).(*route); ok {
		return r
	}
	r, _ := s.routes.match(c.Method(), c.Path())
	c.Locals(localRoute, r)
	return r
}

func (r *route) isAPI() bool    { return r != nil && r.api }
func (r *route) isUpload() bool { return r != nil && r.body == bodyUpload }
func (r *route) isSocket() bool { return r != nil && r.socket }

func (r *route) target() uploadTarget {
	if r == nil {
		return uploadNone
	}
	return r.upload
}
