// Package pgadmin finds, creates and throws away PostgreSQL servers and
// databases for the project's tools: the test helper (internal/pgtest), the
// fault tests, which restart a cluster of their own, and the live benchmark
// (cmd/forumjst-bench). It is the only place that runs CREATE/DROP DATABASE,
// initdb or pg_ctl; the server binary never imports it.
//
// A server is found in this order (ServerURL):
//
//  1. $DATABASE_URL, if set (its database name is ignored by CreateDatabase);
//  2. postgres://postgres@127.0.0.1:5432/postgres if it answers within ~2s
//     (skipped when PGTEST_SKIP_LOCAL=1);
//  3. a throwaway cluster started with initdb/pg_ctl in a temporary directory.
//
// Databases are named <prefix><16 hex> and carry a comment naming the process
// and host that made them, so that ReapDatabases can drop those of processes
// that were killed before they cleaned up; clusters likewise carry an
// owner.pid file.
package pgadmin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// TestDBPrefix is the name prefix of the test packages' databases.
const TestDBPrefix = "forumjst_test_"

// LocalURL is the server probed when DATABASE_URL is not set.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ErrNoPostgres is the single line printed when no server can be found or started.
var ErrNoPostgres = errors.New("pgadmin: no PostgreSQL reachable and no initdb found; install postgresql (apt-get install -y postgresql) or set DATABASE_URL")

// ServerURL finds a PostgreSQL server and returns a URL for it (connecting as
// a role that may create databases). stop shuts down a cluster started by
// ServerURL; it is a no-op otherwise and is never nil.
func ServerURL(ctx context.Context) (serverURL string, stop func() error, err error) {
	noop := func() error { return nil }
	if env := strings.TrimSpace(os.Getenv("DATABASE_URL")); env != "" {
		u, err := WithDatabase(env, "")
		if err != nil {
			return "", noop, fmt.Errorf("pgadmin: DATABASE_URL: %w", err)
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
	c, err := StartCluster(ctx, ClusterOptions{})
	if err != nil {
		return "", noop, err
	}
	return c.URL("postgres"), c.Destroy, nil
}

// CreateDatabase creates a database named prefix + 16 random hex digits on
// the server (any database named in serverURL is only used to connect) and
// returns its URL and a func that drops it WITH (FORCE). drop is idempotent
// and bounded in time; it does not use ctx, so it works after an interrupt.
func CreateDatabase(ctx context.Context, serverURL, prefix string) (dbURL string, drop func() error, err error) {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()

	var buf [8]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return "", nil, fmt.Errorf("pgadmin: random name: %w", err)
	}
	name := prefix + hex.EncodeToString(buf[:])

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
		return "", nil, fmt.Errorf("pgadmin: create database %s: %w", name, err)
	}
	host, _ := os.Hostname()
	comment := fmt.Sprintf("%s pid=%d host=%s created=%d", commentMark, os.Getpid(), host, time.Now().Unix())
	// Best effort: used only to reap databases of killed test binaries.
	_, _ = admin.ExecContext(ctx, "COMMENT ON DATABASE "+pq.QuoteIdentifier(name)+" IS "+pq.QuoteLiteral(comment))

	dbURL, err = WithDatabase(serverURL, name)
	if err != nil {
		return "", nil, err
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return DropDatabase(ctx, serverURL, name)
	}
	return dbURL, drop, nil
}

// DropDatabase drops database name WITH (FORCE); a missing one is no error.
func DropDatabase(ctx context.Context, serverURL, name string) error {
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
		return fmt.Errorf("pgadmin: drop database %s: %w", name, err)
	}
	return nil
}

// commentMark starts the comment of every database CreateDatabase makes.
// Older runs wrote "pgtest" or "benchlive"; their databases are reaped too.
const commentMark = "pgadmin"

// ReapDatabases drops the prefix* databases that CreateDatabase made for
// processes of this host that no longer run, and any older than a day. Best
// effort, silent.
func ReapDatabases(ctx context.Context, serverURL, prefix string) {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return
	}
	defer admin.Close()
	nameRE := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `[0-9a-f]{16}$`)
	rows, err := admin.QueryContext(ctx, `SELECT datname, COALESCE(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE starts_with(datname, $1)`, prefix)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	var stale []string
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) != nil || !nameRE.MatchString(name) {
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
		_ = DropDatabase(ctx, serverURL, name)
	}
}

func parseComment(s string) map[string]string {
	f := map[string]string{}
	mark, rest, _ := strings.Cut(s, " ")
	if mark != commentMark && mark != "pgtest" && mark != "benchlive" {
		return f
	}
	for _, kv := range strings.Fields(rest) {
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
			if dsn, err = WithDatabase(serverURL, name); err != nil {
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
	return nil, fmt.Errorf("pgadmin: connect to %s: %w", redact(serverURL), firstErr)
}

// WithDatabase returns rawURL as a postgres:// URL with its database replaced
// by name (kept when name is empty) and sslmode=disable unless it sets one
// (the server insists on an explicit sslmode). Both URL and key=value
// connection strings are accepted.
func WithDatabase(rawURL, name string) (string, error) {
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

// DatabaseName is the database a postgres:// URL names.
func DatabaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
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
