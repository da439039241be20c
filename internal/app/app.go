// Package app wires configuration, database, services and the web layer into a
// runnable server. cmd/forumjst and the end-to-end tests build it the same way.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/moderation"
	"github.com/gwd-jst/forumjst/internal/newsletter"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/practices"
	"github.com/gwd-jst/forumjst/internal/reviews"
	"github.com/gwd-jst/forumjst/internal/search"
	"github.com/gwd-jst/forumjst/internal/tournament"
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
	Reviews  *reviews.Service
	// Practices is the good-practice library (issue 15).
	Practices *practices.Service
	// Search also indexes new posts off the reply's path (RunIndexer).
	Search *search.Service
	Live   *live.Hub
	Markup *markup.Renderer
	Mail   *mail.Service
	// MailWorker sends the queue; nil without an SMTP server (mails are kept).
	MailWorker *mail.Worker
	log        *slog.Logger
	relay      *relay
	digestHour int
}

// Serve runs the server on ln until ctx ends (or the listener fails), and
// owns its whole life: it clears what a crash may have left in the upload
// directory, starts the live hub (LISTEN, presence) and the accounts'
// housekeeping, serves, and on the way out closes the websockets first — they
// are hijacked, Fiber neither waits for nor closes them; clients get 1001 and
// reconnect, to another instance if there is one — and then lets in-flight
// requests finish within grace. main, the tests and the benchmark all call it.
func (a *App) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := a.Notes.Sweep(sctx); err != nil {
		a.log.Error("sweep upload directory", "err", err)
	}
	cancel()
	a.Live.Start()
	// The instance's own loops; marked so that statement counts of requests
	// (database.QueryCounter) leave them out.
	hctx, stopHousekeeping := context.WithCancel(database.Background(context.Background()))
	housekept := make(chan struct{})
	go func() { defer close(housekept); a.housekeeping(hctx) }()
	digested := make(chan struct{})
	go func() {
		defer close(digested)
		// Every instance keeps the schedule; the per-person claims make
		// each digest go out once.
		mail.DigestScheduler{Mail: a.Mail, Hour: a.digestHour, Log: a.log.With("component", "digest")}.Run(hctx)
	}()
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		// Every instance indexes; each batch is taken by one (SKIP LOCKED).
		a.Search.RunIndexer(hctx, a.log.With("component", "search-indexer"))
	}()
	mailed := make(chan struct{})
	go func() {
		defer close(mailed)
		if a.MailWorker != nil {
			// Stopped with the housekeeping: a delivery under way is cut
			// short and handed back to the queue, so no SMTP server can hold
			// up the shutdown.
			a.MailWorker.Run(hctx)
		}
	}()

	served := make(chan error, 1)
	go func() { served <- a.Fiber.Listener(ln) }()
	var err error
	listening := true
	select {
	case err = <-served: // the listener failed
		listening = false
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	stopHousekeeping()
	a.Live.Close()
	if serr := a.Fiber.ShutdownWithTimeout(grace); serr != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	if listening {
		if lerr := <-served; lerr != nil && err == nil {
			err = lerr
		}
	}
	<-housekept
	<-indexed
	<-mailed
	<-digested
	return err
}

// housekeeping removes expired sessions and the like every 10 minutes, and
// every minute sends the reminders of meetings that start within 15 minutes
// (once per meeting whatever the number of instances: the meetings service
// claims each in the database).
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	r := time.NewTicker(time.Minute)
	defer r.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.C:
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if _, err := a.Meetings.SendReminders(rctx); err != nil {
				a.log.Error("meeting reminders", "err", err)
			}
			cancel()
		case <-t.C:
			hctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := a.Accounts.Housekeeping(hctx); err != nil {
				a.log.Error("housekeeping", "err", err)
			}
			if err := a.Mail.Housekeeping(hctx); err != nil {
				a.log.Error("mail housekeeping", "err", err)
			}
			cancel()
		}
	}
}

// AccountSettings maps configuration onto the accounts service.
func AccountSettings(cfg config.Config) accounts.Settings {
	return accounts.Settings{SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		LoginAccountFailures: cfg.LoginAccountFailures, LoginIPFailures: cfg.LoginIPFailures, LoginWindow: cfg.LoginWindow,
		UploadDir: cfg.UploadDir}
}

// MailWorkerSettings maps configuration onto the mail worker.
func MailWorkerSettings(cfg config.Config) mail.WorkerSettings {
	return mail.WorkerSettings{
		SMTP: mail.SMTP{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: cfg.SMTP.Password, From: cfg.SMTP.From, TLS: cfg.SMTP.TLS},
		SendTimeout: cfg.SMTP.Timeout, Lease: cfg.Mail.Lease, RetryBase: cfg.Mail.RetryBase, RetryMax: cfg.Mail.RetryMax,
		MaxAttempts: cfg.Mail.MaxAttempts, Poll: cfg.Mail.Poll,
	}
}

// Build creates the services and the Fiber app.
func Build(cfg config.Config, db *sqlx.DB, log *slog.Logger) (*App, error) {
	// Services announce committed changes through the relay to the hub, which
	// tells open pages here and, through NOTIFY, on every other instance.
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ms, err := mail.New(mctx, db, cat, mail.Settings{PublicURL: cfg.PublicURL, DefaultLang: cfg.DefaultLang,
		Secret: cfg.Mail.Secret, Deliver: cfg.SMTP.Host != ""})
	if err != nil {
		return nil, err
	}
	rel := &relay{mail: ms}
	acc, err := accounts.New(db, rel, ms, log, AccountSettings(cfg))
	if err != nil {
		return nil, err
	}
	md := markup.New()
	fs := forum.New(db, rel, md, forum.Settings{PostsPerMinute: cfg.PostsPerMinute})
	mod := moderation.New(db, rel, moderation.Settings{FlagHideThreshold: cfg.FlagHideThreshold})
	mt := meetings.New(db, rel, md, meetings.Settings{Log: log})
	nt := notes.New(db, rel, md, notes.Settings{UploadDir: cfg.UploadDir, MaxUploadBytes: int64(cfg.MaxUploadBytes),
		MaxFilesPerMeeting: cfg.MaxFilesPerMeeting}, log)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB, "forumjst"))
	ns := notify.New(db)
	sr, err := search.New(db)
	if err != nil {
		return nil, err
	}
	nl := newsletter.New(db, rel, ms, md)
	pr := practices.New(db, rel, md, fs, nt)
	tn := tournament.New(db, rel)
	rv := reviews.New(db, rel, md, nt)
	hub := live.New(live.Deps{DB: db, DSN: cfg.DatabaseURL, Log: log, Meetings: mt, Forum: fs, Notify: ns, Notes: nt, Tournaments: tn, Reviews: rv, Registry: reg, Settings: live.Settings{QueueFrames: cfg.WSQueueFrames, PingEvery: cfg.WSPingInterval}})
	rel.hub.Store(hub)
	var worker *mail.Worker
	if cfg.SMTP.Host != "" {
		worker = mail.NewWorker(ms, log.With("component", "mail"), MailWorkerSettings(cfg), reg)
	}
	f, err := web.New(web.Deps{Config: cfg, DB: db, Log: log, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Notes: nt, Live: hub, Notify: ns, Mail: ms, Search: sr, Newsletter: nl, Tournaments: tn, Reviews: rv, Practices: pr, Catalog: cat, Registry: reg})
	if err != nil {
		return nil, err
	}
	return &App{Fiber: f, Accounts: acc, Forum: fs, Mod: mod, Meetings: mt, Notes: nt, Reviews: rv, Practices: pr, Search: sr, Live: hub, Markup: md, Mail: ms,
		MailWorker: worker, log: log, relay: rel, digestHour: cfg.Mail.DigestHour}, nil
}
