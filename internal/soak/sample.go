package soak

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/benchlive"
)

// Instance is one `forumjst serve` under test.
type Instance struct {
	Name string // "a", "b": how lines and JSON name it
	Base string // http://127.0.0.1:port
	PID  int    // for resident memory and open files from /proc
	// AppName is the application_name its database connections carry, so
	// pg_stat_activity can tell the instances apart; "" counts every
	// connection to the database but the harness's own.
	AppName string
}

// InstanceSample is one reading of an instance's resources.
type InstanceSample struct {
	Instance   string `json:"instance"`
	RSS        int64  `json:"rss_bytes"`        // /proc/PID/status VmRSS
	HeapAlloc  int64  `json:"heap_alloc_bytes"` // go_memstats_heap_alloc_bytes
	HeapGoal   int64  `json:"heap_goal_bytes"`  // go_memstats_next_gc_bytes: twice the live heap after the last GC
	Goroutines int64  `json:"goroutines"`       // go_goroutines
	FDs        int64  `json:"open_files"`       // entries of /proc/PID/fd
	DBConns    int64  `json:"db_conns"`         // pg_stat_activity rows whose client port is one of the instance's sockets (its pool and its LISTEN connection)
	PoolOpen   int64  `json:"pool_open"`        // go_sql_open_connections: the instance's own pool
	WSConns    int64  `json:"ws_conns"`         // forumjst_live_connections
	Errors     string `json:"errors,omitempty"` // what could not be read
}

// Sample is one interval of the run: every instance's resources at its end
// and the load figures of the interval.
type Sample struct {
	Elapsed   time.Duration    `json:"elapsed_ns"`
	Instances []InstanceSample `json:"instances"`
	Load      []IntervalLoad   `json:"load"` // per instance, same order
	LostSoFar int64            `json:"lost_so_far"`
	DupsSoFar int64            `json:"duplicates_so_far"`
	Connected int              `json:"subscribers_connected"`
	Reconnect int64            `json:"reconnects_so_far"`
}

// IntervalLoad is what one instance served in an interval.
type IntervalLoad struct {
	DeliveriesPerSec float64       `json:"deliveries_per_sec"`
	P99              time.Duration `json:"p99_ns"`     // send → receive, live deliveries
	AckP99           time.Duration `json:"ack_p99_ns"` // chat.send → chat.ack
	PagesPerSec      float64       `json:"pages_per_sec"`
	PostsPerSec      float64       `json:"posts_per_sec"`
	WebErrors        int64         `json:"web_errors"`
}

// readInstance reads one instance's resources.
func readInstance(ctx context.Context, db *sqlx.DB, in Instance) InstanceSample {
	s := InstanceSample{Instance: in.Name}
	var problems []string
	if in.PID > 0 {
		if rss, err := benchlive.ReadRSS(in.PID); err == nil {
			s.RSS = rss
		} else {
			problems = append(problems, err.Error())
		}
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", in.PID)); err == nil {
			s.FDs = int64(len(ents))
		} else {
			problems = append(problems, "open files: "+err.Error())
		}
	}
	m, err := benchlive.FetchMetrics(ctx, in.Base)
	if err != nil {
		problems = append(problems, err.Error())
	}
	s.HeapAlloc = int64(m["go_memstats_heap_alloc_bytes"])
	s.HeapGoal = int64(m["go_memstats_next_gc_bytes"])
	s.Goroutines = int64(m["go_goroutines"])
	s.PoolOpen = int64(m["go_sql_open_connections"])
	s.WSConns = int64(m["forumjst_live_connections"])
	if db != nil {
		n, err := dbConns(ctx, db, in)
		if err != nil {
			problems = append(problems, err.Error())
		}
		s.DBConns = n
	}
	s.Errors = strings.Join(problems, "; ")
	return s
}

// dbConns counts the instance's connections in pg_stat_activity. The LISTEN
// connection carries live's own application_name on every instance, so the
// sure way is the client port: a backend whose client port is a local port
// of one of the instance's sockets is the instance's. Without a PID (or
// /proc), it falls back to the instance's application_name.
func dbConns(ctx context.Context, db *sqlx.DB, in Instance) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if in.PID > 0 {
		if ports, err := socketPorts(in.PID); err == nil {
			var clients []int64
			if err := db.SelectContext(ctx, &clients, `SELECT client_port FROM pg_stat_activity WHERE datname = current_database() AND client_port > 0`); err != nil {
				return 0, fmt.Errorf("pg_stat_activity: %w", err)
			}
			var n int64
			for _, p := range clients {
				if ports[p] {
					n++
				}
			}
			return n, nil
		}
	}
	var n int64
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`, in.AppName); err != nil {
		return 0, fmt.Errorf("pg_stat_activity: %w", err)
	}
	return n, nil
}

// socketPorts returns the local TCP ports of a process's sockets: the socket
// inodes of /proc/PID/fd matched against /proc/PID/net/tcp{,6}.
func socketPorts(pid int) (map[int64]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	ports := map[int64]bool{}
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || !inodes[fs[9]] {
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 64); ok && err == nil {
				ports[p] = true
			}
		}
	}
	return ports, nil
}

// sampler turns cumulative counters into interval figures.
type sampler struct {
	r    *runner
	prev []counters
	at   time.Time
}

type counters struct {
	deliveries, pages, posts, webErrors int64
	lat, ackLat                         histSnap
}

func (r *runner) counters(i int) counters {
	st := r.stats[i]
	return counters{deliveries: st.deliveries.Load(), pages: st.pages.Load(), posts: st.posts.Load(),
		webErrors: st.webErrors.Load(), lat: st.lat.snap(), ackLat: st.ackLat.snap()}
}

func newSampler(r *runner) *sampler {
	s := &sampler{r: r, at: time.Now()}
	for i := range r.insts {
		s.prev = append(s.prev, r.counters(i))
	}
	return s
}

// take reads every instance and the interval's load since the last take.
func (s *sampler) take(ctx context.Context, elapsed time.Duration) Sample {
	now := time.Now()
	secs := now.Sub(s.at).Seconds()
	s.at = now
	smp := Sample{Elapsed: elapsed, LostSoFar: s.r.subs.gapsSoFar.Load(), DupsSoFar: s.r.subs.dupsSoFar.Load(),
		Connected: s.r.subs.connectedNow(), Reconnect: s.r.subs.reconnects.Load()}
	for i, in := range s.r.insts {
		smp.Instances = append(smp.Instances, readInstance(ctx, s.r.db, in))
		c := s.r.counters(i)
		p := s.prev[i]
		l := IntervalLoad{P99: pctSince(c.lat, p.lat, 99), AckP99: pctSince(c.ackLat, p.ackLat, 99), WebErrors: c.webErrors - p.webErrors}
		if secs > 0 {
			l.DeliveriesPerSec = float64(c.deliveries-p.deliveries) / secs
			l.PagesPerSec = float64(c.pages-p.pages) / secs
			l.PostsPerSec = float64(c.posts-p.posts) / secs
		}
		smp.Load = append(smp.Load, l)
		s.prev[i] = c
	}
	return smp
}
