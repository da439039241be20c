package benchlive

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gwd-jst/forumjst/internal/app"
	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/logging"
)

// child is a server process the harness started: the forum (`forumjst serve`)
// or the baseline (`forumjst-bench live --baseline-server`). Running both as
// processes of their own lets their resident memory be read the same way and
// keeps the load client's CPU and garbage out of their figures.
type child struct {
	name    string
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	pprof   string // base URL of the profiling listener, "" without --profile
	logs    *logTail
	exited  chan struct{}
	waitErr error
}

// freePort asks the kernel for an unused loopback port. Another process could
// take it before the child binds it; on loopback in a benchmark that is a risk
// worth a clear error rather than a retry loop.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startChild runs exe with args and env and waits until base+readyPath answers 200.
func startChild(ctx context.Context, name, exe string, args, env []string, base, pprofBase string) (*child, error) {
	c := &child{name: name, base: base, pprof: pprofBase, logs: newLogTail(64 << 10), exited: make(chan struct{})}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	c.cmd.SysProcAttr = childProcAttr()
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	if err := c.waitReady(ctx, 90*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, c.logs.tail(20))
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("exited before it was ready: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop ends the child with SIGTERM (a graceful shutdown), then SIGKILL if it
// lingers. Safe to call more than once.
func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// rss reads the child's resident set size from /proc (bytes).
func (c *child) rss() (int64, error) { return readRSS(c.pid()) }

func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// serverStats are the Go runtime figures a server exposes at /metrics (the
// forum's Prometheus endpoint; the baseline prints the same two lines).
type serverStats struct {
	HeapInuse  int64
	Goroutines int64
}

func fetchStats(ctx context.Context, base string) (serverStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return serverStats{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverStats{}, fmt.Errorf("read %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	var st serverStats
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, m := range []struct {
			name string
			dst  *int64
		}{{"go_memstats_heap_inuse_bytes ", &st.HeapInuse}, {"go_goroutines ", &st.Goroutines}} {
			if v, ok := strings.CutPrefix(line, m.name); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err == nil {
					*m.dst = int64(f)
				}
			}
		}
	}
	return st, sc.Err()
}

// logTail keeps the last bytes a child wrote and counts its warning and error
// lines (the forum logs JSON at FORUM_LOG_LEVEL=warn), so a report can say
// whether the server complained during the run.
type logTail struct {
	mu       sync.Mutex
	max      int
	buf      []byte
	partial  []byte
	problems int
	first    []string
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if over := len(l.buf) - l.max; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) ||
			strings.Contains(line, "panic") || strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			l.problems++
			if len(l.first) < 5 {
				l.first = append(l.first, truncate(line, 300))
			}
		}
	}
	if len(l.partial) > 64<<10 {
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// problemLines returns how many warning/error lines were written and the first few.
func (l *logTail) problemLines() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.problems, append([]string(nil), l.first...)
}

func (l *logTail) tail(lines int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ls := strings.Split(strings.TrimRight(string(l.buf), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// childEnv is the current environment without the variables the harness
// sets, plus those. Other FORUM_* settings pass through, so a run can be
// tuned (FORUM_DB_MAX_CONNS, FORUM_WS_QUEUE_FRAMES…).
func childEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; !ours {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// runForumChild is the hidden `live --forum-server` mode, used only with
// --profile: the forum built exactly as `forumjst serve` builds it (config
// from the environment, migrations, app.Build), plus a CPU/heap profiling
// listener on a separate loopback port. Serve itself stays free of pprof.
func runForumChild(ctx context.Context, pprofAddr string) error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := logging.New(os.Stdout, cfg.LogFormat, cfg.LogLevel)
	if pprofAddr != "" {
		stopProf, err := serveProfiles(pprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProf()
	}
	return app.Run(ctx, cfg, log, app.RunOptions{Migrate: true, Grace: 10 * time.Second})
}

// serveProfiles answers POST /cpu/start and POST /cpu/stop (which returns
// the CPU profile of the window between them) and GET /heap on addr. It uses
// runtime/pprof directly rather than net/http/pprof, whose import would
// register handlers on http.DefaultServeMux for every command of the binary.
func serveProfiles(addr string, log *slog.Logger) (func(), error) {
	var mu sync.Mutex
	var buf *bytes.Buffer // the running CPU profile, nil when none
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cpu/start", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf != nil {
			http.Error(w, "a CPU profile is already running", http.StatusConflict)
			return
		}
		b := &bytes.Buffer{}
		if err := pprof.StartCPUProfile(b); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		buf = b
	})
	mux.HandleFunc("POST /cpu/stop", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if buf == nil {
			http.Error(w, "no CPU profile is running", http.StatusConflict)
			return
		}
		pprof.StopCPUProfile()
		_, _ = w.Write(buf.Bytes())
		buf = nil
	})
	mux.HandleFunc("GET /heap", func(w http.ResponseWriter, _ *http.Request) {
		_ = pprof.Lookup("heap").WriteTo(w, 0)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("profiling listener on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiling listener", "err", err)
		}
	}()
	return func() { _ = srv.Close() }, nil
}

// fetchProfile sends method base+path and saves the answer into file (a
// pprof profile); an empty file only checks the status.
func fetchProfile(ctx context.Context, method, base, path, file string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch profile %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("fetch profile %s: %d %s", path, resp.StatusCode, b)
	}
	if file == "" {
		return nil
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save profile %s: %w", file, err)
	}
	return f.Close()
}
