package benchlive

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// dbPrefix names the throwaway databases of a run (internal/pgadmin makes and
// drops them); a later run drops those of runs that were killed before they
// could clean up.
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
