package faults

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildServer compiles cmd/forumjst once for the whole package. Set
// FAULTS_RACE=1 to build it with the race detector (slower to build and run,
// but it also checks the server's goroutines on the fault paths).
func buildServer(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if goroot := runtime.GOROOT(); os.Getenv("GOROOT") == "" && goroot != "" {
			goBin = filepath.Join(goroot, "bin", "go")
		}
	}
	out := filepath.Join(dir, "forumjst")
	args := []string{"build", "-o", out}
	if os.Getenv("FAULTS_RACE") == "1" {
		args = append(args, "-race")
	}
	// The package path resolves from the test's working directory, which is
	// inside the module.
	cmd := exec.CommandContext(ctx, goBin, append(args, "github.com/gwd-jst/forumjst/cmd/forumjst")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/forumjst: %w\n%s", err, b)
	}
	return out, nil
}

// instance is one `forumjst serve` child process on a fixed loopback port; it
// can be SIGKILLed and started again on the same port.
type instance struct {
	name    string
	bin     string
	addr    string // 127.0.0.1:port, kept across restarts
	base    string // http://addr, also the public URL (the Origin /ws wants)
	env     []string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

func newInstance(t *testing.T, name, dbURL string) *instance {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := &instance{name: name, bin: suite.bin, addr: fmt.Sprintf("127.0.0.1:%d", port), logPath: filepath.Join(dir, name+".log")}
	in.base = "http://" + in.addr
	// The child gets only what it needs: DATABASE_URL of `make test` (the
	// shared server) must not leak in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "FORUM_") {
			in.env = append(in.env, kv)
		}
	}
	in.env = append(in.env, "DATABASE_URL="+dbURL, "FORUM_ADDR="+in.addr, "FORUM_PUBLIC_URL="+in.base,
		"FORUM_UPLOAD_DIR="+filepath.Join(dir, "uploads"), "FORUM_LOG_LEVEL=info", "FORUM_LOG_FORMAT=json")
	t.Cleanup(func() {
		in.kill()
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", in.name, in.logTail(60))
		}
	})
	return in
}

// start launches the process and waits until /healthz answers.
func (in *instance) start(ctx context.Context) error {
	in.mu.Lock()
	if in.cmd != nil {
		in.mu.Unlock()
		return fmt.Errorf("%s already running", in.name)
	}
	logf, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		in.mu.Unlock()
		return err
	}
	in.starts++
	fmt.Fprintf(logf, "---- %s start #%d at %s ----\n", in.name, in.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(in.bin, "serve")
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// A test binary killed by -timeout runs no cleanup: the kernel ends the
	// children with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		in.mu.Unlock()
		return fmt.Errorf("start %s: %w", in.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	in.cmd, in.exited = cmd, exited
	in.mu.Unlock()

	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(in.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start:\n%s", in.name, in.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy: %w", in.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL (no shutdown of any kind: websockets get no close frame,
// in-flight transactions are cut) and waits for the process to be gone.
func (in *instance) kill() {
	in.mu.Lock()
	cmd, exited := in.cmd, in.exited
	in.cmd = nil
	in.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

func (in *instance) logs() string {
	b, _ := os.ReadFile(in.logPath)
	return string(b)
}

func (in *instance) logTail(n int) string { return tail(in.logs(), n) }

// checkLogs fails the test on what must never appear in a server's output,
// faults or not.
func (in *instance) checkLogs(t *testing.T) {
	t.Helper()
	logs := in.logs()
	for _, bad := range []string{"panic:", "WARNING: DATA RACE", "fatal error:"} {
		if i := strings.Index(logs, bad); i >= 0 {
			t.Errorf("%s printed %q:\n%s", in.name, bad, logs[max(0, i-200):min(len(logs), i+2000)])
		}
	}
}

// countLog counts log lines holding s.
func (in *instance) countLog(s string) int { return strings.Count(in.logs(), s) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
