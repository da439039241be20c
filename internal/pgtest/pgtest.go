// Package pgtest gives every Go test package its own throwaway PostgreSQL
// database on a real server.
//
// Typical use, once per test package:
//
//	var dbURL string
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }
//
// The server is found in this order (see ServerURL):
//
//  1. $DATABASE_URL, if set (its database name is ignored: a fresh one is created);
//  2. postgres://postgres@127.0.0.1:5432/postgres if it answers within ~2s
//     (skipped when PGTEST_SKIP_LOCAL=1);
//  3. a throwaway cluster started with initdb/pg_ctl in a temporary directory,
//     stopped and removed when the tests finish.
//
// Databases are named forumjst_test_<16 hex> and dropped WITH (FORCE) after
// m.Run. Databases and clusters left behind by test binaries that were killed
// (e.g. by a -timeout panic) are removed by a later run on the same host.
// Nothing is printed on success.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// DBPrefix is the name prefix of every database created by CreateDatabase.
const DBPrefix = "forumjst_test_"

// LocalURL is the server probed when DATABASE_URL is not set.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// errNoPostgres is the single line printed when no server can be found or started.
var errNoPostgres = errors.New("pgtest: no PostgreSQL reachable and no initdb found; install postgresql (apt-get install -y postgresql) or set DATABASE_URL")

var dbNameRE = regexp.MustCompile(`^` + DBPrefix + `[0-9a-f]{16}$`)

// Run is called from TestMain: it finds a server, creates a database with a
// random name, sets *dbURL to its URL, runs m.Run(), drops the database
// afterwards, stops any cluster it started and returns the exit code.
func Run(m *testing.M, dbURL *string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	server, stop, err := ServerURL(ctx)
	if err != nil {
		cancel()
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reapDatabases(ctx, server)
	url, drop, err := CreateDatabase(ctx, server)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if serr := stop(); serr != nil {
			fmt.Fprintln(os.Stderr, serr)
		}
		return 1
	}

	var once sync.Once
	cleanup := func() (failed bool) {
		once.Do(func() {
			if err := drop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
			if err := stop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
		})
		return failed
	}

	// Clean up when interrupted (Ctrl-C, kill); a -timeout panic cannot be
	// caught here and is handled by the reapers of a later run.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "pgtest: %v: dropping test database\n", s)
		cleanup()
		os.Exit(1)
	}()

	*dbURL = url
	code := m.Run()

	signal.Stop(sigs)
	close(sigs)
	if cleanup() && code == 0 {
		code = 1
	}
	return code
}

// ServerURL finds a PostgreSQL server and returns a URL for it (connecting as
// a role that may create databases). stop shuts down a cluster started by
// ServerURL; it is a no-op otherwise and is never nil.
func ServerURL(ctx context.Context) (serverURL string, stop func() error, err error) {
	noop := func() error { return nil }
	if env := strings.TrimSpace(os.Getenv("DATABASE_URL")); env != "" {
		u, err := withDatabase(env, "")
		if err != nil {
			return "", noop, fmt.Errorf("pgtest: DATABASE_URL: %w", err)
		}
		return u, noop, nil
	}
	if os.Getenv("PGTEST_SKIP_LOCAL") != "1" {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ping(pctx, LocalURL)
		cancel()
		if err == nil {
			return LocalURL, noop, nil
		}
	}
	return startCluster(ctx)
}

// CreateDatabase creates a database named forumjst_test_<16 hex> on the
// server (any database named in serverURL is only used to connect) and
// returns its URL and a func that drops it WITH (FORCE). drop is idempotent.
func CreateDatabase(ctx context.Context, serverURL string) (dbURL string, drop func() error, err error) {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()

	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", nil, fmt.Errorf("pgtest: random name: %w", err)
	}
	name := DBPrefix + hex.EncodeToString(buf[:])

	// CREATE DATABASE fails with 55006 while someone else is connected to
	// the template; retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
		var pqErr *pq.Error
		if err == nil || attempt >= 20 || !errors.As(err, &pqErr) || pqErr.Code != "55006" {
			break
		}
		select {
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	host, _ := os.Hostname()
	comment := fmt.Sprintf("pgtest pid=%d host=%s created=%d", os.Getpid(), host, time.Now().Unix())
	// Best effort: used only to reap databases of killed test binaries.
	_, _ = admin.ExecContext(ctx, "COMMENT ON DATABASE "+pq.QuoteIdentifier(name)+" IS "+pq.QuoteLiteral(comment))

	dbURL, err = withDatabase(serverURL, name)
	if err != nil {
		return "", nil, err
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return dropDatabase(ctx, serverURL, name)
	}
	return dbURL, drop, nil
}

func dropDatabase(ctx context.Context, serverURL, name string) error {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	q := pq.QuoteIdentifier(name)
	_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)")
	var pqErr *pq.Error
	if err != nil && errors.As(err, &pqErr) && pqErr.Code == "42601" {
		// PostgreSQL < 13 has no WITH (FORCE).
		_, _ = admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q)
	}
	if err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

// reapDatabases drops forumjst_test_* databases left by test binaries of this
// host that no longer run, and any older than a day. Best effort, silent.
func reapDatabases(ctx context.Context, serverURL string) {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return
	}
	defer admin.Close()
	rows, err := admin.QueryContext(ctx, `SELECT datname, COALESCE(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'forumjst\_test\_%'`)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	var stale []string
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) != nil || !dbNameRE.MatchString(name) {
			continue
		}
		f := parseComment(comment)
		if f["pid"] == "" {
			continue
		}
		pid, _ := strconv.Atoi(f["pid"])
		created, _ := strconv.ParseInt(f["created"], 10, 64)
		old := created > 0 && time.Since(time.Unix(created, 0)) > 24*time.Hour
		if old || (f["host"] == host && pid > 0 && !processAlive(pid)) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_ = dropDatabase(ctx, serverURL, name)
	}
}

func parseComment(s string) map[string]string {
	f := map[string]string{}
	if !strings.HasPrefix(s, "pgtest ") {
		return f
	}
	for _, kv := range strings.Fields(s)[1:] {
		if k, v, ok := strings.Cut(kv, "="); ok {
			f[k] = v
		}
	}
	return f
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

func ping(ctx context.Context, dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// openAdmin connects to the database named in serverURL, falling back to
// "postgres" and then "template1" when that database does not exist.
func openAdmin(ctx context.Context, serverURL string) (*sql.DB, error) {
	var firstErr error
	for _, name := range []string{"", "postgres", "template1"} {
		dsn := serverURL
		if name != "" {
			var err error
			if dsn, err = withDatabase(serverURL, name); err != nil {
				return nil, err
			}
		}
		db, err := sql.Open("postgres", dsn)
		if err == nil {
			db.SetMaxOpenConns(1)
			if err = db.PingContext(ctx); err == nil {
				return db, nil
			}
			db.Close()
		}
		if firstErr == nil {
			firstErr = err
		}
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "3D000" { // invalid_catalog_name
			break
		}
	}
	return nil, fmt.Errorf("pgtest: connect to %s: %w", redact(serverURL), firstErr)
}

// withDatabase returns rawURL as a postgres:// URL with its database replaced
// by name (kept when name is empty) and sslmode=disable unless it sets one.
// Both URL and key=value connection strings are accepted.
func withDatabase(rawURL, name string) (string, error) {
	var u *url.URL
	if strings.HasPrefix(rawURL, "postgres://") || strings.HasPrefix(rawURL, "postgresql://") {
		var err error
		if u, err = url.Parse(rawURL); err != nil {
			return "", fmt.Errorf("invalid database URL: %w", err)
		}
	} else {
		kv, err := parseDSN(rawURL)
		if err != nil {
			return "", err
		}
		u = dsnToURL(kv)
	}
	u.Scheme = "postgres"
	if name != "" {
		u.Path = "/" + name
		u.RawPath = ""
	}
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// parseDSN parses a libpq key=value connection string.
func parseDSN(s string) (map[string]string, error) {
	kv := map[string]string{}
	r := []rune(s)
	i := 0
	skipSpace := func() {
		for i < len(r) && (r[i] == ' ' || r[i] == '\t' || r[i] == '\n' || r[i] == '\r') {
			i++
		}
	}
	for {
		skipSpace()
		if i >= len(r) {
			break
		}
		start := i
		for i < len(r) && r[i] != '=' && r[i] != ' ' {
			i++
		}
		key := string(r[start:i])
		skipSpace()
		if i >= len(r) || r[i] != '=' || key == "" {
			return nil, fmt.Errorf("invalid connection string near %q", key)
		}
		i++
		skipSpace()
		var val strings.Builder
		if i < len(r) && r[i] == '\'' {
			i++
			for ; ; i++ {
				if i >= len(r) {
					return nil, errors.New("invalid connection string: unterminated quote")
				}
				if r[i] == '\\' && i+1 < len(r) {
					i++
				} else if r[i] == '\'' {
					i++
					break
				}
				val.WriteRune(r[i])
			}
		} else {
			for ; i < len(r) && r[i] != ' ' && r[i] != '\t' && r[i] != '\n'; i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
				}
				val.WriteRune(r[i])
			}
		}
		kv[key] = val.String()
	}
	return kv, nil
}

func dsnToURL(kv map[string]string) *url.URL {
	u := &url.URL{Scheme: "postgres"}
	user, pass := kv["user"], kv["password"]
	if pass != "" {
		u.User = url.UserPassword(user, pass)
	} else if user != "" {
		u.User = url.User(user)
	}
	q := url.Values{}
	host := kv["host"]
	if strings.HasPrefix(host, "/") { // unix socket directory
		q.Set("host", host)
		host = ""
	}
	if p := kv["port"]; p != "" {
		if host == "" && q.Get("host") != "" {
			q.Set("port", p)
		} else {
			if host == "" {
				host = "localhost"
			}
			host = net.JoinHostPort(host, p)
		}
	}
	u.Host = host
	if db := kv["dbname"]; db != "" {
		u.Path = "/" + db
	}
	for k, v := range kv {
		switch k {
		case "user", "password", "host", "port", "dbname":
		default:
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if strings.Contains(raw, "password") {
			return "(connection string)"
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// ---- throwaway cluster ----

const clusterPrefix = "pgtest-"

// pgLibGlob is where Debian/Ubuntu install server binaries (a variable for tests).
var pgLibGlob = "/usr/lib/postgresql/*/bin"

// pgBinDir returns a directory holding both initdb and pg_ctl: the one of
// initdb on PATH, else the newest /usr/lib/postgresql/*/bin.
func pgBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(p); has(dir) {
			return dir, nil
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob(pgLibGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errNoPostgres
}

// versionLess compares /usr/lib/postgresql/<v>/bin paths numerically by <v>.
func versionLess(a, b string) bool {
	va := strings.Split(filepath.Base(filepath.Dir(a)), ".")
	vb := strings.Split(filepath.Base(filepath.Dir(b)), ".")
	for i := 0; i < len(va) && i < len(vb); i++ {
		na, ea := strconv.Atoi(va[i])
		nb, eb := strconv.Atoi(vb[i])
		if ea != nil || eb != nil {
			if va[i] != vb[i] {
				return va[i] < vb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(va) < len(vb)
}

type cluster struct {
	bin, dir, data string
	root           bool
}

// command builds a command that runs as the unprivileged "postgres" OS user
// when we are root (initdb and postgres refuse to run as root).
func (c *cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	switch {
	case !c.root:
		cmd = exec.CommandContext(ctx, path, args...)
	case lookPath("runuser") != "":
		cmd = exec.CommandContext(ctx, lookPath("runuser"), append([]string{"-u", "postgres", "--", path}, args...)...)
	default:
		quoted := []string{shQuote(path)}
		for _, a := range args {
			quoted = append(quoted, shQuote(a))
		}
		cmd = exec.CommandContext(ctx, "su", "-s", "/bin/sh", "postgres", "-c", strings.Join(quoted, " "))
	}
	cmd.Dir = c.dir
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (c *cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: %s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(c.data, "postmaster.pid")); serr == nil {
		err = c.run(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("pgtest: remove %s: %w", c.dir, rerr)
	}
	return err
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func startCluster(ctx context.Context) (string, func() error, error) {
	u, c, err := newCluster(ctx)
	if err != nil {
		return "", func() error { return nil }, err
	}
	return u, c.stop, nil
}

// newCluster initialises and starts a cluster in a new temporary directory
// and returns its server URL.
func newCluster(ctx context.Context) (string, *cluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", nil, err
	}
	c := &cluster{bin: bin, root: os.Geteuid() == 0}
	if c.root {
		if err := ensurePostgresUser(ctx); err != nil {
			return "", nil, err
		}
	}
	reapClusters(c)

	c.dir, err = os.MkdirTemp("", clusterPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %w", err)
	}
	c.data = filepath.Join(c.dir, "data")
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(c.dir)
		return "", nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.root {
		if out, err := exec.CommandContext(ctx, "chown", "-R", "postgres:", c.dir).CombinedOutput(); err != nil {
			os.RemoveAll(c.dir)
			return "", nil, fmt.Errorf("pgtest: chown %s: %w: %s", c.dir, err, out)
		}
	}

	fail := func(err error) (string, *cluster, error) {
		_ = c.stop()
		return "", nil, err
	}
	initArgs := []string{"-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"}
	if err := c.run(ctx, "initdb", append(initArgs, "--locale=C.UTF-8")...); err != nil {
		_ = os.RemoveAll(c.data)
		if err2 := c.run(ctx, "initdb", append(initArgs, "--no-locale")...); err2 != nil {
			return fail(err)
		}
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
			port, shQuote(c.dir))
		lastErr = c.run(ctx, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "60", "start")
		if lastErr == nil {
			u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
			if err := ping(ctx, u); err != nil {
				return fail(fmt.Errorf("pgtest: started cluster does not answer: %w", err))
			}
			return u, c, nil
		}
		if log, err := os.ReadFile(filepath.Join(c.dir, "log")); err == nil {
			lastErr = fmt.Errorf("%w\n%s", lastErr, tail(string(log), 20))
		}
	}
	return fail(lastErr)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ensurePostgresUser(ctx context.Context) error {
	if exec.CommandContext(ctx, "id", "-u", "postgres").Run() == nil {
		return nil
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "useradd", "--system", "--user-group", "--no-create-home", "postgres")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: running as root and no 'postgres' OS user; useradd failed: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// reapClusters stops and removes pgtest-* clusters in the temp directory
// whose owning test binary no longer runs. Best effort, silent.
func reapClusters(c *cluster) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		old := &cluster{bin: c.bin, root: c.root, dir: dir, data: filepath.Join(dir, "data")}
		_ = old.stop()
	}
}
