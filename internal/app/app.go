// Package app wires configuration, database, services and the web layer into a
// runnable server. cmd/forumjst and the end-to-end tests build it the same way.
package app

import (
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/moderation"
	"github.com/gwd-jst/forumjst/internal/web"
)

// App is a built server with its services (tests reach into them for fixtures).
type App struct {
	Fiber    *fiber.App
	Accounts *accounts.Service
	Forum    *forum.Service
	Mod      *moderation.Service
	Meetings *meetings.Service
	Markup   *markup.Renderer
}

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
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB, "forumjst"))
	f, err := web.New(web.Deps{Config: cfg, DB: db, Log: log, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Catalog: cat, Registry: reg})
	if err != nil {
		return nil, err
	}
	return &App{Fiber: f, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Markup: md}, nil
}
