package pgtest

import (
	"database/sql"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/pgadmin"
)

var testDBURL string

func TestMain(m *testing.M) { os.Exit(Run(m, &testDBURL)) }

func TestRunGivesFreshDatabase(t *testing.T) {
	u, err := url.Parse(testDBURL)
	if err != nil {
		t.Fatalf("dbURL %q: %v", testDBURL, err)
	}
	if u.Query().Get("sslmode") == "" {
		t.Errorf("dbURL %q has no explicit sslmode", testDBURL)
	}
	db, err := sql.Open("postgres", testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name string
	var tables int
	if err := db.QueryRow("SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')").Scan(&name, &tables); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^`+pgadmin.TestDBPrefix+`[0-9a-f]{16}$`).MatchString(name) || name != strings.TrimPrefix(u.Path, "/") {
		t.Errorf("current_database() = %q, URL %q", name, testDBURL)
	}
	if tables != 0 {
		t.Errorf("fresh database has %d tables", tables)
	}
}

func TestSkipLocalStartsCluster(t *testing.T) {
	if os.Getenv("PGTEST_SKIP_LOCAL") != "1" || os.Getenv("DATABASE_URL") != "" {
		t.Skip("only with PGTEST_SKIP_LOCAL=1 and no DATABASE_URL")
	}
	u, err := url.Parse(testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "5432" {
		t.Fatalf("PGTEST_SKIP_LOCAL=1 but Run used %s", u.Host)
	}
}
