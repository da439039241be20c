package benchlive

// The pieces other load tools (internal/soak) reuse: fixture accounts, the
// JSON API client, `forumjst serve` children and the chat frame parser. They
// are thin exported doors onto the unexported code above, so both tools start
// servers, seed accounts and read frames the same way.

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jmoiron/sqlx"
)

type (
	// Fixtures are a run's accounts (one staff sender, member receivers) and
	// its common group.
	Fixtures = fixtures
	// Account is a fixture user and, once logged in, its cookie and CSRF token.
	Account = account
	// API is a JSON client for one forum base URL.
	API = api
	// Child is a server process a tool started (see StartServe).
	Child = child
)

// SeedFixtures creates one staff sender, receivers member accounts and a
// common group directly in the database.
func SeedFixtures(ctx context.Context, db *sqlx.DB, receivers int) (*Fixtures, error) {
	return seedFixtures(ctx, db, receivers)
}

// NewAPI returns a JSON client for the forum at base (http://127.0.0.1:port).
func NewAPI(base string) *API { return newAPI(base) }

// LoginAll logs every fixture account in and keeps their cookies.
func (c *api) LoginAll(ctx context.Context, f *Fixtures) error { return c.loginAll(ctx, f) }

// LiveMeeting creates and starts a meeting in the fixture group as the sender.
func (c *api) LiveMeeting(ctx context.Context, f *Fixtures, title string) (int64, error) {
	return c.liveMeeting(ctx, f, title)
}

// Do sends a JSON request as acc (nil: anonymous) with the Origin and CSRF
// headers the forum checks, decodes the answer into out and fails on a
// status other than want.
func (c *api) Do(ctx context.Context, method, path string, acc *Account, in, out any, want int) (*http.Response, error) {
	return c.do(ctx, method, path, acc, in, out, want)
}

// StartServe starts `forumjst serve` (the binary at exe) on a free loopback
// port with the harness's settings (DATABASE_URL, FORUM_ADDR,
// FORUM_PUBLIC_URL, FORUM_LOG_LEVEL=warn, FORUM_UPLOAD_DIR) plus extra, and
// waits until it is ready. The kernel kills it if the caller dies.
func StartServe(ctx context.Context, name, exe, dbURL, uploadDir string, extra map[string]string) (*Child, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	set := map[string]string{
		"DATABASE_URL":     dbURL,
		"FORUM_ADDR":       fmt.Sprintf("127.0.0.1:%d", port),
		"FORUM_PUBLIC_URL": base,
		"FORUM_LOG_LEVEL":  "warn",
		"FORUM_UPLOAD_DIR": uploadDir,
	}
	for k, v := range extra {
		set[k] = v
	}
	return startChild(ctx, name, exe, []string{"serve"}, childEnv(set), base, "")
}

// Base is the child's http://127.0.0.1:port.
func (c *child) Base() string { return c.base }

// PID is the child's process id.
func (c *child) PID() int { return c.pid() }

// Stop ends the child gracefully (SIGTERM, then SIGKILL after 20 s).
func (c *child) Stop() { c.stop() }

// LogTail returns the child's last lines of output.
func (c *child) LogTail(lines int) string { return c.logs.tail(lines) }

// LogProblems returns how many warning/error lines the child wrote and the
// first few.
func (c *child) LogProblems() (int, []string) { return c.logs.problemLines() }

// ReadRSS returns a process's resident set size in bytes (Linux /proc).
func ReadRSS(pid int) (int64, error) { return readRSS(pid) }

// ParseChat returns a chat.message frame's seq and the sender's timestamp
// (unix nanoseconds) from a body written as "t=<unixnano> …" (or
// "t=<unixnano>/<instance> …", the scale scenarios' form).
func ParseChat(frame []byte) (seq, sentAt int64, ok bool) {
	seq, sentAt, _, ok = parseChat(frame)
	return seq, sentAt, ok
}

// FrameType returns the value of a frame's first "type" key.
func FrameType(frame []byte) []byte { return frameType(frame) }

// IntAfter reads the decimal integer right after key in b.
func IntAfter(b, key []byte) (int64, bool) { return intAfter(b, key) }
