// Command forumjst is the forum server and its administration tool.
//
//	forumjst serve [--no-migrate]    run the server (applies pending migrations first)
//	forumjst migrate [up|down|status]
//	forumjst create-admin --email E --name N   (password from stdin, a prompt, or FORUM_ADMIN_PASSWORD)
//	forumjst seed-demo               load demo data (idempotent) and print the demo logins
//	forumjst healthcheck             exit 0 if the local server answers /healthz (for containers)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Warsaw must work in minimal containers too

	"github.com/jmoiron/sqlx"
	"golang.org/x/term"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/app"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/logging"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/topic"
)

const usage = `usage: forumjst <command> [flags]

commands:
  serve          run the forum server (applies pending migrations unless --no-migrate)
  migrate        apply migrations: migrate [up|down|status]
  create-admin   create or reset an administrator: create-admin --email E --name N
                 (password: first line of stdin, an interactive prompt, or FORUM_ADMIN_PASSWORD)
  seed-demo      load demo data (safe to run again) and print the demo logins
  healthcheck    exit 0 if the server on FORUM_ADDR answers /healthz
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args)
	case "migrate":
		err = migrate(ctx, args)
	case "create-admin":
		err = createAdmin(ctx, args)
	case "seed-demo":
		err = seedDemo(ctx)
	case "healthcheck":
		err = healthcheck()
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "forumjst: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "forumjst %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

// loadConfig prints one line per bad setting and exits, so an operator sees every
// mistake at once rather than one per restart.
func loadConfig() config.Config {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "forumjst: invalid configuration:")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "  "+line)
		}
		os.Exit(2)
	}
	return cfg
}

func openDB(ctx context.Context, cfg config.Config) (*sqlx.DB, error) {
	return database.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	noMigrate := fs.Bool("no-migrate", false, "do not apply pending migrations at start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := loadConfig()
	log := logging.New(os.Stdout, cfg.LogFormat, cfg.LogLevel)
	return app.Run(ctx, cfg, log, app.RunOptions{Migrate: !*noMigrate, Grace: 30 * time.Second})
}

func migrate(ctx context.Context, args []string) error {
	cfg := loadConfig()
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := database.NewMigrator(db.DB)
	if err != nil {
		return err
	}
	action := "up"
	if len(args) > 0 {
		action = args[0]
	}
	switch action {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("applied %d migration(s)\n", n)
	case "down":
		if err := m.Down(ctx); err != nil {
			return err
		}
		fmt.Println("rolled back one migration")
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st {
			state := "pending"
			if s.Applied {
				state = "applied " + s.AppliedAt.Format(time.RFC3339)
			}
			fmt.Printf("%05d  %-32s  %s\n", s.Version, s.Source, state)
		}
	default:
		return fmt.Errorf("unknown action %q (want up, down or status)", action)
	}
	return nil
}

func createAdmin(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	email := fs.String("email", "", "administrator's email (required)")
	name := fs.String("name", "", "administrator's display name (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return errors.New("--email and --name are required; the password is read from stdin, never from the command line")
	}
	password, err := readPassword()
	if err != nil {
		return err
	}
	cfg := loadConfig()
	log := logging.New(io.Discard, "text", slog.LevelError)
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := database.Migrate(ctx, db.DB); err != nil {
		return err
	}
	acc, err := accounts.New(db, topic.Discard{}, nil, log, app.AccountSettings(cfg)) // no server to tell: a running one re-checks sessions on its own
	if err != nil {
		return err
	}
	created, err := acc.EnsureAdmin(ctx, *email, *name, password)
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		cat, cerr := i18n.New()
		if cerr != nil {
			return cerr
		}
		tr := cat.Printer("en")
		var msgs []string
		for f, k := range verr.Fields {
			msgs = append(msgs, f+": "+tr.T(k))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("administrator %s created\n", *email)
	} else {
		fmt.Printf("%s is now an administrator with the new password; their old sessions were ended\n", *email)
	}
	return nil
}

// readPassword: FORUM_ADMIN_PASSWORD, else the first line of stdin when it is not
// a terminal, else an interactive prompt without echo.
func readPassword() (string, error) {
	if pw := os.Getenv("FORUM_ADMIN_PASSWORD"); pw != "" {
		return pw, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("no password on stdin (pipe it in, or set FORUM_ADMIN_PASSWORD)")
		}
		return line, nil
	}
	fmt.Fprint(os.Stderr, "Password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(os.Stderr, "Repeat password: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(pw) != string(again) {
		return "", errors.New("the passwords do not match")
	}
	return string(pw), nil
}

func seedDemo(ctx context.Context) error {
	cfg := loadConfig()
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := database.Migrate(ctx, db.DB); err != nil {
		return err
	}
	logins, err := seed.Run(ctx, db, markup.New())
	if err != nil {
		return err
	}
	fmt.Printf("\nDemo data ready. Log in at %s/login with any of these accounts (password: %s):\n\n", cfg.PublicURL, seed.DemoPassword)
	for _, l := range logins {
		fmt.Printf("  %-32s %-22s %s\n", l.Email, l.Name, l.Role)
	}
	fmt.Println()
	return nil
}

func healthcheck() error {
	addr := os.Getenv("FORUM_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("FORUM_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", resp.StatusCode)
	}
	return nil
}
