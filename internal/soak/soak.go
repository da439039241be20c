// Package soak is `forumjst-bench soak` (make soak, issue 16 item 5): two
// `forumjst serve` instances on one throwaway database carry, for a long
// time (30 minutes by default), websocket members who come and go and
// resume with since_seq, chat senders on both instances (~10,000 deliveries
// a second) and members reading thread and group pages and posting replies.
// Every interval it prints each instance's resident memory, Go heap,
// goroutines, open files and database connections beside the interval's
// deliveries per second, latency and losses; at the end it checks that
// nothing was lost, that the resources stayed flat and that they were
// released once the clients left, writes every sample as JSON under
// test-artifacts/ and exits non-zero on any failed check.
//
// It reuses internal/benchlive's pieces (fixture accounts, the JSON client,
// server children, the chat frame parser). Everything is on loopback,
// bounded in time and stops by itself.
package soak

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gwd-jst/forumjst/internal/benchlive"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/pgadmin"
)

const usageText = `usage: forumjst-bench soak [flags]

Soak (issue 16 item 5): two forumjst serve instances on one throwaway database
(created on the server of DATABASE_URL, dropped at the end) under chat fan-out
with members joining and leaving, page reads and posting; one line per instance
every --every; at the end a verdict (flat, nothing lost, released) and a JSON
of every sample. Exits non-zero when a check fails.

flags:
  --duration D     load time (default 30m)
  --subscribers N  websocket members, spread over both instances (default 500)
  --rate R         chat messages per second, all senders together (default 20;
                   500 × 20 ≈ 10,000 deliveries/s)
  --senders K      sender connections per instance (default 2)
  --lifetime D     mean time a member stays connected before leaving (default 1m;
                   0 = no churn); it comes back after up to --away on the other
                   instance and resumes with since_seq
  --away D         longest pause before a member comes back (default 3s)
  --web N          members reading pages and posting over HTTP (default 8)
  --page-rate R    page reads per second, all together (default 10)
  --post-rate R    replies per second, all together (default 1; each member
                   must stay under the forum's 10 posts a minute)
  --every D        sampling interval (default 1m)
  --accounts N     member accounts the websocket members share (default 50)
  --drain D        longest wait for acks and catch-up after the load (default 30s)
  --settle D       pause after every client closed before the last reading
                   (default 10s)
  --forumjst PATH  the forumjst binary (default: forumjst next to this program)
  --json FILE      where to write the samples (default
                   test-artifacts/soak-<date>.json)
`

const (
	dbPrefix       = "forumjst_soak_"
	harnessAppName = "forumjst-soak-harness"
)

type options struct {
	set      Settings
	accounts int
	forumjst string
	jsonFile string
}

// Main runs `forumjst-bench soak args…`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	var o options
	fs.DurationVar(&o.set.Duration, "duration", 30*time.Minute, "")
	fs.IntVar(&o.set.Subscribers, "subscribers", 500, "")
	fs.IntVar(&o.set.Rate, "rate", 20, "")
	fs.IntVar(&o.set.Senders, "senders", 2, "")
	fs.DurationVar(&o.set.Lifetime, "lifetime", time.Minute, "")
	fs.DurationVar(&o.set.Away, "away", 3*time.Second, "")
	fs.IntVar(&o.set.Web, "web", 8, "")
	fs.Float64Var(&o.set.PageRate, "page-rate", 10, "")
	fs.Float64Var(&o.set.PostRate, "post-rate", 1, "")
	fs.DurationVar(&o.set.Every, "every", time.Minute, "")
	fs.IntVar(&o.accounts, "accounts", 50, "")
	fs.DurationVar(&o.set.Drain, "drain", 30*time.Second, "")
	fs.DurationVar(&o.set.Settle, "settle", 10*time.Second, "")
	fs.StringVar(&o.forumjst, "forumjst", "", "")
	fs.StringVar(&o.jsonFile, "json", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.set.ConnectOver = min(10*time.Second, o.set.Duration/10)
	// The instances inherit FORUM_* from this environment (childEnv).
	o.set.DBConnBound = 20 + 1
	if v, err := strconv.Atoi(os.Getenv("FORUM_DB_MAX_CONNS")); err == nil && v > 0 {
		o.set.DBConnBound = v + 1
	}
	if err := o.validate(); err != nil {
		return err
	}
	if o.jsonFile == "" {
		o.jsonFile = filepath.Join("test-artifacts", "soak-"+time.Now().UTC().Format("20060102-150405")+".json")
	}
	return run(ctx, o, stdout, stderr)
}

func (o *options) validate() error {
	s := o.set
	switch {
	case s.Duration < 10*time.Second || s.Duration > 3*time.Hour:
		return errors.New("--duration must be between 10s and 3h")
	case s.Subscribers < 1 || s.Subscribers > 20000:
		return errors.New("--subscribers must be between 1 and 20000")
	case s.Rate < 1 || s.Rate > 2000:
		return errors.New("--rate must be between 1 and 2000")
	case s.Senders < 1 || s.Senders > 32:
		return errors.New("--senders must be between 1 and 32")
	case s.Lifetime < 0 || (s.Lifetime > 0 && s.Lifetime < 2*time.Second):
		return errors.New("--lifetime must be 0 (no churn) or at least 2s")
	case s.Away < 0 || s.Away > time.Minute:
		return errors.New("--away must be between 0 and 1m")
	case s.Web < 0 || s.Web > 200:
		return errors.New("--web must be between 0 and 200")
	case s.PageRate < 0 || s.PageRate > 5000 || s.PostRate < 0 || s.PostRate > 500:
		return errors.New("--page-rate must be between 0 and 5000, --post-rate between 0 and 500")
	case s.Web > 0 && s.PostRate*60/float64(s.Web) > 9:
		return fmt.Errorf("--post-rate %.1f/s over %d members is %.1f posts a minute each: the forum allows 10 (FORUM_POSTS_PER_MINUTE); raise --web",
			s.PostRate, s.Web, s.PostRate*60/float64(s.Web))
	case s.Every < time.Second || s.Every > s.Duration:
		return errors.New("--every must be between 1s and --duration")
	case o.accounts < 1 || o.accounts > 1000 || o.accounts < s.Web:
		return errors.New("--accounts must be between 1 and 1000 and at least --web (each web member has its own)")
	case s.Drain < time.Second || s.Drain > 5*time.Minute:
		return errors.New("--drain must be between 1s and 5m")
	case s.Settle < 0 || s.Settle > 5*time.Minute:
		return errors.New("--settle must be between 0 and 5m")
	}
	return nil
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.set.Duration+o.set.Drain+o.set.Settle+10*time.Minute)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "soak: "+format+"\n", args...) }
	serverURL := strings.TrimSpace(os.Getenv("DATABASE_URL"))
	if serverURL == "" {
		return errors.New("DATABASE_URL is required (a PostgreSQL server URL, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	bin := o.forumjst
	if bin == "" {
		bin = filepath.Join(filepath.Dir(exe), "forumjst")
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the forumjst binary (build it with make build, or name it with --forumjst): %w", err)
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && uint64(o.set.Subscribers+o.set.Web*4+512) > lim.Cur {
		logf("warning: open file limit %d is low for %d subscribers; raise it with ulimit -n", lim.Cur, o.set.Subscribers)
	}

	pgadmin.ReapDatabases(ctx, serverURL, dbPrefix)
	dbURL, drop, err := pgadmin.CreateDatabase(ctx, serverURL, dbPrefix)
	if err != nil {
		return err
	}
	defer func() {
		if err := drop(); err != nil {
			logf("%v", err)
		}
	}()
	logf("database %s created", pgadmin.DatabaseName(dbURL))
	uploads, err := os.MkdirTemp("", "soak-uploads-")
	if err != nil {
		return fmt.Errorf("upload directory: %w", err)
	}
	defer os.RemoveAll(uploads)

	db, err := database.Open(ctx, withAppName(dbURL, harnessAppName), 4)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := database.Migrate(ctx, db.DB); err != nil {
		return err
	}
	fx, err := benchlive.SeedFixtures(ctx, db, o.accounts)
	if err != nil {
		return err
	}

	// Logins (argon2id, 19 MiB each), the meeting and the threads are made
	// on a process of their own, so the measured instances start clean.
	setup := Setup{Fixtures: fx}
	prep, err := benchlive.StartServe(ctx, "prep", bin, withAppName(dbURL, "forumjst-soak-prep"), uploads, nil)
	if err != nil {
		return err
	}
	logf("logging in %d fixture accounts", len(fx.Receivers)+1)
	err = Prepare(ctx, benchlive.NewAPI(prep.Base()), &setup, 5)
	prep.Stop()
	if err != nil {
		return err
	}

	var insts []Instance
	var children []*benchlive.Child
	defer func() {
		for _, c := range children {
			c.Stop()
		}
	}()
	for _, name := range []string{"a", "b"} {
		app := "forumjst-soak-" + name
		c, err := benchlive.StartServe(ctx, name, bin, withAppName(dbURL, app), uploads, nil)
		if err != nil {
			return err
		}
		children = append(children, c)
		insts = append(insts, Instance{Name: name, Base: c.Base(), PID: c.PID(), AppName: app})
	}
	logf("instances a (%s, pid %d) and b (%s, pid %d) up; %s of load, a line per instance every %s",
		insts[0].Base, insts[0].PID, insts[1].Base, insts[1].PID, o.set.Duration, o.set.Every)

	rep, err := Run(ctx, o.set, insts, db, setup, stdout, logf)
	if err != nil {
		for i, c := range children {
			logf("last output of instance %s:\n%s", insts[i].Name, c.LogTail(15))
		}
		return err
	}
	for i, c := range children {
		if n, first := c.LogProblems(); n > 0 {
			logf("instance %s wrote %d warning/error lines; first: %s", insts[i].Name, n, strings.Join(first, " | "))
		}
	}
	rep.WriteVerdict(stdout)
	if err := rep.Save(o.jsonFile); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "samples written to %s\n", o.jsonFile)
	if !rep.Pass {
		return errors.New("the soak failed a check (see ✗ above)")
	}
	return nil
}

// Prepare logs the fixture accounts in through api, starts a meeting and
// opens threads threads in the fixture group as the staff sender.
func Prepare(ctx context.Context, api *benchlive.API, s *Setup, threads int) error {
	if err := api.LoginAll(ctx, s.Fixtures); err != nil {
		return err
	}
	var err error
	if s.MeetingID, err = api.LiveMeeting(ctx, s.Fixtures, "Test długotrwały"); err != nil {
		return err
	}
	for i := range threads {
		var t struct {
			ID int64 `json:"id"`
		}
		if _, err := api.Do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/groups/%d/threads", s.GroupID), &s.Sender,
			map[string]any{"title": fmt.Sprintf("Wątek testu długotrwałego %d", i+1), "body": "Pierwszy wpis wątku."}, &t, http.StatusCreated); err != nil {
			return fmt.Errorf("open a thread: %w", err)
		}
		s.Threads = append(s.Threads, t.ID)
	}
	return nil
}

// withAppName sets application_name on a postgres:// URL, so that
// pg_stat_activity tells the instances' connections apart.
func withAppName(dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}
