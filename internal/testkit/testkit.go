// Package testkit runs the real server on a loopback port against a real,
// migrated PostgreSQL database, and gives tests small fixture builders and an HTTP
// client with a cookie jar. It is imported only by tests.
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/app"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/logging"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Password is the password of every fixture user.
const Password = "testowe-haslo-2026"

var (
	migrateOnce sync.Map // dbURL → *sync.Once
	hashOnce    sync.Once
	fixtureHash string
	seq         atomic.Int64
)

// Env is one running server.
type Env struct {
	T      testing.TB
	DB     *sqlx.DB
	URL    string
	Config config.Config
	App    *app.App
	Logs   *SyncBuffer
}

// SyncBuffer collects log output from the server goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Open connects to dbURL and applies migrations once per process.
func Open(t testing.TB, dbURL string) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL, 20)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	once, _ := migrateOnce.LoadOrStore(dbURL, &sync.Once{})
	var merr error
	once.(*sync.Once).Do(func() { _, merr = database.Migrate(ctx, db.DB) })
	if merr != nil {
		t.Fatalf("migrate test database: %v", merr)
	}
	return db
}

// Start runs the full server on 127.0.0.1:<random port>. mutate may adjust the
// configuration (e.g. a lower login throttle) before the app is built.
func Start(t testing.TB, dbURL string, mutate ...func(*config.Config)) *Env {
	t.Helper()
	return start(t, dbURL, Open(t, dbURL), mutate)
}

// StartCounting is Start with a pool that counts every SQL statement the server sends.
func StartCounting(t testing.TB, dbURL string, mutate ...func(*config.Config)) (*Env, *database.QueryCounter) {
	t.Helper()
	Open(t, dbURL) // migrations
	qc := &database.QueryCounter{}
	db, err := database.OpenCounting(context.Background(), dbURL, 20, qc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return start(t, dbURL, db, mutate), qc
}

func start(t testing.TB, dbURL string, db *sqlx.DB, mutate []func(*config.Config)) *Env {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// Uploads go to a directory of this test, never into the source tree.
	env := map[string]string{"DATABASE_URL": dbURL, "FORUM_PUBLIC_URL": base, "FORUM_LOG_LEVEL": "debug", "FORUM_UPLOAD_DIR": t.TempDir(),
		// Tests run the daily digest for a chosen day (mail.Service.RunDigest),
		// never from the wall clock.
		"FORUM_DIGEST_HOUR": "-1"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	logs := &SyncBuffer{}
	log := logging.New(logs, "json", slog.LevelDebug)
	a, err := app.Build(cfg, db, log)
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		// The clients share http.DefaultTransport, which may hold a
		// connection it dialed and never used; the server counts such a
		// connection idle (and closes it) only 5 s after accepting it, so
		// it could hold the shutdown up to its grace. Closed here, the
		// shutdown waits only for requests still running.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		stop()
		if err := <-served; err != nil {
			t.Errorf("server stopped: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", tail(logs.String(), 40))
		}
	})
	return &Env{T: t, DB: db, URL: base, Config: cfg, App: a, Logs: logs}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Unique returns a short unique suffix for names and emails.
func Unique() string { return fmt.Sprintf("%d%d", time.Now().UnixNano()%1e6, seq.Add(1)) }

// User is a fixture account.
type User struct {
	model.User
	Password string
}

// NewUser creates an account with the given global role (hash computed once per process).
func (e *Env) NewUser(role string) User { return NewUser(e.T, e.DB, role) }

// NewUser creates an account directly in the database.
func NewUser(t testing.TB, db *sqlx.DB, role string) User {
	t.Helper()
	hashOnce.Do(func() {
		var err error
		if fixtureHash, err = accounts.HashPassword(Password, accounts.DefaultArgon2); err != nil {
			panic(err)
		}
	})
	ctx := context.Background()
	u := Unique()
	id, err := store.CreateUser(ctx, db, store.NewUser{Email: "user" + u + "@test.example", Name: "Użytkownik " + u,
		JobTitle: "Inspektor", Role: role, PasswordHash: fixtureHash})
	if err != nil {
		t.Fatalf("create fixture user: %v", err)
	}
	got, err := store.GetUser(ctx, db, id)
	if err != nil {
		t.Fatal(err)
	}
	return User{User: got, Password: Password}
}

// NewGroup creates a group of the given kind.
func (e *Env) NewGroup(kind string) model.Group { return NewGroup(e.T, e.DB, kind) }

func NewGroup(t testing.TB, db *sqlx.DB, kind string) model.Group {
	t.Helper()
	u := Unique()
	g, err := store.CreateGroup(context.Background(), db, store.NewGroup{Name: "Grupa " + u, Slug: "grupa-" + u, Kind: kind})
	if err != nil {
		t.Fatalf("create fixture group: %v", err)
	}
	return g
}

// AddMember puts a user in a group with a role.
func (e *Env) AddMember(userID, groupID int64, role string) {
	e.T.Helper()
	if _, err := store.PutMembership(context.Background(), e.DB, userID, groupID, role); err != nil {
		e.T.Fatalf("add member: %v", err)
	}
}

// Client is a browser-like HTTP client with a cookie jar and the session's CSRF token.
type Client struct {
	T    testing.TB
	Base string
	HTTP *http.Client
	CSRF string
}

// Anonymous returns a client with an empty cookie jar that does not follow redirects.
func (e *Env) Anonymous() *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: e.T, Base: e.URL, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Login logs in through the JSON API and fails the test if that does not work.
func (e *Env) Login(u User) *Client {
	e.T.Helper()
	c := e.Anonymous()
	r := c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password})
	if r.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", u.Email, r.Status, r.Body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	r.Decode(&out)
	c.CSRF = out.CSRF
	return c
}

// Response is a fully read HTTP response.
type Response struct {
	T      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

func (r *Response) String() string { return string(r.Body) }

// Decode unmarshals the body as JSON into v, failing the test on error.
func (r *Response) Decode(v any) {
	r.T.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.T.Fatalf("decode %q: %v", r.Body, err)
	}
}

// ErrorCode returns error.code of a JSON error body.
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request with the session's CSRF token on unsafe methods.
func (c *Client) Do(method, path string, body io.Reader, header map[string]string) *Response {
	c.T.Helper()
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		c.T.Fatal(err)
	}
	if c.CSRF != "" && method != "GET" && method != "HEAD" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.T.Fatalf("read %s %s: %v", method, path, err)
	}
	return &Response{T: c.T, Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Get fetches a path.
func (c *Client) Get(path string) *Response { return c.Do("GET", path, nil, nil) }

// JSON sends v (nil for no body) as a JSON request.
func (c *Client) JSON(method, path string, v any) *Response {
	c.T.Helper()
	var body io.Reader
	h := map[string]string{"Accept": "application/json"}
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			c.T.Fatal(err)
		}
		body = bytes.NewReader(b)
		h["Content-Type"] = "application/json"
	}
	return c.Do(method, path, body, h)
}

// Form posts an HTML form, adding the CSRF field like the pages do.
func (c *Client) Form(path string, values url.Values) *Response {
	c.T.Helper()
	if values == nil {
		values = url.Values{}
	}
	if c.CSRF != "" && values.Get("_csrf") == "" {
		values.Set("_csrf", c.CSRF)
	}
	return c.Do("POST", path, strings.NewReader(values.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// NewThread creates a thread in a group with n posts by author, straight in SQL
// (fast enough for threads of hundreds of posts), and returns the post ids in order.
func (e *Env) NewThread(groupID, authorID int64, n int) (int64, []int64) {
	e.T.Helper()
	ctx := context.Background()
	var tid int64
	err := e.DB.GetContext(ctx, &tid, `
		INSERT INTO threads (group_id, title, author_id, post_count) VALUES ($1, $2, $3, $4) RETURNING id`,
		groupID, "Wątek testowy "+Unique(), authorID, n)
	if err != nil {
		e.T.Fatalf("create fixture thread: %v", err)
	}
	ids := []int64{}
	err = e.DB.SelectContext(ctx, &ids, `
		INSERT INTO posts (thread_id, position, author_id, body, body_html, created_at)
		SELECT $1, g, $2, 'Wpis numer ' || g, '<p>Wpis numer ' || g || '</p>', now() - make_interval(secs => $3 - g)
		FROM generate_series(1, $3) AS g
		RETURNING id`, tid, authorID, n)
	if err != nil {
		e.T.Fatalf("create fixture posts: %v", err)
	}
	return tid, ids
}
