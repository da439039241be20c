package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/database"
)

// RunOptions are what differ between `forumjst serve` and the benchmark's
// forum child; everything else about starting a server is Run's.
type RunOptions struct {
	Migrate bool          // apply pending migrations before serving
	Grace   time.Duration // how long in-flight requests get at shutdown
}

// Run is a whole server process: it opens the database, applies migrations
// when asked, builds the app, listens on cfg.Addr and serves until ctx ends.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, o RunOptions) error {
	db, err := database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.Migrate {
		n, err := database.Migrate(ctx, db.DB)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "count", n)
	}
	a, err := Build(cfg, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("forum listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL.String())
	if err := a.Serve(ctx, ln, o.Grace); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
