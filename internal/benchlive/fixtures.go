package benchlive

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// dbPrefix names the throwaway databases of a run; a later run drops those of
// runs that were killed before they could clean up.
const dbPrefix = "forumjst_benchlive_"

// senderName is the chat author's display name. The baseline server puts the
// same name in its frames so both servers send frames of the same size.
const senderName = "Nadawca testu obciążeniowego"

// randomHex returns n random bytes as hex (names, passwords).
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// withDatabase returns a connection string for database name on the server of
// raw (a postgres:// URL or a key=value string), with sslmode=disable when raw
// sets none: the server child's configuration insists on an explicit sslmode.
func withDatabase(raw, name string) (string, error) {
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("DATABASE_URL is not a valid URL: %w", err)
		}
		if name != "" {
			u.Path, u.RawPath = "/"+name, ""
		}
		q := u.Query()
		if q.Get("sslmode") == "" {
			q.Set("sslmode", "disable")
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	// key=value: lib/pq lets a later key override an earlier one.
	out := raw
	if name != "" {
		out += " dbname=" + name
	}
	if !strings.Contains(raw, "sslmode=") {
		out += " sslmode=disable"
	}
	return strings.TrimSpace(out), nil
}

// openAdmin connects to the server of serverURL, falling back to the postgres
// database when the one named there does not exist.
func openAdmin(ctx context.Context, serverURL string) (*sql.DB, error) {
	try := func(dsn string) (*sql.DB, error) {
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	dsn, err := withDatabase(serverURL, "")
	if err != nil {
		return nil, err
	}
	db, err := try(dsn)
	var pqErr *pq.Error
	if err != nil && errors.As(err, &pqErr) && pqErr.Code == "3D000" { // invalid_catalog_name
		if dsn, err = withDatabase(serverURL, "postgres"); err != nil {
			return nil, err
		}
		db, err = try(dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the PostgreSQL server of DATABASE_URL: %w", err)
	}
	return db, nil
}

// createDatabase creates a fresh database for the run and returns its URL and
// a function that drops it (idempotent, bounded in time).
func createDatabase(ctx context.Context, serverURL string) (string, func() error, error) {
	admin, err := openAdmin(ctx, serverURL)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	reapDatabases(ctx, admin)
	suffix, err := randomHex(8)
	if err != nil {
		return "", nil, err
	}
	name := dbPrefix + suffix
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	host, _ := os.Hostname()
	// Best effort: the comment lets a later run reap this database if we are killed.
	_, _ = admin.ExecContext(ctx, "COMMENT ON DATABASE "+pq.QuoteIdentifier(name)+" IS "+
		pq.QuoteLiteral(fmt.Sprintf("benchlive pid=%d host=%s created=%d", os.Getpid(), host, time.Now().Unix())))
	dbURL, err := withDatabase(serverURL, name)
	if err != nil {
		return "", nil, err
	}
	var once sync.Once
	var dropErr error
	drop := func() error {
		once.Do(func() {
			// Not the run's context: dropping must happen after an interrupt too.
			dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			dropErr = dropDatabase(dctx, serverURL, name)
		})
		return dropErr
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
	if _, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)"); err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "42601" { // PostgreSQL < 13 has no FORCE
			_, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q)
		}
	}
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// reapDatabases drops databases of earlier runs on this host whose process is
// gone (killed with SIGKILL, say), and any older than a day. Best effort.
func reapDatabases(ctx context.Context, admin *sql.DB) {
	rows, err := admin.QueryContext(ctx, `SELECT datname, COALESCE(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE datname LIKE 'forumjst\_benchlive\_%'`)
	if err != nil {
		return
	}
	host, _ := os.Hostname()
	var stale []string
	for rows.Next() {
		var name, comment string
		if rows.Scan(&name, &comment) != nil {
			continue
		}
		f := map[string]string{}
		for _, kv := range strings.Fields(strings.TrimPrefix(comment, "benchlive ")) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				f[k] = v
			}
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
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
	}
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// account is a fixture user and, once logged in, its session cookie.
type account struct {
	ID     int64
	Email  string
	Name   string
	Cookie string // "name=value", ready for a Cookie header
	CSRF   string
}

// fixtures are what a run needs in the database: one staff sender (staff are
// exempt from the chat rate limit), receivers whose sessions many connections
// share (each login costs an argon2id hash), and a common group that every
// logged-in user may read.
type fixtures struct {
	Password  string
	Sender    account
	Receivers []account
	GroupID   int64
}

// seedFixtures creates the accounts and the group directly in the database
// (the same store calls the server uses), hashing the password once.
func seedFixtures(ctx context.Context, db *sqlx.DB, receivers int) (*fixtures, error) {
	run, err := randomHex(4)
	if err != nil {
		return nil, err
	}
	pw, err := randomHex(12)
	if err != nil {
		return nil, err
	}
	hash, err := accounts.HashPassword(pw, accounts.DefaultArgon2)
	if err != nil {
		return nil, fmt.Errorf("hash fixture password: %w", err)
	}
	f := &fixtures{Password: pw}
	mk := func(email, name, role string) (account, error) {
		id, err := store.CreateUser(ctx, db, store.NewUser{Email: email, Name: name, JobTitle: "Benchmark", Role: role, PasswordHash: hash})
		if err != nil {
			return account{}, fmt.Errorf("create fixture user %s: %w", email, err)
		}
		return account{ID: id, Email: email, Name: name}, nil
	}
	if f.Sender, err = mk("benchlive-"+run+"-sender@bench.example", senderName, model.RoleStaff); err != nil {
		return nil, err
	}
	for i := range receivers {
		a, err := mk(fmt.Sprintf("benchlive-%s-r%03d@bench.example", run, i), fmt.Sprintf("Odbiorca %03d", i), model.RoleMember)
		if err != nil {
			return nil, err
		}
		f.Receivers = append(f.Receivers, a)
	}
	g, err := store.CreateGroup(ctx, db, store.NewGroup{Name: "Benchmark " + run, Slug: "benchmark-" + run, Kind: model.KindCommon})
	if err != nil {
		return nil, fmt.Errorf("create fixture group: %w", err)
	}
	f.GroupID = g.ID
	return f, nil
}

// api is a minimal JSON client for the forum's HTTP API on one base URL.
type api struct {
	base string
	http *http.Client
}

func newAPI(base string) *api {
	return &api{base: base, http: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a JSON request as acc (when acc has a cookie) and decodes a JSON
// answer into out; a status other than want is an error carrying the body.
func (c *api) do(ctx context.Context, method, path string, acc *account, in, out any, want int) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	// The CSRF middleware checks Origin on unsafe requests.
	req.Header.Set("Origin", c.base)
	if acc != nil && acc.Cookie != "" {
		req.Header.Set("Cookie", acc.Cookie)
		req.Header.Set("X-CSRF-Token", acc.CSRF)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp, nil
}

// login logs acc in through POST /api/v1/auth/login and keeps its cookie.
// Sessions live in the database, so the cookie stays valid for every server
// process on that database.
func (c *api) login(ctx context.Context, acc *account, password string) error {
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/auth/login", nil,
		map[string]string{"email": acc.Email, "password": password}, &out, http.StatusOK)
	if err != nil {
		return fmt.Errorf("log in %s: %w", acc.Email, err)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "forumjst_session" || ck.Name == "__Host-forumjst_session" {
			acc.Cookie, acc.CSRF = ck.Name+"="+ck.Value, out.CSRF
			return nil
		}
	}
	return fmt.Errorf("log in %s: no session cookie in the answer", acc.Email)
}

// loginAll logs every fixture account in, a few at a time: argon2id makes each
// login cost tens of milliseconds of CPU.
func (c *api) loginAll(ctx context.Context, f *fixtures) error {
	accs := append([]*account{&f.Sender}, make([]*account, 0, len(f.Receivers))...)
	for i := range f.Receivers {
		accs = append(accs, &f.Receivers[i])
	}
	work := make(chan *account)
	errc := make(chan error, len(accs))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				errc <- c.login(ctx, a, f.Password)
			}
		}()
	}
	for _, a := range accs {
		work <- a
	}
	close(work)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// liveMeeting creates a meeting in the fixture group as the staff sender and
// starts it, so chat may be sent.
func (c *api) liveMeeting(ctx context.Context, f *fixtures, title string) (int64, error) {
	begin := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute)
	var m struct {
		ID int64 `json:"id"`
	}
	if _, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/groups/%d/meetings", f.GroupID), &f.Sender,
		map[string]any{"title": title, "starts_at": begin, "ends_at": begin.Add(8 * time.Hour)}, &m, http.StatusCreated); err != nil {
		return 0, fmt.Errorf("create meeting: %w", err)
	}
	if _, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), &f.Sender, nil, nil, http.StatusOK); err != nil {
		return 0, fmt.Errorf("start meeting: %w", err)
	}
	return m.ID, nil
}
