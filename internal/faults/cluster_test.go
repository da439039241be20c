package faults

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

// errNoPostgres makes the tests skip: without initdb/pg_ctl there is no cluster
// we may restart (the shared server of the other packages must never be).
var errNoPostgres = errors.New("initdb and pg_ctl not found (on PATH or under /usr/lib/postgresql/*/bin); install postgresql to run the fault tests")

// clusterPrefix names our temporary directories, so that a later run can reap
// the cluster of a test binary that was killed (a -timeout panic runs no cleanup).
const clusterPrefix = "forumjst-faults-pg-"

// pgCluster is a PostgreSQL cluster of this test binary alone: it may be
// stopped and restarted at will.
type pgCluster struct {
	bin, dir, data string
	port           int
	opts           string // server options (-o) of every start: port, socket dir, settings
	root           bool   // we are root: run the server binaries as "postgres"
}

// pgBinDir finds a directory holding both initdb and pg_ctl.
func pgBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			fi, err := os.Stat(filepath.Join(dir, b))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// /usr/local/bin/initdb is often a symlink into the real bin dir,
		// where postgres itself lives.
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errNoPostgres
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(strings.SplitN(filepath.Base(filepath.Dir(binDir)), ".", 2)[0])
	return n
}

// startCluster initialises a cluster in a new temporary directory and starts
// it on a free loopback port.
func startCluster(ctx context.Context) (*pgCluster, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	c := &pgCluster{bin: bin, root: os.Geteuid() == 0}
	if c.root {
		// initdb and postgres refuse to run as root.
		if err := ensurePostgresUser(ctx); err != nil {
			return nil, err
		}
	}
	reapClusters(bin, c.root)
	if c.dir, err = os.MkdirTemp("", clusterPrefix); err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	c.data = filepath.Join(c.dir, "data")
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(c.dir)
		return nil, fmt.Errorf("cluster owner file: %w", err)
	}
	if c.root {
		if out, err := exec.CommandContext(ctx, "chown", "-R", "postgres:", c.dir).CombinedOutput(); err != nil {
			_ = os.RemoveAll(c.dir)
			return nil, fmt.Errorf("chown %s: %w: %s", c.dir, err, out)
		}
	}
	initArgs := []string{"-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"}
	if err := c.run(ctx, "initdb", append(initArgs, "--locale=C.UTF-8")...); err != nil {
		_ = os.RemoveAll(c.data)
		if err2 := c.run(ctx, "initdb", append(initArgs, "--no-locale")...); err2 != nil {
			_ = c.destroy()
			return nil, err
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if c.port, err = freePort(); err != nil {
			_ = c.destroy()
			return nil, err
		}
		// synchronous_commit stays on: a commit that answered must survive
		// an immediate shutdown (with it off, PostgreSQL itself may lose the
		// last acknowledged transactions, and the test would blame the
		// forum). fsync=off is safe here because only PostgreSQL's processes
		// die, never the kernel holding the written pages.
		c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=on",
			c.port, c.dir)
		if err := c.start(ctx); err != nil {
			lastErr = fmt.Errorf("%w\n%s", err, c.logTail(20))
			continue
		}
		if err := c.ping(ctx); err != nil {
			_ = c.destroy()
			return nil, fmt.Errorf("started cluster does not answer: %w", err)
		}
		return c, nil
	}
	_ = c.destroy()
	return nil, lastErr
}

// URL is a connection URL for database name on this cluster.
func (c *pgCluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

func (c *pgCluster) logPath() string { return filepath.Join(c.dir, "log") }

func (c *pgCluster) logTail(n int) string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

func (c *pgCluster) ping(ctx context.Context) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// command runs a PostgreSQL binary, as the "postgres" OS user when we are root.
func (c *pgCluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.root {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.dir
	// pg_ctl start leaves the postmaster running with our pipes closed (its
	// output goes to -l); WaitDelay guards against one that does not.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (c *pgCluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// restart runs `pg_ctl restart -m mode` (fast: sessions are terminated
// cleanly; immediate: every server process is killed, as in a crash, and the
// next start replays the WAL). It returns once the server accepts connections
// again.
func (c *pgCluster) restart(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-l", c.logPath(), "-o", c.opts, "-m", mode, "-w", "-t", "60", "restart")
}

// stop stops the server (mode fast or immediate); start brings it back.
func (c *pgCluster) stop(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-m", mode, "-w", "-t", "60", "stop")
}

// start always passes the options: without them PostgreSQL would take the
// defaults of postgresql.conf, i.e. port 5432 of the shared server.
func (c *pgCluster) start(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-l", c.logPath(), "-o", c.opts, "-w", "-t", "60", "start")
}

// destroy stops the server if it runs and removes the cluster's directory.
func (c *pgCluster) destroy() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(c.data, "postmaster.pid")); serr == nil {
		err = c.stop(ctx, "immediate")
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("remove %s: %w", c.dir, rerr)
	}
	return err
}

// reapClusters stops and removes clusters left by test binaries of ours that
// no longer run. Best effort.
func reapClusters(bin string, root bool) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		old := &pgCluster{bin: bin, root: root, dir: dir, data: filepath.Join(dir, "data")}
		_ = old.destroy()
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

func ensurePostgresUser(ctx context.Context) error {
	if exec.CommandContext(ctx, "id", "-u", "postgres").Run() == nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, "useradd", "--system", "--user-group", "--no-create-home", "postgres").CombinedOutput()
	if err != nil {
		return fmt.Errorf("running as root without a 'postgres' OS user, and useradd failed: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

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
