package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/testkit"
)

const cookieName = "forumjst_session"

// setCookies parses the Set-Cookie headers of a response.
func setCookies(r *testkit.Response) []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// sessionCookie is the session cookie a response sets, or nil.
func sessionCookie(r *testkit.Response) *http.Cookie {
	for _, c := range setCookies(r) {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// jarToken is the session token currently in a client's cookie jar.
func jarToken(t *testing.T, c *testkit.Client) string {
	t.Helper()
	u, err := url.Parse(c.Base)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == cookieName {
			return ck.Value
		}
	}
	return ""
}

// withToken is a fresh client of env that presents a session token as its cookie
// (a replayed or copied cookie).
func withToken(t *testing.T, env *testkit.Env, token string) *testkit.Client {
	t.Helper()
	c := env.Anonymous()
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: token, Path: "/"}})
	return c
}

// errorBody is the JSON error shape of SPEC §4.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
}

func decodeError(t *testing.T, r *testkit.Response) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, r.Body)
	}
	return e
}

// wantStatus fails the test unless r has the status.
func wantStatus(t *testing.T, what string, r *testkit.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s = %d, want %d: %s", what, r.Status, status, trim(r.String()))
	}
}

// wantError checks a JSON error's status and code.
func wantError(t *testing.T, what string, r *testkit.Response, status int, code string) errorBody {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s = %d, want %d: %s", what, r.Status, status, trim(r.String()))
		return errorBody{}
	}
	e := decodeError(t, r)
	if e.Error.Code != code {
		t.Errorf("%s: error code %q, want %q (%s)", what, e.Error.Code, code, trim(r.String()))
	}
	if e.Error.Message == "" {
		t.Errorf("%s: error has no message", what)
	}
	return e
}

// wantDetails checks that a 400 validation error names exactly these fields.
func wantDetails(t *testing.T, what string, r *testkit.Response, fields ...string) {
	t.Helper()
	e := wantError(t, what, r, http.StatusBadRequest, "validation")
	for _, f := range fields {
		if e.Error.Details[f] == "" {
			t.Errorf("%s: details lack %q: %v", what, f, e.Error.Details)
		}
	}
	if len(e.Error.Details) != len(fields) {
		t.Errorf("%s: details = %v, want exactly %v", what, e.Error.Details, fields)
	}
}

func trim(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// oversized sends a request announcing a body of n bytes over a raw connection
// without sending the body, and reads the answer. The server refuses by
// Content-Length before reading the body; had the client been writing it, the
// server's close of a socket with unread data (a TCP reset) could destroy the
// answer before it is read.
func oversized(t *testing.T, env *testkit.Env, path string, n int, header map[string]string) *testkit.Response {
	t.Helper()
	u, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, u.Host, n)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &testkit.Response{T: t, Status: resp.StatusCode, Header: resp.Header, Body: body}
}
