// Package app wires configuration, database, services and the web layer into a
// runnable server. cmd/forumjst and the end-to-end tests build it the same way.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/moderation"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/web"
)

// App is a built server with its services (tests reach into them for fixtures).
type App struct {
	Fiber    *fiber.App
	Accounts *accounts.Service
	Forum    *forum.Service
	Mod      *moderation.Service
	Meetings *meetings.Service
	Notes    *notes.Service
	Live     *live.Hub
	Markup   *markup.Renderer
	log      *slog.Logger
}

// Start begins the live hub's background work (LISTEN, presence refresh),
// after clearing what a crash may have left in the upload directory.
func (a *App) Start() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := a.Notes.Sweep(ctx); err != nil {
		a.log.Error("sweep upload directory", "err", err)
	}
	cancel()
	a.Live.Start()
}

// Close ends websocket connections (clients reconnect elsewhere) and the hub.
// Call it before shutting Fiber down: hijacked connections are not Fiber's.
func (a *App) Close() { a.Live.Close() }

// AccountSettings maps configuration onto the accounts service.
func AccountSettings(cfg config.Config) accounts.Settings {
	return accounts.Settings{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		LoginAccountFailures: cfg.LoginAccountFailures, LoginIPFailures: cfg.LoginIPFailures, LoginWindow: cfg.LoginWindow}
}

// Build creates the services and the Fiber app.
func Build(cfg config.Config, db *sqlx.DB, log *slog.Logger) (*App, error) {
	acc, err := accounts.New(db, log, AccountSettings(cfg))
	if err != nil {
		return nil, err
	}
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	md := markup.New()
	fs := forum.New(db, md, forum.Settings{PostsPerMinute: cfg.PostsPerMinute})
	mod := moderation.New(db, moderation.Settings{FlagHideThreshold: cfg.FlagHideThreshold})
	mt := meetings.New(db, md, meetings.Settings{})
	nt := notes.New(db, md, notes.Settings{UploadDir: cfg.UploadDir, MaxUploadBytes: int64(cfg.MaxUploadBytes),
		MaxFilesPerMeeting: cfg.MaxFilesPerMeeting}, log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB, "forumjst"))
	ns := notify.New(db)
	hub := live.New(live.Deps{DB: db, DSN: cfg.DatabaseURL, Log: log, Meetings: mt, Forum: fs, Notify: ns, Notes: nt, Registry: reg, Settings: live.Settings{QueueFrames: cfg.WSQueueFrames, PingEvery: cfg.WSPingInterval}})
	// Services announce committed changes to the hub, which tells open pages
	// here and, through NOTIFY, on every other instance.
	mt.SetNotifier(hub)
	fs.SetNotifier(hub)
	mod.SetNotifier(hub)
	nt.SetNotifier(hub)
	acc.SetRevoker(hub)
	f, err := web.New(web.Deps{Config: cfg, DB: db, Log: log, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Notes: nt, Live: hub, Notify: ns, Catalog: cat, Registry: reg})
	if err != nil {
		return nil, err
	}
	return &App{Fiber: f, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Notes: nt, Live: hub, Markup: md, log: log}, nil
}
