// Package benchlive is `forumjst-bench live`, the live chat benchmark of
// issue 5 item 12 and SPEC §8: N websocket clients in one meeting room over
// loopback, against the forum and, in the same run, against a bare broadcast
// baseline (same frames, no auth, no persistence), reporting connect time,
// deliveries per second, loss, send→receive latency and resident memory per
// connection, the forum's figures as ratios to the baseline's, next to the
// SPEC's targets.
//
// By default it starts everything itself: a fresh database on the server of
// DATABASE_URL (dropped at the end), and for every scenario a fresh
// `forumjst serve` (the production binary, found next to forumjst-bench or
// named by --forumjst) and a fresh baseline, each a child process on a loopback
// port, so that memory is measured per process, from a clean start, the same
// way for both. Everything is bounded in count and time and stops by itself;
// children are killed on error and interrupt (and by the kernel if this
// process dies).
package benchlive

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gwd-jst/forumjst/internal/benchsum"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/pgadmin"
)

const usageText = `usage: forumjst-bench live [flags]

Live chat benchmark (SPEC §8): N websocket subscribers in one room over loopback,
against forumjst and a bare broadcast baseline in the same run.

DATABASE_URL (required) names a PostgreSQL server: a fresh database is created on
it for the run and dropped at the end. With --url, DATABASE_URL must instead be
the database of the server at --url (fixture accounts are added to it and left).

flags:
  --scenarios LIST  comma-separated: fanout1k (1,000 subscribers, 100 msg/s),
                    fanout5k (5,000, 20 msg/s), idle10k (10,000 idle), N@RATE,
                    or scaleK[:N][@RATE]: K forumjst instances on one database,
                    N subscribers (default 1,000) and the senders spread over
                    them, RATE msg/s (default 100), with cross-instance latency,
                    NOTIFY traffic and PostgreSQL's load; no baseline. A
                    suffix /K gives a scenario K sending connections
                    instead of --senders (fanout1k/10: issue 16's 10-sender
                    row). Default fanout1k,fanout1k/10,fanout5k,idle10k
  --duration D      sending time per scenario (default 10s)
  --drain D         longest wait for deliveries after the last send (default 3s)
  --settle D        pause before measuring memory (default 2s)
  --dialers N       connections opened concurrently (default 200)
  --accounts N      receiver accounts the subscribers share (default 50)
  --senders K       sending connections, used round robin (default 1)
  --forumjst PATH   the forumjst binary to start (default: forumjst next to
                    this program)
  --url URL         benchmark a running forum on loopback instead of starting one
  --server-pid PID  that server's process, for resident memory (with --url)
  --profile DIR     save CPU and heap profiles of the forum (and a CPU profile of
                    the load client) per scenario into DIR
  --json FILE       also write every result as JSON
  --rows FILE       also write the figures, baselines and targets as rows for
                    forumjst-bench summary (make bench)
  --timeout D       upper bound for the whole run (default 15m)
`

// options are the parsed flags.
type options struct {
	url        string
	forumjst   string
	serverPID  int
	scenarios  []Scenario
	set        loadSettings
	accounts   int
	profileDir string
	jsonFile   string
	rowsFile   string
	timeout    time.Duration
}

// Main runs `forumjst-bench live args…`. Two hidden modes serve the harness's
// own child processes: --baseline-server and --forum-server.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	var o options
	scen := fs.String("scenarios", "fanout1k,fanout1k/10,fanout5k,idle10k", "")
	fs.DurationVar(&o.set.Duration, "duration", 10*time.Second, "")
	fs.DurationVar(&o.set.Drain, "drain", 3*time.Second, "")
	fs.DurationVar(&o.set.Settle, "settle", 2*time.Second, "")
	fs.IntVar(&o.set.Dialers, "dialers", 200, "")
	fs.IntVar(&o.accounts, "accounts", 50, "")
	fs.IntVar(&o.set.Senders, "senders", 1, "")
	fs.StringVar(&o.url, "url", "", "")
	fs.StringVar(&o.forumjst, "forumjst", "", "")
	fs.IntVar(&o.serverPID, "server-pid", 0, "")
	fs.StringVar(&o.profileDir, "profile", "", "")
	fs.StringVar(&o.jsonFile, "json", "", "")
	fs.StringVar(&o.rowsFile, "rows", "", "")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "")
	// Hidden: the harness's child processes.
	baselineMode := fs.Bool("baseline-server", false, "")
	forumMode := fs.Bool("forum-server", false, "")
	addr := fs.String("addr", "127.0.0.1:0", "")
	authorID := fs.Int64("author-id", 1, "")
	authorName := fs.String("author-name", senderName, "")
	pprofAddr := fs.String("pprof-addr", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	switch {
	case *baselineMode:
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("baseline: listen on %s: %w", *addr, err)
		}
		return serveBaseline(ctx, ln, meetings.Author{ID: *authorID, Name: *authorName})
	case *forumMode:
		return runForumChild(ctx, *pprofAddr)
	}

	var err error
	if o.scenarios, err = parseScenarios(*scen); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	return run(ctx, o, stdout, stderr)
}

func (o *options) validate() error {
	switch {
	case o.set.Duration < time.Second || o.set.Duration > 5*time.Minute:
		return errors.New("--duration must be between 1s and 5m")
	case o.set.Drain < 0 || o.set.Drain > time.Minute:
		return errors.New("--drain must be between 0 and 1m")
	case o.set.Settle < 0 || o.set.Settle > time.Minute:
		return errors.New("--settle must be between 0 and 1m")
	case o.set.Dialers < 1 || o.set.Dialers > 2000:
		return errors.New("--dialers must be between 1 and 2000")
	case o.set.Senders < 1 || o.set.Senders > 64:
		return errors.New("--senders must be between 1 and 64")
	case o.accounts < 1 || o.accounts > 1000:
		return errors.New("--accounts must be between 1 and 1000")
	case o.timeout < time.Minute || o.timeout > 2*time.Hour:
		return errors.New("--timeout must be between 1m and 2h")
	}
	if o.url != "" {
		for _, sc := range o.scenarios {
			if sc.Instances > 1 {
				return fmt.Errorf("scenario %s starts its own instances: it cannot run with --url", sc.Name)
			}
		}
		u, err := url.Parse(o.url)
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return fmt.Errorf("--url %q: want http://127.0.0.1:PORT", o.url)
		}
		if !isLoopback(u.Hostname()) {
			return fmt.Errorf("--url %q: the benchmark only loads servers on loopback", o.url)
		}
		o.url = strings.TrimRight(u.Scheme+"://"+u.Host, "/")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseScenarios reads the --scenarios list.
func parseScenarios(list string) ([]Scenario, error) {
	var out []Scenario
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if base, k, ok := strings.Cut(name, "/"); ok {
			senders, err := strconv.Atoi(k)
			if err != nil || senders < 1 || senders > 64 || base == "" || strings.HasPrefix(base, "scale") {
				return nil, fmt.Errorf("scenario %q: want NAME/K with 1 ≤ K ≤ 64 sending connections (not for scale scenarios)", name)
			}
			sc, err := parseScenarios(base)
			if err != nil {
				return nil, err
			}
			sc[0].Name, sc[0].Senders = name, senders
			out = append(out, sc[0])
			continue
		}
		switch name {
		case "":
			continue
		case "fanout1k":
			out = append(out, Scenario{Name: name, N: 1000, Rate: 100})
		case "fanout5k":
			out = append(out, Scenario{Name: name, N: 5000, Rate: 20})
		case "idle10k":
			out = append(out, Scenario{Name: name, N: 10000})
		default:
			if sc, ok, err := parseScale(name); ok {
				if err != nil {
					return nil, err
				}
				out = append(out, sc)
				continue
			}
			ns, rs, ok := strings.Cut(name, "@")
			n, err1 := strconv.Atoi(ns)
			r, err2 := strconv.Atoi(rs)
			if !ok || err1 != nil || err2 != nil || n < 1 || n > 20000 || r < 0 || r > 5000 {
				return nil, fmt.Errorf("unknown scenario %q (want fanout1k, fanout5k, idle10k, N@RATE with N ≤ 20000, RATE ≤ 5000, or scaleK[:N][@RATE])", name)
			}
			out = append(out, Scenario{Name: name, N: n, Rate: r})
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no scenario given")
	}
	return out, nil
}

// harness holds what every scenario of a run shares.
type harness struct {
	o         options
	exe       string // this program: the baseline's and the profiled forum's child
	forumjst  string // the production binary: the forum's child
	dbURL     string
	uploadDir string
	fx        *fixtures
	logf      func(format string, args ...any)
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	h := &harness{o: o, logf: func(format string, args ...any) {
		fmt.Fprintf(stderr, "bench-live: "+format+"\n", args...)
	}}
	serverURL := strings.TrimSpace(os.Getenv("DATABASE_URL"))
	if serverURL == "" {
		return errors.New("DATABASE_URL is required (a PostgreSQL server URL, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	var err error
	if h.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	// The forum under test is the production binary, started as people run it.
	h.forumjst = o.forumjst
	if h.forumjst == "" {
		h.forumjst = filepath.Join(filepath.Dir(h.exe), "forumjst")
	}
	if o.url == "" {
		if _, err := os.Stat(h.forumjst); err != nil {
			return fmt.Errorf("the forumjst binary (build it with make build, or name it with --forumjst): %w", err)
		}
	}
	checkFileLimit(o.scenarios, h.logf)

	if o.url == "" {
		var drop func() error
		pgadmin.ReapDatabases(ctx, serverURL, dbPrefix)
		h.dbURL, drop, err = pgadmin.CreateDatabase(ctx, serverURL, dbPrefix)
		if err != nil {
			return err
		}
		defer func() {
			if err := drop(); err != nil {
				h.logf("%v", err)
			}
		}()
		h.logf("database %s created", pgadmin.DatabaseName(h.dbURL))
	} else if h.dbURL, err = pgadmin.WithDatabase(serverURL, ""); err != nil {
		return err
	}
	if h.uploadDir, err = os.MkdirTemp("", "benchlive-uploads-"); err != nil {
		return fmt.Errorf("upload directory: %w", err)
	}
	defer os.RemoveAll(h.uploadDir)
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return fmt.Errorf("profile directory: %w", err)
		}
	}

	if err := h.prepare(ctx); err != nil {
		return err
	}
	var all [][]*Result
	for _, sc := range o.scenarios {
		var rs []*Result
		servers := []string{"baseline", "forumjst"}
		if sc.Instances > 1 {
			// The reference of a scale scenario is in its own run: the
			// deliveries on the sending instance.
			servers = servers[1:]
		}
		for _, server := range servers {
			r, err := h.runOn(ctx, server, sc)
			if err != nil {
				return fmt.Errorf("%s against %s: %w", sc.Name, server, err)
			}
			rs = append(rs, r)
		}
		writeScenario(stdout, sc, o.set.Duration, rs)
		all = append(all, rs)
	}
	writeSummary(stdout, all)
	if o.rowsFile != "" {
		if err := benchsum.Write(o.rowsFile, "live", summaryRows(all)); err != nil {
			return fmt.Errorf("write %s: %w", o.rowsFile, err)
		}
	}
	if o.jsonFile != "" {
		var flat []*Result
		for _, rs := range all {
			flat = append(flat, rs...)
		}
		b, err := json.MarshalIndent(flat, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.jsonFile, err)
		}
	}
	return nil
}

// checkFileLimit warns when the descriptor limit cannot hold the largest
// scenario (each connection is one descriptor here and one in the server).
func checkFileLimit(scs []Scenario, logf func(string, ...any)) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return
	}
	for _, sc := range scs {
		if uint64(sc.N)+512 > lim.Cur {
			logf("warning: open file limit %d is low for %s (N=%d); raise it with ulimit -n", lim.Cur, sc.Name, sc.N)
		}
	}
}

// prepare migrates the database, seeds the fixture accounts and logs them in
// once, on a forum process of its own: each login hashes a password with
// argon2id (19 MiB each), which must not inflate a measured server's memory.
// Sessions live in the database, so the cookies serve every later process.
func (h *harness) prepare(ctx context.Context) error {
	db, err := database.Open(ctx, h.dbURL, 4)
	if err != nil {
		return err
	}
	if h.o.url == "" {
		if _, err := database.Migrate(ctx, db.DB); err != nil {
			db.Close()
			return err
		}
	}
	h.fx, err = seedFixtures(ctx, db, h.o.accounts)
	db.Close()
	if err != nil {
		return err
	}
	base := h.o.url
	if base == "" {
		c, err := h.startForum(ctx)
		if err != nil {
			return err
		}
		defer c.stop()
		base = c.base
	}
	h.logf("logging in %d fixture accounts", len(h.fx.Receivers)+1)
	return newAPI(base).loginAll(ctx, h.fx)
}

// startForum starts `forumjst serve` (or, with --profile, the same server
// built by the hidden --forum-server mode with a profiling listener).
func (h *harness) startForum(ctx context.Context) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := childEnv(map[string]string{
		"DATABASE_URL":     h.dbURL,
		"FORUM_ADDR":       fmt.Sprintf("127.0.0.1:%d", port),
		"FORUM_PUBLIC_URL": base,
		"FORUM_LOG_LEVEL":  "warn",
		"FORUM_UPLOAD_DIR": h.uploadDir,
	})
	exe, args, pprofBase := h.forumjst, []string{"serve"}, ""
	if h.o.profileDir != "" {
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		pprofBase = fmt.Sprintf("http://127.0.0.1:%d", pport)
		// Profiling needs a listener inside the server: the same app, run by
		// this program, so that the production binary has no profiling code.
		exe, args = h.exe, []string{"live", "--forum-server", "--pprof-addr", fmt.Sprintf("127.0.0.1:%d", pport)}
	}
	return startChild(ctx, "forumjst", exe, args, env, base, pprofBase)
}

func (h *harness) startBaseline(ctx context.Context) (*child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"live", "--baseline-server", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--author-id", strconv.FormatInt(h.fx.Sender.ID, 10), "--author-name", h.fx.Sender.Name}
	return startChild(ctx, "baseline", h.exe, args, os.Environ(), base, "")
}

// runOn runs a scenario against a fresh process of one server.
func (h *harness) runOn(ctx context.Context, server string, sc Scenario) (*Result, error) {
	if sc.Instances > 1 {
		return h.runScale(ctx, sc)
	}
	var c *child
	var err error
	tgt := Target{Name: server}
	switch {
	case server == "baseline":
		if c, err = h.startBaseline(ctx); err != nil {
			return nil, err
		}
		tgt.MeetingID = 1
	case h.o.url != "":
		tgt.Base, tgt.PID = h.o.url, h.o.serverPID
	default:
		if c, err = h.startForum(ctx); err != nil {
			return nil, err
		}
	}
	withLogs := func(err error) error {
		if c == nil {
			return err
		}
		return fmt.Errorf("%w\nlast server output:\n%s", err, c.logs.tail(15))
	}
	if c != nil {
		defer c.stop()
		tgt.Base, tgt.PID = c.base, c.pid()
	}
	if server == "forumjst" {
		if tgt.MeetingID, err = newAPI(tgt.Base).liveMeeting(ctx, h.fx, "Test obciążeniowy "+sc.Name); err != nil {
			return nil, withLogs(err)
		}
		for _, r := range h.fx.Receivers {
			tgt.Receivers = append(tgt.Receivers, r.Cookie)
		}
		tgt.Sender = h.fx.Sender.Cookie
	}
	h.logf("%s against %s: connecting %s subscribers", sc.Name, server, fmtInt(int64(sc.N)))
	var hk hooks
	if c != nil && c.pprof != "" {
		hk = h.profileHooks(ctx, c, sc)
	}
	res, err := runScenario(ctx, tgt, sc, h.o.set, hk)
	if err != nil {
		return nil, withLogs(err)
	}
	if c != nil {
		res.ServerLogProblems, res.ServerLogFirst = c.logs.problemLines()
	}
	return res, nil
}

// profileHooks save, into --profile's directory, the forum's CPU profile
// while the subscribers connect, its heap once they are connected, its CPU
// profile while sending, and the load client's own CPU profile over the same
// window.
func (h *harness) profileHooks(ctx context.Context, c *child, sc Scenario) hooks {
	file := func(kind string) string {
		return filepath.Join(h.o.profileDir, strings.NewReplacer("@", "at", "/", "-senders").Replace(sc.Name)+"-"+c.name+"-"+kind+".pprof")
	}
	try := func(err error) {
		if err != nil {
			h.logf("profile: %v", err)
		}
	}
	var clientOut *os.File
	return hooks{
		connecting: func() { try(fetchProfile(ctx, "POST", c.pprof, "/cpu/start", "")) },
		connected: func() {
			try(fetchProfile(ctx, "POST", c.pprof, "/cpu/stop", file("connect-cpu")))
			try(fetchProfile(ctx, "GET", c.pprof, "/heap", file("heap")))
		},
		sending: func() {
			try(fetchProfile(ctx, "POST", c.pprof, "/cpu/start", ""))
			f, err := os.Create(file("client-cpu"))
			if err == nil && pprof.StartCPUProfile(f) == nil {
				clientOut = f
			} else if f != nil {
				f.Close()
			}
		},
		drained: func() {
			try(fetchProfile(ctx, "POST", c.pprof, "/cpu/stop", file("cpu")))
			if clientOut != nil {
				pprof.StopCPUProfile()
				clientOut.Close()
			}
			h.logf("profiles of %s saved in %s", sc.Name, h.o.profileDir)
		},
	}
}

// runScale runs a scale scenario: sc.Instances fresh `forumjst serve`
// processes on the run's database, one room, the meter around the sending.
func (h *harness) runScale(ctx context.Context, sc Scenario) (*Result, error) {
	var cs []*child
	defer func() {
		for _, c := range cs {
			c.stop()
		}
	}()
	withLogs := func(err error) error {
		var b strings.Builder
		for i, c := range cs {
			fmt.Fprintf(&b, "\nlast output of instance %d:\n%s", i, c.logs.tail(10))
		}
		return fmt.Errorf("%w%s", err, b.String())
	}
	tgt := Target{Name: "forumjst"}
	for range sc.Instances {
		c, err := h.startForum(ctx)
		if err != nil {
			return nil, withLogs(err)
		}
		cs = append(cs, c)
		tgt.Instances = append(tgt.Instances, Instance{Base: c.base, PID: c.pid()})
	}
	var err error
	if tgt.MeetingID, err = newAPI(cs[0].base).liveMeeting(ctx, h.fx, "Test obciążeniowy "+sc.Name); err != nil {
		return nil, withLogs(err)
	}
	for _, r := range h.fx.Receivers {
		tgt.Receivers = append(tgt.Receivers, r.Cookie)
	}
	tgt.Sender = h.fx.Sender.Cookie
	m, err := newScaleMeter(ctx, h.dbURL, tgt.Instances, tgt.MeetingID)
	if err != nil {
		return nil, err
	}
	defer m.close()
	h.logf("%s: connecting %s subscribers over %d instances", sc.Name, fmtInt(int64(sc.N)), sc.Instances)
	res, err := runScenarioMetered(ctx, tgt, sc, h.o.set, hooks{}, m)
	if err != nil {
		return nil, withLogs(err)
	}
	for _, c := range cs {
		n, first := c.logs.problemLines()
		res.ServerLogProblems += n
		if len(res.ServerLogFirst) < 5 {
			res.ServerLogFirst = append(res.ServerLogFirst, first...)
		}
	}
	return res, nil
}
