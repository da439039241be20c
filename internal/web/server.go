// Package web serves HTML pages and the /api/v1 JSON API with Fiber. Handlers are
// thin: parse, call one service, render. Permissions live in the services.
package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/moderation"
	"github.com/gwd-jst/forumjst/internal/newsletter"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/practices"
	"github.com/gwd-jst/forumjst/internal/reviews"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/tournament"
)

// Deps is everything the web layer needs, wired in main.
type Deps struct {
	Config     config.Config
	DB         *sqlx.DB
	Log        *slog.Logger
	Accounts   *accounts.Service
	Forum      *forum.Service
	Mod        *moderation.Service
	Meetings   *meetings.Service
	Notes      *notes.Service
	Live       *live.Hub
	Notify     *notify.Service
	Mail       *mail.Service
	Search     *search.Service
	Newsletter *newsletter.Service
	// Tournaments: the tournament of good practices (issue 15).
	Tournaments *tournament.Service
	Reviews     *reviews.Service
	Practices   *practices.Service
	Catalog     *i18n.Catalog
	Registry    *prometheus.Registry
}

type server struct {
	Deps
	views   *views
	static  *staticFiles
	metrics *httpMetrics
	routes  *routeMatcher
}

// New builds the Fiber app with every route and middleware.
func New(d Deps) (*fiber.App, error) {
	st, err := newStaticFiles()
	if err != nil {
		return nil, err
	}
	vw, err := newViews(st)
	if err != nil {
		return nil, err
	}
	s := &server{Deps: d, views: vw, static: st, metrics: newHTTPMetrics(d.Registry)}
	table := s.routeTable()
	if s.routes, err = newRouteMatcher(table); err != nil {
		return nil, err
	}

	fc := fiber.Config{
		AppName:               "forumjst",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		BodyLimit:             d.Config.MaxBodyBytes,
		ReadTimeout:           d.Config.ReadTimeout,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// The request headers must fit (8 KiB, as nginx allows by default: long
		// cookies, headers of municipal proxies). fasthttp keeps this buffer for
		// the whole life of a hijacked websocket (the contrib middleware runs
		// the socket inside the hijack handler), so it is most of what an idle
		// connection costs: 16 KiB measured 45 KB resident each at 10,000.
		ReadBufferSize: 8 << 10,
		// Only configured proxies' X-Forwarded-For is believed; otherwise c.IP() is the socket's.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.Config.TrustedProxies,
		// Bodies stream: an upload goes part by part into the upload directory
		// instead of being held whole in memory. fasthttp then no longer
		// refuses oversized bodies itself; limitBody (files.go) holds every
		// route to its limit.
		StreamRequestBody: true,
		// Multipart bodies stay raw until a handler asks: uploads are parsed by
		// files.go, streamed into the upload directory, never into /tmp.
		DisablePreParseMultipartForm: true,
	}
	if len(d.Config.TrustedProxies) > 0 {
		fc.ProxyHeader = fiber.HeaderXForwardedFor
	}
	app := fiber.New(fc)
	// Only an uploader gets the transfer timeout (decided from the headers,
	// before the body is read, by the route table's entry); see files.go.
	app.Server().HeaderReceived = s.requestLimits

	// recover sits inside requestContext so a panic is logged and counted as a 500.
	app.Use(s.requestContext)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))
	// Before anything that reads a body (csrf reads form fields).
	app.Use(s.limitBody)
	app.Use(s.securityHeaders, s.session, s.csrf, s.twoFactorGate)

	mount(app, table)
	return app, nil
}

func (s *server) logPanic(c *fiber.Ctx, e any) {
	s.Log.ErrorContext(c.UserContext(), "panic", "panic", e, "path", c.Path())
}

func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.PingContext(ctx); err != nil {
		s.Log.WarnContext(ctx, "readiness check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "database unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
