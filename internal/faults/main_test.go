package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgadmin"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// suite is what every test of the package shares, set up on first use so that
// `go test -run` filters that select nothing cost nothing: the cluster and the
// server binary.
var suite struct {
	once    sync.Once
	err     error // setup failed: every test fails with it
	skip    string
	cluster *pgadmin.Cluster
	bin     string
	binDir  string
}

func TestMain(m *testing.M) {
	stopWatching := pgadmin.OnInterrupt("faults", "stopping the test cluster", func() { teardown() })
	code := m.Run()
	stopWatching()
	if err := teardown(); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

var teardownOnce sync.Once

func teardown() (err error) {
	teardownOnce.Do(func() {
		if suite.cluster != nil {
			err = suite.cluster.Destroy()
		}
		if suite.binDir != "" {
			if rerr := os.RemoveAll(suite.binDir); rerr != nil && err == nil {
				err = rerr
			}
		}
	})
	return err
}

// requireSuite starts the cluster and builds the server once; it skips the
// test when PostgreSQL's server binaries are not installed.
func requireSuite(t *testing.T) {
	t.Helper()
	suite.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// Durable: acknowledged commits must survive the crashes the tests
		// cause, or the tests would blame the forum for PostgreSQL's loss.
		c, err := pgadmin.StartCluster(ctx, pgadmin.ClusterOptions{DirPrefix: "forumjst-faults-pg-", Durable: true})
		if errors.Is(err, pgadmin.ErrNoPostgres) {
			suite.skip = err.Error()
			return
		}
		if err != nil {
			suite.err = fmt.Errorf("start the test cluster: %w", err)
			return
		}
		suite.cluster = c
		if suite.binDir, err = os.MkdirTemp("", "forumjst-faults-bin-"); err != nil {
			suite.err = err
			return
		}
		suite.bin, suite.err = buildServer(ctx, suite.binDir)
	})
	if suite.skip != "" {
		t.Skip(suite.skip)
	}
	if suite.err != nil {
		t.Fatal(suite.err)
	}
}

// newDatabase creates a database on the cluster for one test and drops it at
// the end (after the test's servers are gone: cleanups run last-in first-out).
func newDatabase(t *testing.T, ctx context.Context) string {
	t.Helper()
	dbURL, drop, err := pgadmin.CreateDatabase(ctx, suite.cluster.URL("postgres"), "faults_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dbURL
}

// room is a live meeting with people to chat in it: staff senders (no chat
// rate limit) and member receivers. A second live meeting and a staff prober
// with a CSRF token let a test check, over HTTP, when a server can store a
// message again, without adding to the chat under test.
type room struct {
	db        *sqlx.DB
	meetingID int64
	topic     string
	senders   []*account
	receivers []*account

	prober       *account
	proberCSRF   string
	probeMeeting int64
}

// newRoom creates the fixtures: users, group and memberships straight in the
// database (the server has migrated it), logins and the meeting through the
// API of the instance at base, like a browser.
func newRoom(t *testing.T, ctx context.Context, dbURL, base string, senders, receivers int) *room {
	t.Helper()
	db, err := database.Open(ctx, dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &room{db: db}
	g := testkit.NewGroup(t, db, model.KindRural)
	member := func(role string) testkit.User {
		u := testkit.NewUser(t, db, model.RoleMember)
		if _, err := store.PutMembership(ctx, db, u.ID, g.ID, role); err != nil {
			t.Fatalf("membership: %v", err)
		}
		return u
	}
	mod, csrf, err := login(ctx, base, member(model.GroupModerator))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now().Add(-time.Hour).UTC().Truncate(time.Minute)
	liveMeeting := func(title string) int64 {
		var m struct{ ID int64 }
		if err := apiJSON(ctx, base, mod, csrf, "POST", fmt.Sprintf("/api/v1/groups/%d/meetings", g.ID), map[string]any{
			"title": title, "starts_at": begin, "ends_at": begin.Add(8 * time.Hour)}, http.StatusCreated, &m); err != nil {
			t.Fatal(err)
		}
		if err := apiJSON(ctx, base, mod, csrf, "POST", fmt.Sprintf("/api/v1/meetings/%d/start", m.ID), nil, http.StatusOK, nil); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	r.meetingID = liveMeeting("Sesja 7: Odporność na awarie")
	r.topic = fmt.Sprintf("meeting:%d", r.meetingID)
	r.probeMeeting = liveMeeting("Sesja 7a: Sonda")
	if r.prober, r.proberCSRF, err = login(ctx, base, testkit.NewUser(t, db, model.RoleStaff)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < senders; i++ {
		a, _, err := login(ctx, base, testkit.NewUser(t, db, model.RoleStaff))
		if err != nil {
			t.Fatal(err)
		}
		r.senders = append(r.senders, a)
	}
	for i := 0; i < receivers; i++ {
		a, _, err := login(ctx, base, member(model.GroupMember))
		if err != nil {
			t.Fatal(err)
		}
		r.receivers = append(r.receivers, a)
	}
	return r
}

// login signs in through the JSON API and returns the session and its CSRF token.
func login(ctx context.Context, base string, u testkit.User) (*account, string, error) {
	a := &account{id: u.ID, email: u.Email}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if err := apiJSON(ctx, base, a, "", "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}, http.StatusOK, &out); err != nil {
		return nil, "", fmt.Errorf("login %s: %w", u.Email, err)
	}
	if a.token == "" {
		return nil, "", fmt.Errorf("login %s: no session cookie", u.Email)
	}
	return a, out.CSRF, nil
}

// apiJSON sends a JSON request as a (possibly not yet logged-in) account and
// decodes the answer into out when the status is the expected one.
func apiJSON(ctx context.Context, base string, a *account, csrf, method, path string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Cookie", a.cookie())
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	a.takeCookies(resp)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, b, err)
		}
	}
	return nil
}

// probeWrite posts a chat message to the probe meeting over HTTP until one is
// stored (201), and returns how long that took: when the server at base could
// write again, whatever the chat clients' backoff.
func (r *room) probeWrite(ctx context.Context, base string) (time.Duration, error) {
	start := time.Now()
	for {
		body := map[string]string{"client_id": uuid.NewString(), "body": "sonda"}
		err := apiJSON(ctx, base, r.prober, r.proberCSRF, "POST", fmt.Sprintf("/api/v1/meetings/%d/messages", r.probeMeeting), body, http.StatusCreated, nil)
		if err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > 15*time.Second {
			return 0, fmt.Errorf("no write stored within 15s: %w", err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitFor polls cond until it holds; conditions, not sleeps, pace the tests.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("still waiting after %s for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
