package pgadmin

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// pgLibGlob is where Debian/Ubuntu install server binaries (a variable for tests).
var pgLibGlob = "/usr/lib/postgresql/*/bin"

// ClusterOptions shape a throwaway cluster.
type ClusterOptions struct {
	// DirPrefix names the temporary directory (default "pgtest-"); clusters of
	// processes that no longer run are reaped by prefix.
	DirPrefix string
	// Durable keeps synchronous_commit and full_page_writes on, for tests that
	// crash the server and count on acknowledged commits surviving (fsync
	// stays off: only PostgreSQL's processes die, never the kernel holding
	// the written pages). Otherwise the cluster trades durability for speed.
	Durable bool
}

// Cluster is a PostgreSQL cluster of this process alone, in a temporary
// directory, on a free loopback port: it may be stopped, restarted and
// crashed at will. Destroy removes it.
type Cluster struct {
	bin, dir, data string
	port           int
	opts           string // server options (-o) of every start: port, socket dir, settings
	root           bool   // we are root: run the server binaries as "postgres"
}

// StartCluster initialises a cluster in a new temporary directory and starts
// it on a free loopback port. It returns ErrNoPostgres without initdb/pg_ctl.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, error) {
	if o.DirPrefix == "" {
		o.DirPrefix = "pgtest-"
	}
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, root: os.Geteuid() == 0}
	if c.root {
		// initdb and postgres refuse to run as root.
		if err := ensurePostgresUser(ctx); err != nil {
			return nil, err
		}
	}
	reapClusters(bin, c.root, o.DirPrefix)

	if c.dir, err = os.MkdirTemp("", o.DirPrefix); err != nil {
		return nil, fmt.Errorf("pgadmin: cluster dir: %w", err)
	}
	c.data = filepath.Join(c.dir, "data")
	if err := os.WriteFile(filepath.Join(c.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(c.dir)
		return nil, fmt.Errorf("pgadmin: cluster owner file: %w", err)
	}
	if c.root {
		if out, err := exec.CommandContext(ctx, "chown", "-R", "postgres:", c.dir).CombinedOutput(); err != nil {
			_ = os.RemoveAll(c.dir)
			return nil, fmt.Errorf("pgadmin: chown %s: %w: %s", c.dir, err, out)
		}
	}
	initArgs := []string{"-D", c.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"}
	if err := c.run(ctx, "initdb", append(initArgs, "--locale=C.UTF-8")...); err != nil {
		_ = os.RemoveAll(c.data)
		if err2 := c.run(ctx, "initdb", append(initArgs, "--no-locale")...); err2 != nil {
			_ = c.Destroy()
			return nil, err
		}
	}
	settings := "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	if o.Durable {
		settings = "-c fsync=off -c synchronous_commit=on"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if c.port, err = freePort(); err != nil {
			_ = c.Destroy()
			return nil, err
		}
		c.opts = fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 %s", c.port, shQuote(c.dir), settings)
		if err := c.Start(ctx); err != nil {
			lastErr = fmt.Errorf("%w\n%s", err, c.LogTail(20))
			continue
		}
		if err := ping(ctx, c.URL("postgres")); err != nil {
			_ = c.Destroy()
			return nil, fmt.Errorf("pgadmin: started cluster does not answer: %w", err)
		}
		return c, nil
	}
	_ = c.Destroy()
	return nil, lastErr
}

// URL is a connection URL for database name on this cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Dir is the cluster's temporary directory (data, socket and log).
func (c *Cluster) Dir() string { return c.dir }

// LogTail is the last n lines of the server's log.
func (c *Cluster) LogTail(n int) string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

func (c *Cluster) logPath() string { return filepath.Join(c.dir, "log") }

// Start starts the server and returns once it accepts connections. It always
// passes the options: without them PostgreSQL would take postgresql.conf's
// defaults, i.e. port 5432 of the shared server.
func (c *Cluster) Start(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-l", c.logPath(), "-o", c.opts, "-w", "-t", "60", "start")
}

// Stop stops the server: mode "fast" ends sessions cleanly, "immediate"
// kills every server process, as in a crash.
func (c *Cluster) Stop(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-m", mode, "-w", "-t", "60", "stop")
}

// Restart runs `pg_ctl restart -m mode` (fast, or immediate: the next start
// replays the WAL) and returns once the server accepts connections again.
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-l", c.logPath(), "-o", c.opts, "-m", mode, "-w", "-t", "60", "restart")
}

// Destroy stops the server if it runs and removes the cluster's directory.
func (c *Cluster) Destroy() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var err error
	if _, serr := os.Stat(filepath.Join(c.data, "postmaster.pid")); serr == nil {
		err = c.Stop(ctx, "immediate")
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = fmt.Errorf("pgadmin: remove %s: %w", c.dir, rerr)
	}
	return err
}

// command builds a command that runs as the unprivileged "postgres" OS user
// when we are root (initdb and postgres refuse to run as root).
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	switch {
	case !c.root:
		cmd = exec.CommandContext(ctx, path, args...)
	case lookPath("runuser") != "":
		cmd = exec.CommandContext(ctx, lookPath("runuser"), append([]string{"-u", "postgres", "--", path}, args...)...)
	default:
		quoted := []string{shQuote(path)}
		for _, a := range args {
			quoted = append(quoted, shQuote(a))
		}
		cmd = exec.CommandContext(ctx, "su", "-s", "/bin/sh", "postgres", "-c", strings.Join(quoted, " "))
	}
	cmd.Dir = c.dir
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	out, err := c.command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgadmin: %s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// pgBinDir returns a directory holding initdb, pg_ctl and postgres: the one of
// initdb on PATH (through its symlink, where postgres itself lives), else the
// newest /usr/lib/postgresql/*/bin.
func pgBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if dir := filepath.Dir(p); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(pgLibGlob)
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

// versionLess compares /usr/lib/postgresql/<v>/bin paths numerically by <v>.
func versionLess(a, b string) bool {
	va := strings.Split(filepath.Base(filepath.Dir(a)), ".")
	vb := strings.Split(filepath.Base(filepath.Dir(b)), ".")
	for i := 0; i < len(va) && i < len(vb); i++ {
		na, ea := strconv.Atoi(va[i])
		nb, eb := strconv.Atoi(vb[i])
		if ea != nil || eb != nil {
			if va[i] != vb[i] {
				return va[i] < vb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(va) < len(vb)
}

// reapClusters stops and removes prefix* clusters in the temp directory whose
// owning process no longer runs (a -timeout panic runs no cleanup). Best
// effort, silent.
func reapClusters(bin string, root bool, prefix string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		old := &Cluster{bin: bin, root: root, dir: dir, data: filepath.Join(dir, "data")}
		_ = old.Destroy()
	}
}

func ensurePostgresUser(ctx context.Context) error {
	if exec.CommandContext(ctx, "id", "-u", "postgres").Run() == nil {
		return nil
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "useradd", "--system", "--user-group", "--no-create-home", "postgres")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgadmin: running as root and no 'postgres' OS user; useradd failed: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgadmin: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
