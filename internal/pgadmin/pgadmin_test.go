package pgadmin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
)

var testDBURL string

// testNameRE matches the names CreateDatabase gives with TestDBPrefix.
var testNameRE = regexp.MustCompile(`^` + TestDBPrefix + `[0-9a-f]{16}$`)

// TestMain does what pgtest.Run does (which cannot be used here: it imports
// this package): one fresh database for the package's tests.
func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	server, stop, err := ServerURL(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	url, drop, err := CreateDatabase(ctx, server, TestDBPrefix)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = stop()
		os.Exit(1)
	}
	testDBURL = url
	code := m.Run()
	if err := errors.Join(drop(), stop()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func dbExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func dbName(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestCreateDatabaseGivesFreshDatabase(t *testing.T) {
	u, err := url.Parse(testDBURL)
	if err != nil {
		t.Fatalf("dbURL %q: %v", testDBURL, err)
	}
	if u.Query().Get("sslmode") == "" {
		t.Errorf("dbURL %q has no explicit sslmode", testDBURL)
	}
	db := open(t, testDBURL)
	var name string
	if err := db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if !testNameRE.MatchString(name) || name != dbName(t, testDBURL) {
		t.Fatalf("current_database() = %q, URL %q; want %s<16 hex>", name, testDBURL, TestDBPrefix)
	}
	var tables int
	if err := db.QueryRow("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("fresh database has %d tables in public", tables)
	}
	if _, err := db.Exec("CREATE TABLE t (id serial PRIMARY KEY, s text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	// Keep the database fresh for -count=N (TestMain, and so the database, runs once).
	t.Cleanup(func() { db.Exec("DROP TABLE t") })
	if _, err := db.Exec("INSERT INTO t (s) VALUES ($1), ($2)", "zażółć", "gęślą jaźń"); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := db.QueryRow("SELECT string_agg(upper(s), '|' ORDER BY id) FROM t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "ZAŻÓŁĆ|GĘŚLĄ JAŹŃ" {
		t.Errorf("round trip = %q", got)
	}
}

func TestCreateDatabaseAndDrop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Any database URL works as a server URL: its database name is replaced.
	dsn, drop, err := CreateDatabase(ctx, testDBURL, TestDBPrefix)
	if err != nil {
		t.Fatal(err)
	}
	name := dbName(t, dsn)
	if !testNameRE.MatchString(name) || name == dbName(t, testDBURL) {
		t.Fatalf("CreateDatabase URL %q: bad database name %q", dsn, name)
	}

	extra := open(t, dsn)
	if _, err := extra.Exec("CREATE TABLE x (v int); INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := extra.QueryRow("SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("select = %d, %v", v, err)
	}
	// The table lives only in the new database.
	main := open(t, testDBURL)
	var reg sql.NullString
	if err := main.QueryRow("SELECT to_regclass('public.x')::text").Scan(&reg); err != nil || reg.Valid {
		t.Fatalf("table x visible in the Run database: %v %v", reg, err)
	}
	if !dbExists(t, main, name) {
		t.Fatalf("database %s missing before drop", name)
	}

	// extra still holds an open connection: drop must force it out.
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	if dbExists(t, main, name) {
		t.Fatalf("database %s still exists after drop", name)
	}
	err = open(t, dsn).PingContext(ctx)
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "3D000" {
		t.Fatalf("connecting to dropped database: err = %v, want 3D000 invalid_catalog_name", err)
	}
	if err := drop(); err != nil {
		t.Fatalf("second drop: %v", err)
	}
}

func TestReapDatabasesOfDeadProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, drop, err := CreateDatabase(ctx, testDBURL, TestDBPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	name := dbName(t, dsn)

	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	deadPID := cmd.Process.Pid
	host, _ := os.Hostname()
	main := open(t, testDBURL)
	comment := "pgadmin pid=" + strconv.Itoa(deadPID) + " host=" + host + " created=" + strconv.FormatInt(time.Now().Unix(), 10)
	if _, err := main.Exec("COMMENT ON DATABASE " + pq.QuoteIdentifier(name) + " IS " + pq.QuoteLiteral(comment)); err != nil {
		t.Fatal(err)
	}
	ReapDatabases(ctx, testDBURL, TestDBPrefix)
	if dbExists(t, main, name) {
		t.Fatalf("stale database %s (pid %d) not reaped", name, deadPID)
	}
	// Our own database (live pid) must survive.
	if !dbExists(t, main, dbName(t, testDBURL)) {
		t.Fatal("reaper dropped the live test database")
	}
}

func TestStartCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if _, err := pgBinDir(); err != nil {
		t.Skip("no initdb/pg_ctl:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	server := c.URL("postgres")
	stopped := false
	defer func() {
		if !stopped {
			c.Destroy()
		}
	}()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.data + "/PG_VERSION"); err != nil {
		t.Fatalf("no cluster in %s: %v", c.data, err)
	}
	dsn, drop, err := CreateDatabase(ctx, server, TestDBPrefix)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, dsn)
	var enc string
	if err := db.QueryRow("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()").Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" {
		t.Errorf("encoding = %s, want UTF8", enc)
	}
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	stopped = true
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s not removed: %v", c.dir, err)
	}
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Fatalf("cluster on %s still accepts connections after stop", u.Host)
	}
}

func TestNoPostgresFound(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("PGTEST_SKIP_LOCAL", "1")
	t.Setenv("PATH", t.TempDir())
	old := pgLibGlob
	pgLibGlob = "/nonexistent/*/bin"
	defer func() { pgLibGlob = old }()
	_, stop, err := ServerURL(context.Background())
	if stop == nil {
		t.Error("stop is nil")
	}
	want := "pgadmin: no PostgreSQL reachable and no initdb found; install postgresql (apt-get install -y postgresql) or set DATABASE_URL"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, name, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "db1", "postgres://postgres@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://u:p%40ss@h:1/forumjst", "db2", "postgres://u:p%40ss@h:1/db2?sslmode=disable"},
		{"postgres://u@h/x?sslmode=require&connect_timeout=5", "db3", "postgres://u@h/db3?connect_timeout=5&sslmode=require"},
		{"postgres://u@h:5432", "", "postgres://u@h:5432?sslmode=disable"},
		{"host=db port=5433 user=app password='se cr\\'et' dbname=forumjst", "db4", "postgres://app:se%20cr%27et@db:5433/db4?sslmode=disable"},
		{"host=/var/run/postgresql user=postgres", "db5", "postgres://postgres@/db5?host=%2Fvar%2Frun%2Fpostgresql&sslmode=disable"},
	} {
		got, err := WithDatabase(tc.in, tc.name)
		if err != nil {
			t.Errorf("withDatabase(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("withDatabase(%q, %q)\n got %s\nwant %s", tc.in, tc.name, got, tc.want)
		}
	}
	if _, err := WithDatabase("host='unterminated", "x"); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestVersionLess(t *testing.T) {
	if !versionLess("/usr/lib/postgresql/9.6/bin", "/usr/lib/postgresql/15/bin") {
		t.Error("9.6 should be older than 15")
	}
	if versionLess("/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin") {
		t.Error("16 should be newer than 15")
	}
}
