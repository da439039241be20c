package benchlive

// The scale scenarios (issue 16 item 4, "scale by simulation"): several
// `forumjst serve` instances on one database, the subscribers and the sender
// connections spread over them round robin. A message reaches the
// subscribers of its own instance straight from the hub and those of the
// others through PostgreSQL (a NOTIFY hint, then a read of the chat log), so
// splitting the latencies by "sent on the receiver's instance or not" shows
// what the second path costs. Around the sending window the meter below
// reads what one database has to carry for it: the NOTIFY traffic (counted
// by a LISTEN connection of our own on the hub's channel), transactions,
// rows and WAL per message, and the CPU of PostgreSQL and of each instance.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/benchsum"
	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/live"
)

// scaleSubscribers is the scale scenarios' room size (issue 16 item 4).
const scaleSubscribers = 1000

// parseScale reads "scaleK[:N][@RATE]": K instances, N subscribers (default
// 1,000), RATE msg/s (default 100). A small N at a high rate loads
// PostgreSQL rather than the fan-out. ok is false for a name of another kind.
func parseScale(name string) (sc Scenario, ok bool, err error) {
	rest, ok := strings.CutPrefix(name, "scale")
	if !ok {
		return Scenario{}, false, nil
	}
	bad := func(why string) (Scenario, bool, error) {
		return Scenario{}, true, fmt.Errorf("scenario %q: %s (want scaleK[:N][@RATE], e.g. scale3, scale3@500, scale3:30@1000)", name, why)
	}
	rest, rs, hasRate := strings.Cut(rest, "@")
	ks, ns, hasN := strings.Cut(rest, ":")
	k, err := strconv.Atoi(ks)
	if err != nil || k < 2 || k > 8 {
		return bad("K must be 2…8 instances")
	}
	sc = Scenario{Name: name, N: scaleSubscribers, Rate: 100, Instances: k}
	if hasN {
		if sc.N, err = strconv.Atoi(ns); err != nil || sc.N < k || sc.N > 20000 {
			return bad("N must be K…20000 subscribers")
		}
	}
	if hasRate {
		if sc.Rate, err = strconv.Atoi(rs); err != nil || sc.Rate < 1 || sc.Rate > 5000 {
			return bad("RATE must be 1…5000 msg/s")
		}
	}
	return sc, true, nil
}

// ScaleFigures are a scale scenario's figures beyond the single-server ones.
// CPU is in cores (1.0 = one core busy) over the sending window.
type ScaleFigures struct {
	Instances int          `json:"instances"`
	Latency   LatencySplit `json:"latency"`

	Window      time.Duration `json:"window"`         // sending window (first send to drained)
	PerInstance []InstanceFig `json:"per_instance"`   // in instance order
	StoredRate  float64       `json:"stored_per_sec"` // chat messages committed per second (PG interval)

	// NOTIFY on the hub's channel, as one listener receives it (every
	// listening instance receives the same).
	Notifications     int64   `json:"notifications"`
	NotifyPerSec      float64 `json:"notify_per_sec"`
	NotifyBytesPerSec float64 `json:"notify_bytes_per_sec"` // protocol bytes per listener connection
	NotifyPerMessage  float64 `json:"notify_per_message"`

	// PostgreSQL, from pg_stat_database of the run's database over an
	// interval inside the sending window (PGInterval). WAL is the run
	// database's records (pg_walinspect: those touching its relations and
	// their transactions' commit records) when WALOurs, else the server's
	// whole WAL, other databases' writes included.
	PGInterval       time.Duration `json:"pg_interval"`
	XactPerSec       float64       `json:"xact_per_sec"`
	XactPerMessage   float64       `json:"xact_per_message"`
	InsertsPerSec    float64       `json:"inserts_per_sec"`
	WALOurs          bool          `json:"wal_ours"`
	WALBytesPerSec   float64       `json:"wal_bytes_per_sec"`
	WALBytesPerMsg   float64       `json:"wal_bytes_per_message"`
	WALServerPerSec  float64       `json:"wal_server_bytes_per_sec"`
	PGCPU            float64       `json:"pg_cpu"`     // the run database's backends and the server's background processes
	PGCPUAll         float64       `json:"pg_cpu_all"` // every PostgreSQL process (other databases too)
	PGCPUKnown       bool          `json:"pg_cpu_known"`
	PGCPUPerMsgMilli float64       `json:"pg_cpu_ms_per_message"` // PG CPU milliseconds per stored message
	// What the run database's active backends were doing, sampled every
	// 50 ms over the window: wait event ("CPU" when none) → share of samples.
	PGActive float64     `json:"pg_active"` // active backends on average
	PGWaits  []WaitShare `json:"pg_waits,omitempty"`
	Problems []string    `json:"problems,omitempty"` // what could not be measured
}

// WaitShare is one wait event's share of the active backends' samples.
type WaitShare struct {
	Event string  `json:"event"`
	Share float64 `json:"share"`
}

// InstanceFig is one instance over the sending window.
type InstanceFig struct {
	Base        string  `json:"base"`
	Subscribers int     `json:"subscribers"`
	Senders     int     `json:"senders"`
	CPU         float64 `json:"cpu"`
	RSS         int64   `json:"rss"`
	NotifySent  float64 `json:"notify_statements"`      // forumjst_live_notify_statements_total
	HintsIn     float64 `json:"notifications_received"` // forumjst_live_notifications_received_total
	LogReads    float64 `json:"log_reads"`              // forumjst_live_log_reads_total
}

// LatencySplit is send→receive latency of the deliveries on the sender's own
// instance and of those on another, and the cross-instance delay: how much
// later the other instances deliver, percentile by percentile.
type LatencySplit struct {
	Same      int64         `json:"same"`  // deliveries on the sending instance
	Cross     int64         `json:"cross"` // deliveries on another instance
	SameP50   time.Duration `json:"same_p50"`
	SameP99   time.Duration `json:"same_p99"`
	CrossP50  time.Duration `json:"cross_p50"`
	CrossP99  time.Duration `json:"cross_p99"`
	DelayP50  time.Duration `json:"delay_p50"` // CrossP50 − SameP50
	DelayP99  time.Duration `json:"delay_p99"` // CrossP99 − SameP99
	CrossOnly bool          `json:"-"`         // no same-instance deliveries: no delay can be computed
}

// splitLatencies computes the split from the two groups of latencies
// (microseconds; the slices are sorted in place). The delay is a difference
// of percentiles, not a percentile of differences: the same message is not
// paired across instances, and what a reader notices is the distribution.
func splitLatencies(same, cross []uint32) LatencySplit {
	slices.Sort(same)
	slices.Sort(cross)
	at := func(v []uint32, p float64) time.Duration {
		if len(v) == 0 {
			return 0
		}
		return time.Duration(v[pctIndex(len(v), p)]) * time.Microsecond
	}
	s := LatencySplit{Same: int64(len(same)), Cross: int64(len(cross)),
		SameP50: at(same, 50), SameP99: at(same, 99), CrossP50: at(cross, 50), CrossP99: at(cross, 99)}
	if len(same) > 0 && len(cross) > 0 {
		s.DelayP50, s.DelayP99 = s.CrossP50-s.SameP50, s.CrossP99-s.SameP99
	} else {
		s.CrossOnly = len(same) == 0
	}
	return s
}

// scaleMeter reads PostgreSQL and the instances at the edges of the sending
// window. Failures to measure are recorded as problems, never fatal: the
// delivery figures stand without them.
type scaleMeter struct {
	db        *sqlx.DB
	inst      []Instance
	meetingID int64

	listener *pq.Listener
	notes    atomic.Int64
	noteB    atomic.Int64
	done     chan struct{}

	mu       sync.Mutex
	problems []string

	t0, t1     time.Time
	n0, n1     int64 // notifications
	b0, b1     int64 // their bytes
	i0, i1     []int64
	m0, m1     []map[string]float64
	pg0, pg1   map[int]pgProc
	pgLocal    bool
	rss        []int64
	warm       *time.Timer
	pa, pb     pgReading
	walOurs    int64 // WAL bytes of the run's database between pa and pb, -1 unknown
	dbOID      int64
	paDone     chan struct{}
	walStop    chan string // sendingDone → walLoop: the last position
	walDone    chan struct{}
	waitStop   chan struct{}
	waitDone   chan struct{}
	waitOnce   sync.Once      // closes waitStop
	waitGo     bool           // sampleWaits was started
	waits      map[string]int // wait event → active backends seen in it
	samples    int
	haveA      bool
	sendingEnd bool
}

// pgProc is one PostgreSQL process's CPU ticks and whether it belongs to the
// run (a backend of the run's database, or a background process).
type pgProc struct {
	ticks int64
	ours  bool
}

// pgReading is pg_stat_database of the run's database, the WAL position and
// the room's newest seq at one moment.
type pgReading struct {
	at      time.Time
	xact    int64
	inserts int64
	wal     int64
	lsn     string
	seq     int64
}

// newScaleMeter opens the meter's connection and its LISTEN connection on
// the hub's channel in the run's database (NOTIFY is per database, so it
// hears this run's instances only).
func newScaleMeter(ctx context.Context, dbURL string, inst []Instance, meetingID int64) (*scaleMeter, error) {
	db, err := database.Open(ctx, dbURL, 2)
	if err != nil {
		return nil, err
	}
	m := &scaleMeter{db: db, inst: inst, meetingID: meetingID, done: make(chan struct{}), paDone: make(chan struct{}),
		walStop: make(chan string), walDone: make(chan struct{}),
		waitStop: make(chan struct{}), waitDone: make(chan struct{}), waits: map[string]int{}}
	m.listener = pq.NewListener(dbURL, 50*time.Millisecond, time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventDisconnected || ev == pq.ListenerEventConnectionAttemptFailed {
			m.problem("NOTIFY counter: listener %v: %v", ev, err)
		}
	})
	if err := m.listener.Listen(live.Channel); err != nil {
		m.close()
		return nil, fmt.Errorf("LISTEN %s: %w", live.Channel, err)
	}
	go func() {
		defer close(m.done)
		for n := range m.listener.Notify {
			if n == nil {
				m.problem("NOTIFY counter: the listener reconnected; notifications may be missing")
				continue
			}
			m.notes.Add(1)
			// The NotificationResponse message each listener receives:
			// type byte, length, sender pid, channel and payload, both
			// NUL-terminated.
			m.noteB.Add(int64(1 + 4 + 4 + len(n.Channel) + 1 + len(n.Extra) + 1))
		}
	}()
	var pid int
	if err := db.GetContext(ctx, &pid, `SELECT pg_backend_pid()`); err == nil {
		// PostgreSQL's processes can be read only if it runs on this machine.
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		m.pgLocal = err == nil && strings.TrimSpace(string(comm)) == "postgres"
	}
	if !m.pgLocal {
		m.problem("PostgreSQL does not run on this machine (or its processes are not readable): no PostgreSQL CPU")
	}
	// Other databases on the server write WAL too (tests, other runs): the
	// run's own share is read from the WAL itself.
	m.walOurs = -1
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_walinspect`); err != nil {
		m.problem("pg_walinspect (%v): WAL figures are the whole server's", err)
	} else if err := db.GetContext(ctx, &m.dbOID, `SELECT oid FROM pg_database WHERE datname = current_database()`); err != nil {
		m.problem("database oid (%v): WAL figures are the whole server's", err)
	}
	return m, nil
}

// stopWaits ends sampleWaits, if it runs, and waits for it.
func (m *scaleMeter) stopWaits() {
	m.waitOnce.Do(func() { close(m.waitStop) })
	if m.waitGo {
		<-m.waitDone
	}
}

func (m *scaleMeter) close() {
	m.stopWaits() // a run that failed mid-window never called end
	if m.warm != nil {
		m.warm.Stop()
	}
	if m.listener != nil {
		_ = m.listener.Close() // closes Notify: the counting goroutine ends
		select {
		case <-m.done:
		case <-time.After(5 * time.Second):
		}
	}
	_ = m.db.Close()
}

func (m *scaleMeter) problem(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.problems) < 10 {
		m.problems = append(m.problems, fmt.Sprintf(format, args...))
	}
}

// begin marks the start of the sending window. The first PostgreSQL reading
// waits until the load is steady: each backend flushes its statistics to
// pg_stat_database at most once a second (and an idle one only after
// seconds), so both readings are taken while every backend is busy and their
// lags cancel out.
func (m *scaleMeter) begin(ctx context.Context, sending time.Duration) {
	m.t0 = time.Now()
	m.n0, m.b0 = m.notes.Load(), m.noteB.Load()
	m.i0 = m.instanceTicks()
	m.pg0 = m.pgProcs(ctx)
	m.m0 = m.instanceMetrics(ctx)
	m.waitGo = true
	go m.sampleWaits(ctx)
	warm := min(2*time.Second, sending/4)
	m.warm = time.AfterFunc(warm, func() {
		defer close(m.paDone)
		r, err := m.readPG(ctx)
		if err != nil {
			m.problem("pg_stat_database at the start: %v", err)
			return
		}
		m.mu.Lock()
		m.pa, m.haveA = r, true
		m.mu.Unlock()
		if m.dbOID > 0 {
			go m.walLoop(ctx, r.lsn)
		}
	})
}

// walLoop adds up the run's WAL every walChunk from the first reading on,
// until sendingDone: the server recycles WAL segments at its checkpoints
// (other sessions' load makes them frequent), so waiting for the end to read
// the whole interval can find its start gone.
func (m *scaleMeter) walLoop(ctx context.Context, from string) {
	defer close(m.walDone)
	tick := time.NewTicker(walChunk)
	defer tick.Stop()
	var sum int64
	ok := true
	step := func(to string) {
		if !ok {
			return
		}
		n, err := m.ourWAL(ctx, from, to)
		if err != nil {
			m.problem("the run's WAL (%v): WAL figures are the whole server's", err)
			ok = false
			return
		}
		sum, from = sum+n, to
	}
	for {
		select {
		case to := <-m.walStop:
			step(to)
			if ok {
				m.mu.Lock()
				m.walOurs = sum
				m.mu.Unlock()
			}
			return
		case <-tick.C:
			var lsn string
			if err := m.db.GetContext(ctx, &lsn, `SELECT pg_current_wal_flush_lsn()::text`); err != nil {
				m.problem("WAL position: %v", err)
				ok = false
				continue
			}
			step(lsn)
		case <-ctx.Done():
			return
		}
	}
}

// walChunk is how much WAL time walLoop reads at once.
const walChunk = 2 * time.Second

// sendingDone takes the second PostgreSQL reading, right after the last send.
func (m *scaleMeter) sendingDone(ctx context.Context) {
	select {
	case <-m.paDone:
	case <-ctx.Done():
		return
	}
	r, err := m.readPG(ctx)
	if err != nil {
		m.problem("pg_stat_database at the end: %v", err)
		return
	}
	m.mu.Lock()
	m.pb, m.sendingEnd = r, true
	loop := m.haveA && m.dbOID > 0
	m.mu.Unlock()
	if loop {
		select {
		case m.walStop <- r.lsn:
			<-m.walDone
		case <-ctx.Done():
		}
	}
}

// sampleWaits counts, every 50 ms until end, what the run database's active
// backends wait on: a row lock, the WAL flush, a client, or nothing (CPU).
func (m *scaleMeter) sampleWaits(ctx context.Context) {
	defer close(m.waitDone)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-m.waitStop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var rows []struct {
			Event string `db:"event"`
			N     int    `db:"n"`
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := m.db.SelectContext(sctx, &rows, `
			SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS event, count(*) AS n
			  FROM pg_stat_activity
			 WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
			 GROUP BY 1`)
		cancel()
		if err != nil {
			continue
		}
		m.mu.Lock()
		m.samples++
		for _, r := range rows {
			m.waits[r.Event] += r.N
		}
		m.mu.Unlock()
	}
}

// end marks the end of the window (every delivery drained).
func (m *scaleMeter) end(ctx context.Context) {
	m.stopWaits()
	m.t1 = time.Now()
	m.n1, m.b1 = m.notes.Load(), m.noteB.Load()
	m.i1 = m.instanceTicks()
	m.pg1 = m.pgProcs(ctx)
	m.m1 = m.instanceMetrics(ctx)
	m.rss = make([]int64, len(m.inst))
	for i, in := range m.inst {
		m.rss[i], _ = readRSS(in.PID)
	}
}

func (m *scaleMeter) readPG(ctx context.Context) (pgReading, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var r struct {
		Xact    int64  `db:"xact"`
		Inserts int64  `db:"inserts"`
		WAL     int64  `db:"wal"`
		LSN     string `db:"lsn"`
		Seq     int64  `db:"seq"`
	}
	err := m.db.GetContext(ctx, &r, `
		SELECT d.xact_commit + d.xact_rollback AS xact, d.tup_inserted AS inserts,
		       (w.lsn - '0/0'::pg_lsn)::bigint AS wal, w.lsn::text AS lsn,
		       (SELECT coalesce(max(seq), 0) FROM chat_messages WHERE meeting_id = $1) AS seq
		  FROM pg_stat_database d, (SELECT pg_current_wal_flush_lsn() AS lsn) w
		 WHERE d.datname = current_database()`, m.meetingID)
	return pgReading{at: time.Now(), xact: r.Xact, inserts: r.Inserts, wal: r.WAL, lsn: r.LSN, seq: r.Seq}, err
}

// ourWAL sums the WAL records between two positions (flushed ones:
// pg_walinspect reads no further) that touch the run
// database's relations (block references "rel <tablespace>/<db oid>/…"),
// and the commit records of their transactions. Records without a relation
// (a checkpoint, another database's commit) are not ours.
func (m *scaleMeter) ourWAL(ctx context.Context, from, to string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n int64
	err := m.db.GetContext(ctx, &n, `
		WITH r AS (SELECT xid, resource_manager, record_length, block_ref
		             FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)),
		     x AS (SELECT DISTINCT xid FROM r WHERE block_ref LIKE $3 AND xid <> '0')
		SELECT coalesce(sum(record_length), 0)::bigint FROM r
		 WHERE block_ref LIKE $3 OR (resource_manager = 'Transaction' AND xid IN (SELECT xid FROM x))`,
		from, to, "% rel %/"+strconv.FormatInt(m.dbOID, 10)+"/%")
	return n, err
}

func (m *scaleMeter) instanceTicks() []int64 {
	t := make([]int64, len(m.inst))
	for i, in := range m.inst {
		t[i] = procTicks(strconv.Itoa(in.PID))
	}
	return t
}

// pgProcs reads the CPU ticks of every PostgreSQL process pg_stat_activity
// lists (backends and background processes).
func (m *scaleMeter) pgProcs(ctx context.Context) map[int]pgProc {
	if !m.pgLocal {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var rows []struct {
		PID  int  `db:"pid"`
		Ours bool `db:"ours"`
	}
	if err := m.db.SelectContext(ctx, &rows,
		`SELECT pid, coalesce(datname = current_database(), true) AS ours FROM pg_stat_activity`); err != nil {
		m.problem("pg_stat_activity: %v", err)
		return nil
	}
	out := make(map[int]pgProc, len(rows))
	for _, r := range rows {
		out[r.PID] = pgProc{ticks: procTicks(strconv.Itoa(r.PID)), ours: r.Ours}
	}
	return out
}

// pgCPU is the cores PostgreSQL used between two readings: a process seen
// only at the end started inside the window and counts whole; one seen only
// at the start ended inside it and its last ticks are lost (the pools keep
// their connections, so that is rare).
func pgCPU(p0, p1 map[int]pgProc, wall time.Duration) (ours, all float64) {
	if wall <= 0 {
		return 0, 0
	}
	var to, ta int64
	for pid, b := range p1 {
		d := b.ticks - p0[pid].ticks
		if d < 0 {
			continue // a reused pid
		}
		ta += d
		if b.ours {
			to += d
		}
	}
	sec := wall.Seconds() * clockTicks
	return float64(to) / sec, float64(ta) / sec
}

// scaleMetrics are the hub's counters (plain counters, no labels) read from
// each instance's /metrics.
var scaleMetrics = []string{"forumjst_live_notify_statements_total", "forumjst_live_notifications_received_total", "forumjst_live_log_reads_total"}

func (m *scaleMeter) instanceMetrics(ctx context.Context) []map[string]float64 {
	out := make([]map[string]float64, len(m.inst))
	for i, in := range m.inst {
		v, err := FetchMetrics(ctx, in.Base)
		if err != nil {
			m.problem("instance %d metrics: %v", i, err)
		}
		out[i] = v
	}
	return out
}

// fill puts the meter's figures into res.Scale (after collect's split).
func (m *scaleMeter) fill(res *Result) {
	s := res.Scale
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Window = m.t1.Sub(m.t0)
	if s.Window <= 0 {
		return
	}
	win := s.Window.Seconds()
	senders := res.Senders
	for i, in := range m.inst {
		f := InstanceFig{Base: in.Base, Subscribers: share(res.N, len(m.inst), i), Senders: share(senders, len(m.inst), i)}
		if i < len(m.i1) && i < len(m.i0) {
			f.CPU = float64(m.i1[i]-m.i0[i]) / clockTicks / win
		}
		if i < len(m.rss) {
			f.RSS = m.rss[i]
		}
		if i < len(m.m0) && i < len(m.m1) && m.m0[i] != nil && m.m1[i] != nil {
			f.NotifySent = m.m1[i][scaleMetrics[0]] - m.m0[i][scaleMetrics[0]]
			f.HintsIn = m.m1[i][scaleMetrics[1]] - m.m0[i][scaleMetrics[1]]
			f.LogReads = m.m1[i][scaleMetrics[2]] - m.m0[i][scaleMetrics[2]]
		}
		s.PerInstance = append(s.PerInstance, f)
		// The single-server figure of the report: all instances together.
		res.ServerCPU += f.CPU
	}
	s.Notifications = m.n1 - m.n0
	s.NotifyPerSec = float64(s.Notifications) / win
	s.NotifyBytesPerSec = float64(m.b1-m.b0) / win
	if res.Acked > 0 {
		s.NotifyPerMessage = float64(s.Notifications) / float64(res.Acked)
	}
	if m.pgLocal && m.pg0 != nil && m.pg1 != nil {
		s.PGCPU, s.PGCPUAll = pgCPU(m.pg0, m.pg1, s.Window)
		s.PGCPUKnown = true
	}
	if m.haveA && m.sendingEnd {
		a, b := m.pa, m.pb
		s.PGInterval = b.at.Sub(a.at)
		if sec := s.PGInterval.Seconds(); sec > 0 {
			s.XactPerSec = float64(b.xact-a.xact) / sec
			s.InsertsPerSec = float64(b.inserts-a.inserts) / sec
			s.WALServerPerSec = float64(b.wal-a.wal) / sec
			wal := b.wal - a.wal
			if m.walOurs >= 0 {
				wal, s.WALOurs = m.walOurs, true
			}
			s.WALBytesPerSec = float64(wal) / sec
			s.StoredRate = float64(b.seq-a.seq) / sec
			if msgs := b.seq - a.seq; msgs > 0 {
				s.XactPerMessage = float64(b.xact-a.xact) / float64(msgs)
				s.WALBytesPerMsg = float64(wal) / float64(msgs)
			}
		}
	}
	if s.PGCPUKnown && res.Acked > 0 {
		s.PGCPUPerMsgMilli = s.PGCPU * win * 1000 / float64(res.Acked)
	}
	if m.samples > 0 {
		var total int
		for ev, n := range m.waits {
			total += n
			s.PGWaits = append(s.PGWaits, WaitShare{Event: ev, Share: float64(n)})
		}
		s.PGActive = float64(total) / float64(m.samples)
		for i := range s.PGWaits {
			s.PGWaits[i].Share /= float64(total)
		}
		slices.SortFunc(s.PGWaits, func(a, b WaitShare) int {
			if a.Share != b.Share {
				if a.Share > b.Share {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Event, b.Event)
		})
	}
	s.Problems = slices.Clone(m.problems)
}

// share is how many of n items round robin over k slots land in slot i.
func share(n, k, i int) int {
	if k <= 0 || i >= k {
		return 0
	}
	c := n / k
	if i < n%k {
		c++
	}
	return c
}

// writeScale prints a scale scenario's own figures.
func writeScale(w io.Writer, r *Result) {
	s := r.Scale
	if s == nil {
		return
	}
	l := s.Latency
	fmt.Fprintf(w, "  deliveries on the sending instance: %s, p50 %s, p99 %s\n", fmtInt(l.Same), fmtDur(l.SameP50), fmtDur(l.SameP99))
	fmt.Fprintf(w, "  deliveries on another instance:     %s, p50 %s, p99 %s\n", fmtInt(l.Cross), fmtDur(l.CrossP50), fmtDur(l.CrossP99))
	if l.Same > 0 && l.Cross > 0 {
		fmt.Fprintf(w, "  cross-instance delay (p50, p99 of other instances minus the sending one's): %s, %s  (SPEC §8: ≤ 2 ms, ≤ 10 ms)\n",
			fmtSigned(l.DelayP50), fmtSigned(l.DelayP99))
	}
	fmt.Fprintf(w, "  NOTIFY on %s: %s notifications (%.0f/s, %.2f per message), %s/s to each of %d listening instances\n",
		live.Channel, fmtInt(s.Notifications), s.NotifyPerSec, s.NotifyPerMessage, fmtBytes(s.NotifyBytesPerSec), s.Instances)
	if s.PGInterval > 0 {
		whose := "server-wide"
		if s.WALOurs {
			whose = fmt.Sprintf("this database's; the whole server wrote %s/s", fmtBytes(s.WALServerPerSec))
		}
		fmt.Fprintf(w, "  PostgreSQL over %s of sending: %s messages stored/s, %.0f xact/s (%.2f per message), %.0f rows inserted/s, WAL %s/s (%s per message; %s)\n",
			fmtDur(s.PGInterval), fmtRate(s.StoredRate), s.XactPerSec, s.XactPerMessage, s.InsertsPerSec, fmtBytes(s.WALBytesPerSec), fmtBytes(s.WALBytesPerMsg), whose)
	}
	if s.PGCPUKnown {
		fmt.Fprintf(w, "  CPU over the %s window (cores): PostgreSQL %.2f for this database and the background processes (%.2f ms per message; all of PostgreSQL %.2f), load client %.2f, whole machine %.2f (idle before: %.2f)\n",
			fmtDur(s.Window), s.PGCPU, s.PGCPUPerMsgMilli, s.PGCPUAll, r.ClientCPU, r.MachineCPU, r.BackgroundCPU)
	}
	if len(s.PGWaits) > 0 {
		var parts []string
		for i, ws := range s.PGWaits {
			if i == 6 {
				break
			}
			parts = append(parts, fmt.Sprintf("%s %.0f%%", ws.Event, 100*ws.Share))
		}
		fmt.Fprintf(w, "  PostgreSQL backends active on average: %.1f; waiting on: %s\n", s.PGActive, strings.Join(parts, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  instance\tsubscribers\tsenders\tCPU (cores)\tRSS\tNOTIFY stmts\thints in\tlog reads\t")
	for i, f := range s.PerInstance {
		fmt.Fprintf(tw, "  %d %s\t%d\t%d\t%.2f\t%s\t%.0f\t%.0f\t%.0f\t\n", i, f.Base, f.Subscribers, f.Senders, f.CPU, fmtMB(f.RSS), f.NotifySent, f.HintsIn, f.LogReads)
	}
	tw.Flush()
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  not measured: %s\n", p)
	}
}

func fmtSigned(d time.Duration) string {
	if d < 0 {
		return "−" + fmtDur(-d)
	}
	return "+" + fmtDur(d)
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1e6:
		return fmt.Sprintf("%.2f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f KB", b/1e3)
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}

// scaleRows are a scale scenario's rows for forumjst-bench summary. There is
// no bare server to compare with: the cross-instance latencies are shown
// next to the same-instance ones of the same run, and the delay is judged by
// SPEC §8's cross-instance row (adds ≤ 2 ms p50, ≤ 10 ms p99); the rest is
// reported without a target.
func scaleRows(r *Result) []benchsum.Row {
	s := r.Scale
	var rows []benchsum.Row
	add := func(figure, unit string, v, base float64, target string, met *bool) *benchsum.Row {
		rows = append(rows, benchsum.NewRow("live", r.Scenario+" "+figure, unit, v, base, target, met))
		return &rows[len(rows)-1]
	}
	const report = "report"
	msOf := func(d time.Duration) float64 { return float64(d) / 1e6 }
	add("deliveries", "deliveries/s", r.DeliveriesPerSec, 0, report, nil).BaselineNote = fmt.Sprintf("offered %s/s", fmtInt(int64(r.N*r.Rate)))
	add("lost or dropped", "messages", float64(r.Lost+int64(r.Dropped)), 0, "0", benchsum.Met(r.Lost == 0 && r.Dropped == 0))
	l := s.Latency
	same := "same-instance deliveries, same run"
	add("cross-instance p50", "ms", msOf(l.CrossP50), msOf(l.SameP50), report, nil).BaselineNote = same
	add("cross-instance p99", "ms", msOf(l.CrossP99), msOf(l.SameP99), report, nil).BaselineNote = same
	var m50, m99 *bool
	if l.Same > 0 && l.Cross > 0 {
		m50, m99 = benchsum.Met(l.DelayP50 <= 2*time.Millisecond), benchsum.Met(l.DelayP99 <= 10*time.Millisecond)
	}
	add("cross-instance delay p50", "ms", msOf(l.DelayP50), 0, "≤ 2 ms (SPEC §8)", m50)
	add("cross-instance delay p99", "ms", msOf(l.DelayP99), 0, "≤ 10 ms (SPEC §8)", m99)
	add("NOTIFY", "notifications/s", s.NotifyPerSec, 0, report, nil)
	add("NOTIFY bytes", "B/s per listener", s.NotifyBytesPerSec, 0, report, nil)
	if s.PGInterval > 0 {
		add("PostgreSQL xact", "xact/s", s.XactPerSec, 0, report, nil)
		add("PostgreSQL xact per message", "xact", s.XactPerMessage, 0, report, nil)
		unit := "B"
		if !s.WALOurs {
			unit = "B (server-wide)"
		}
		add("WAL per message", unit, s.WALBytesPerMsg, 0, report, nil)
	}
	if s.StoredRate > 0 {
		add("messages stored", "msg/s", s.StoredRate, 0, report, nil).BaselineNote = fmt.Sprintf("offered %d/s", r.Rate)
	}
	if len(s.PGWaits) > 0 {
		var locks float64
		for _, ws := range s.PGWaits {
			if strings.HasPrefix(ws.Event, "Lock:") {
				locks += ws.Share
			}
		}
		add("PostgreSQL backends waiting on locks", "% of active", 100*locks, 0, report, nil)
	}
	if s.PGCPUKnown {
		add("PostgreSQL CPU", "cores", s.PGCPU, 0, report, nil)
		add("PostgreSQL CPU per message", "ms", s.PGCPUPerMsgMilli, 0, report, nil)
	}
	var cpu float64
	var rss int64
	for _, f := range s.PerInstance {
		cpu += f.CPU
		rss = max(rss, f.RSS)
	}
	add("instances' CPU (sum)", "cores", cpu, 0, report, nil)
	add("largest instance RSS", "MB", float64(rss)/1e6, 0, report, nil)
	return rows
}

// FetchMetrics reads the unlabelled samples (and, summed, the labelled ones)
// of an instance's Prometheus text at /metrics, which the forum serves to
// loopback.
func FetchMetrics(ctx context.Context, base string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s/metrics: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s/metrics: status %d", base, resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		out[name] += v
	}
	return out, sc.Err()
}
