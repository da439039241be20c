package benchlive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
)

// Scenario is one load shape: N subscribers in one room and, unless Rate is
// 0 (idle: connect time and memory only), Rate chat messages per second from
// --senders connections (at least one per instance).
type Scenario struct {
	Name string
	N    int
	Rate int
	// Instances is the number of `forumjst serve` processes on one database
	// (the scale scenarios); 0 or 1: one server.
	Instances int
	// Senders, when above 0, is this scenario's number of sending
	// connections ("fanout1k/10"); 0: --senders.
	Senders int
}

// Target is one server under test.
type Target struct {
	Name      string // "baseline" or "forumjst"
	Base      string // http://127.0.0.1:port; the websocket is Base+"/ws" and Origin is Base
	PID       int    // the server's process, for resident memory; 0 when unknown
	MeetingID int64
	// Receivers are Cookie header values the subscribers use round-robin
	// (many connections share a session); nil for a server without auth.
	Receivers []string
	Sender    string // the sender's Cookie header value
	// Instances, when there are several, are `forumjst serve` processes on
	// one database (the scale scenarios): subscribers and sender connections
	// are spread over them round robin, and Base/PID are ignored.
	Instances []Instance
}

// Instance is one server process of a target.
type Instance struct {
	Base string
	PID  int
}

// instances returns the target's servers: Instances, or Base and PID alone.
func (t Target) instances() []Instance {
	if len(t.Instances) > 0 {
		return t.Instances
	}
	return []Instance{{Base: t.Base, PID: t.PID}}
}

// loadSettings are the knobs shared by every scenario of a run.
type loadSettings struct {
	Duration time.Duration // sending time
	Drain    time.Duration // longest wait for deliveries after the last send
	Settle   time.Duration // pause between connecting and measuring memory
	Dialers  int           // connections opened concurrently
	Senders  int           // sending connections, used round robin (default 1)
}

// Result is one scenario against one server. Durations are nanoseconds in
// JSON; sizes are bytes.
type Result struct {
	Scenario string        `json:"scenario"`
	Server   string        `json:"server"`
	N        int           `json:"n"`
	Rate     int           `json:"rate"`
	Duration time.Duration `json:"duration"`

	Connected         int           `json:"connected"`
	ConnectErrors     int           `json:"connect_errors"`
	FirstConnectError string        `json:"first_connect_error,omitempty"`
	ConnectTotal      time.Duration `json:"connect_total"`
	ConnectP50        time.Duration `json:"connect_p50"`
	ConnectP99        time.Duration `json:"connect_p99"`
	// CPU per connection while connecting, in microseconds: a steadier
	// figure than the connect times on a shared machine. The machine's
	// includes PostgreSQL (and whatever else ran meanwhile).
	ConnectServerCPU  float64 `json:"connect_server_cpu_us"`
	ConnectClientCPU  float64 `json:"connect_client_cpu_us"`
	ConnectMachineCPU float64 `json:"connect_machine_cpu_us"`

	RSSBefore         int64   `json:"rss_before"` // 0: unknown
	RSSAfter          int64   `json:"rss_after"`
	RSSPerConn        float64 `json:"rss_per_conn"` // (after − before) / connected
	HeapPerConn       float64 `json:"heap_per_conn"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`

	Senders    int            `json:"senders"`
	Sent       int            `json:"sent"`
	Acked      int            `json:"acked"`
	SendErrors map[string]int `json:"send_errors,omitempty"`
	AckP50     time.Duration  `json:"ack_p50"`
	AckP99     time.Duration  `json:"ack_p99"`
	SendLag    time.Duration  `json:"send_lag"` // how far the sender fell behind its schedule at worst

	Expected         int64          `json:"expected"` // acked messages × subscribers
	Received         int64          `json:"received"` // distinct acked messages received
	Lost             int64          `json:"lost"`
	Duplicates       int64          `json:"duplicates"`
	OutOfOrder       int64          `json:"out_of_order"` // a seq below one already seen, or a gap
	Dropped          int            `json:"dropped"`      // subscribers the server disconnected
	DropReasons      map[string]int `json:"drop_reasons,omitempty"`
	BadFrames        int64          `json:"bad_frames"`
	DeliveriesPerSec float64        `json:"deliveries_per_sec"` // received / (last receipt − first send)
	P50              time.Duration  `json:"p50"`
	P99              time.Duration  `json:"p99"`
	Max              time.Duration  `json:"max"`
	FrameBytes       float64        `json:"frame_bytes"` // mean chat.message frame size

	// CPU during the sending window, in cores (1.0 = one core busy).
	ServerCPU  float64 `json:"server_cpu"`
	ClientCPU  float64 `json:"client_cpu"`
	MachineCPU float64 `json:"machine_cpu"` // all processes, PostgreSQL included
	// BackgroundCPU is the machine's CPU while the connections sat idle
	// before sending: other processes' load (and the servers' idle work).
	BackgroundCPU float64 `json:"background_cpu"`

	ServerLogProblems int      `json:"server_log_problems"`
	ServerLogFirst    []string `json:"server_log_first,omitempty"`

	// Scale holds the figures of a scenario over several instances.
	Scale *ScaleFigures `json:"scale,omitempty"`
}

// connectCPU sets the CPU per connection of the connect phase from two
// samples around it.
func (res *Result) connectCPU(s0, s1 cpuSample) {
	if res.Connected == 0 {
		return
	}
	wall := s1.at.Sub(s0.at).Seconds()
	server, client, machine := s1.since(s0)
	perConn := func(cores float64) float64 { return cores * wall * 1e6 / float64(res.Connected) }
	res.ConnectServerCPU, res.ConnectClientCPU, res.ConnectMachineCPU = perConn(server), perConn(client), perConn(machine)
}

// loadRun is one scenario against one target.
type loadRun struct {
	tgt    Target
	inst   []Instance // tgt.instances()
	sc     Scenario
	set    loadSettings
	dialer websocket.Dialer
	expect int // messages the sender will send
	// meter measures PostgreSQL and every instance over the sending window
	// (scale scenarios); nil otherwise.
	meter *scaleMeter

	wg        sync.WaitGroup // receiver read loops
	closing   atomic.Bool    // set before we close connections ourselves
	badFrames atomic.Int64
	// perSeq counts the subscribers each seq reached (distinct), so the drain
	// can stop as soon as every acked message is everywhere.
	perSeq []atomic.Int32

	// Set by sendAndDrain for collect.
	ackedSeqs []int64
	firstSend int64 // unix nanoseconds
}

// hooks let the caller act at the phases of a scenario (profiling); nil
// functions are skipped.
type hooks struct {
	connecting func() // right before the first subscriber dials
	connected  func() // the subscribers are connected and memory was measured
	sending    func() // right before the first send
	drained    func() // after the drain, before the connections close
}

func call(f func()) {
	if f != nil {
		f()
	}
}

// runScenario opens the subscribers, measures memory, sends, drains and
// computes the figures. Everything it opens is closed before it returns.
func runScenario(ctx context.Context, tgt Target, sc Scenario, set loadSettings, h hooks) (*Result, error) {
	return runScenarioMetered(ctx, tgt, sc, set, h, nil)
}

// runScenarioMetered is runScenario with a meter for the sending window (the
// scale scenarios; nil: none).
func runScenarioMetered(ctx context.Context, tgt Target, sc Scenario, set loadSettings, h hooks, m *scaleMeter) (*Result, error) {
	run := &loadRun{tgt: tgt, inst: tgt.instances(), sc: sc, set: set, meter: m,
		dialer: websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 512}}
	multi := len(run.inst) > 1
	if sc.Rate > 0 {
		run.expect = int(float64(sc.Rate) * set.Duration.Seconds())
		// Every server here starts a fresh room at seq 1.
		run.perSeq = make([]atomic.Int32, run.expect+1)
	}
	res := &Result{Scenario: sc.Name, Server: tgt.Name, N: sc.N, Rate: sc.Rate, Senders: run.senders()}
	if sc.Rate > 0 {
		res.Duration = set.Duration
	}

	// Let whatever the server did before (startup, the meeting's creation)
	// settle, so the memory figure is the connections' alone.
	if err := sleep(ctx, set.Settle/2); err != nil {
		return nil, err
	}
	// Per-connection memory is a single server's figure; the scale
	// scenarios report each instance's resident memory instead.
	if tgt.PID > 0 && !multi {
		res.RSSBefore, _ = readRSS(tgt.PID)
	}
	var stBefore serverStats
	if !multi {
		stBefore, _ = fetchStats(ctx, tgt.Base)
	}

	call(h.connecting)
	cpuConnect := sampleCPU(tgt.PID)
	receivers, err := run.connectAll(ctx, res)
	if !multi {
		res.connectCPU(cpuConnect, sampleCPU(tgt.PID))
	}
	defer run.closeAll(receivers)
	if err != nil {
		return nil, err
	}
	// The machine's CPU while our processes sit idle is someone else's load:
	// reported, so a run on a busy machine can be recognised.
	cpu0 := sampleCPU(0)
	if err := sleep(ctx, set.Settle); err != nil {
		return nil, err
	}
	_, _, res.BackgroundCPU = sampleCPU(0).since(cpu0)
	if tgt.PID > 0 && !multi {
		res.RSSAfter, _ = readRSS(tgt.PID)
		if res.RSSBefore > 0 && res.RSSAfter > 0 && res.Connected > 0 {
			res.RSSPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(res.Connected)
		}
	}
	if stBefore.HeapInuse > 0 && res.Connected > 0 {
		if stAfter, err := fetchStats(ctx, tgt.Base); err == nil {
			res.HeapPerConn = float64(stAfter.HeapInuse-stBefore.HeapInuse) / float64(res.Connected)
			res.GoroutinesPerConn = float64(stAfter.Goroutines-stBefore.Goroutines) / float64(res.Connected)
		}
	}

	call(h.connected)
	if sc.Rate > 0 {
		call(h.sending)
		err := run.sendAndDrain(ctx, receivers, res)
		call(h.drained)
		if err != nil {
			return nil, err
		}
	}
	run.closeAll(receivers)
	run.collect(receivers, res)
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeAll ends every receiver and waits for their read loops. Idempotent.
func (run *loadRun) closeAll(rs []*receiver) {
	run.closing.Store(true)
	for _, r := range rs {
		_ = r.conn.Close()
	}
	run.wg.Wait()
}

// wsURL is the websocket of instance i (round robin over the instances).
func (run *loadRun) wsURL(i int) string {
	return "ws" + strings.TrimPrefix(run.inst[i%len(run.inst)].Base, "http") + "/ws"
}

// senders is the number of sending connections: the scenario's own count or
// --senders, and at least one per instance when there are several (each
// instance sends and receives).
func (run *loadRun) senders() int {
	n := max(run.set.Senders, 1)
	if run.sc.Senders > 0 {
		n = run.sc.Senders
	}
	if len(run.inst) > 1 {
		n = max(n, len(run.inst))
	}
	return n
}

func (run *loadRun) header(i int, cookie string) http.Header {
	h := http.Header{}
	// Each instance accepts only its own public URL's origin.
	h.Set("Origin", run.inst[i%len(run.inst)].Base)
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return h
}

// connectAll opens N subscribers, Dialers at a time; each counts as connected
// once its "subscribed" frame arrived. Failures are counted, not fatal,
// unless nothing connects.
func (run *loadRun) connectAll(ctx context.Context, res *Result) ([]*receiver, error) {
	var (
		mu    sync.Mutex
		rs    = make([]*receiver, 0, run.sc.N)
		times = make([]time.Duration, 0, run.sc.N)
	)
	idx := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range min(run.set.Dialers, run.sc.N) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				r, d, err := run.dialReceiver(ctx, i)
				mu.Lock()
				if err != nil {
					res.ConnectErrors++
					if res.FirstConnectError == "" {
						res.FirstConnectError = err.Error()
					}
				} else {
					rs = append(rs, r)
					times = append(times, d)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range run.sc.N {
		if ctx.Err() != nil {
			break
		}
		idx <- i
	}
	close(idx)
	wg.Wait()
	res.ConnectTotal = time.Since(start)
	res.Connected = len(rs)
	slices.Sort(times)
	res.ConnectP50, res.ConnectP99 = pct(times, 50), pct(times, 99)
	if err := ctx.Err(); err != nil {
		return rs, err
	}
	if len(rs) == 0 {
		return rs, fmt.Errorf("%s: no subscriber connected: %s", run.tgt.Name, res.FirstConnectError)
	}
	return rs, nil
}

func (run *loadRun) dialReceiver(ctx context.Context, i int) (*receiver, time.Duration, error) {
	t0 := time.Now()
	cookie := ""
	if n := len(run.tgt.Receivers); n > 0 {
		cookie = run.tgt.Receivers[i%n]
	}
	conn, resp, err := run.dialer.DialContext(ctx, run.wsURL(i), run.header(i, cookie))
	if err != nil {
		if resp != nil {
			return nil, 0, fmt.Errorf("dial: %w (status %d)", err, resp.StatusCode)
		}
		return nil, 0, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	r := &receiver{conn: conn, inst: i % len(run.inst), subscribed: make(chan error, 1),
		lat: make([]uint32, 0, run.expect+16), seen: make([]uint64, run.expect/64+2)}
	sub := fmt.Appendf(nil, `{"type":"subscribe","topic":"meeting:%d","since_seq":0}`, run.tgt.MeetingID)
	// Written before the read loop starts: then no write can race the loop's
	// automatic pong replies.
	if err := conn.WriteMessage(websocket.TextMessage, sub); err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("subscribe: %w", err)
	}
	run.wg.Add(1)
	go r.loop(run)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case err := <-r.subscribed:
		if err != nil {
			conn.Close()
			return nil, 0, fmt.Errorf("subscribe: %w", err)
		}
	case <-t.C:
		conn.Close()
		return nil, 0, errors.New("subscribe: no answer within 30s")
	case <-ctx.Done():
		conn.Close()
		return nil, 0, ctx.Err()
	}
	return r, time.Since(t0), nil
}

// receiver is one subscriber. Everything but subscribed is touched only by
// its read loop until the loop has ended (run.wg), so nothing needs a lock.
type receiver struct {
	conn       *websocket.Conn
	inst       int        // the instance it is connected to
	subscribed chan error // one value: nil on "subscribed", the failure otherwise
	subDone    bool

	buf []byte
	// Send→receive latencies, microseconds: lat of messages sent on this
	// receiver's instance (all of them with one instance), latCross of those
	// sent on another.
	lat        []uint32
	latCross   []uint32
	seen       []uint64 // bitset of received seqs
	lastSeq    int64
	received   int64 // distinct chat messages
	dups       int64
	disorder   int64
	frameBytes int64
	lastAt     int64 // unix nanoseconds of the last chat message
	dropErr    error // the error that ended a connection we did not close
}

func (r *receiver) loop(run *loadRun) {
	defer run.wg.Done()
	for {
		frame, err := r.next()
		if err != nil {
			if !r.subDone {
				r.subDone = true
				r.subscribed <- err
			} else if !run.closing.Load() {
				r.dropErr = err
			}
			return
		}
		r.handle(run, frame, time.Now().UnixNano())
	}
}

// next reads one message into the receiver's reusable buffer: at 100k frames
// a second, allocating each one would make the client's garbage collector a
// noticeable part of the machine's load.
func (r *receiver) next() ([]byte, error) {
	_, rd, err := r.conn.NextReader()
	if err != nil {
		return nil, err
	}
	r.buf = r.buf[:0]
	for {
		if len(r.buf) == cap(r.buf) {
			r.buf = append(r.buf, 0)[:len(r.buf)]
		}
		n, err := rd.Read(r.buf[len(r.buf):cap(r.buf)])
		r.buf = r.buf[:len(r.buf)+n]
		if err == io.EOF {
			return r.buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

var (
	keyType = []byte(`"type":"`)
	keySeq  = []byte(`"seq":`)
	keyBody = []byte(`"body":"t=`)
)

func (r *receiver) handle(run *loadRun, frame []byte, now int64) {
	switch string(frameType(frame)) {
	case "chat.message":
		seq, sentAt, from, ok := parseChat(frame)
		if !ok || seq <= 0 || seq > 1<<24 {
			run.badFrames.Add(1)
			return
		}
		r.frameBytes += int64(len(frame))
		w := int(seq >> 6)
		if w >= len(r.seen) {
			r.seen = append(r.seen, make([]uint64, w-len(r.seen)+1)...)
		}
		if r.seen[w]&(1<<(seq&63)) != 0 {
			r.dups++
			return
		}
		r.seen[w] |= 1 << (seq & 63)
		if seq != r.lastSeq+1 {
			r.disorder++ // a gap, or a seq below one already seen
		}
		r.lastSeq = max(r.lastSeq, seq)
		r.received++
		r.lastAt = now
		if seq < int64(len(run.perSeq)) {
			run.perSeq[seq].Add(1)
		}
		us := uint32(0)
		if d := (now - sentAt) / 1e3; d > 0 {
			us = uint32(min(d, 1<<32-1))
		}
		if from >= 0 && from != r.inst {
			r.latCross = append(r.latCross, us)
		} else {
			r.lat = append(r.lat, us)
		}
	case "subscribed":
		if !r.subDone {
			// Live messages follow the subscribed frame's seq.
			r.lastSeq, _ = intAfter(frame, keySeq)
			r.subDone = true
			r.subscribed <- nil
		}
	case "error":
		if !r.subDone {
			r.subDone = true
			r.subscribed <- fmt.Errorf("error frame %s", truncate(string(frame), 200))
		}
	}
}

// frameType returns the value of the first "type" key: both servers write
// it first (it is the first field of every frame struct).
func frameType(b []byte) []byte {
	i := bytes.Index(b, keyType)
	if i < 0 {
		return nil
	}
	b = b[i+len(keyType):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return nil
	}
	return b[:j]
}

// parseChat finds message.seq, the sender's timestamp and the instance it
// was sent on in message.body ("t=<unixnano> #k", or "t=<unixnano>/<instance>
// #k" with several instances; from is -1 without one) without decoding the
// frame; the only "seq" key of a chat.message frame is the message's. It
// falls back to a full decode if the shortcut fails (a field order change,
// say).
func parseChat(frame []byte) (seq, sentAt int64, from int, ok bool) {
	seq, ok1 := intAfter(frame, keySeq)
	if i := bytes.Index(frame, keyBody); ok1 && i >= 0 {
		if sentAt, from, ok := parseStamp(frame[i+len(keyBody):]); ok {
			return seq, sentAt, from, true
		}
	}
	var f struct {
		Message struct {
			Seq  int64  `json:"seq"`
			Body string `json:"body"`
		} `json:"message"`
	}
	if json.Unmarshal(frame, &f) != nil {
		return 0, 0, -1, false
	}
	body, ok := strings.CutPrefix(f.Message.Body, "t=")
	if !ok {
		return 0, 0, -1, false
	}
	if sentAt, from, ok := parseStamp([]byte(body)); ok {
		return f.Message.Seq, sentAt, from, true
	}
	return 0, 0, -1, false
}

// parseStamp reads "<unixnano>" or "<unixnano>/<instance>" at the start of b.
func parseStamp(b []byte) (sentAt int64, from int, ok bool) {
	sentAt, n := leadingInt(b)
	if n == 0 {
		return 0, -1, false
	}
	from = -1
	if rest := b[n:]; len(rest) > 1 && rest[0] == '/' {
		if v, m := leadingInt(rest[1:]); m > 0 {
			from = int(v)
		}
	}
	return sentAt, from, true
}

// stamp is the start of a chat body the receivers parse: the send time and,
// with several instances (from ≥ 0), the instance it is sent on.
func stamp(ts int64, from int) string {
	s := "t=" + strconv.FormatInt(ts, 10)
	if from >= 0 {
		s += "/" + strconv.Itoa(from)
	}
	return s
}

func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	n, d := leadingInt(b[i+len(key):])
	return n, d > 0
}

// leadingInt parses the decimal digits at the start of b and says how many
// there were.
func leadingInt(b []byte) (int64, int) {
	var n int64
	d := 0
	for ; d < len(b) && b[d] >= '0' && b[d] <= '9'; d++ {
		n = n*10 + int64(b[d]-'0')
	}
	return n, d
}

// sender is the sending side: one connection by default (--senders), as the
// staff account, which is exempt from the chat rate limit. It does not wait
// for an ack before the next send; a goroutine per connection reads the acks.
type sender struct {
	mu        sync.Mutex
	sentAt    map[string]int64 // client_id → unix nanoseconds
	ackLat    []time.Duration
	ackedSeqs []int64
	errs      map[string]int
	done      atomic.Int64 // acks + errors
	frozen    bool         // after the drain: later acks are not counted
}

func (run *loadRun) sendAndDrain(ctx context.Context, rs []*receiver, res *Result) error {
	s := &sender{sentAt: make(map[string]int64, run.expect), errs: map[string]int{}}
	conns := make([]*websocket.Conn, 0, run.senders())
	var readers sync.WaitGroup
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}()
	for j := range run.senders() {
		// Sender connection j is on instance j mod K, like the receivers.
		conn, resp, err := run.dialer.DialContext(ctx, run.wsURL(j), run.header(j, run.tgt.Sender))
		if err != nil {
			if resp != nil {
				return fmt.Errorf("%s: dial sender: %w (status %d)", run.tgt.Name, err, resp.StatusCode)
			}
			return fmt.Errorf("%s: dial sender: %w", run.tgt.Name, err)
		}
		conns = append(conns, conn)
		readers.Add(1)
		go func() { defer readers.Done(); s.readAcks(conn) }()
	}

	cpu0 := sampleCPU(run.tgt.PID)
	if run.meter != nil {
		run.meter.begin(ctx, run.set.Duration)
	}
	interval := time.Second / time.Duration(run.sc.Rate)
	start := time.Now()
	var firstSend int64
	for k := range run.expect {
		// Paced by schedule, not by a ticker: a late send is followed by the
		// next one at once, so the offered rate holds even if the sender is
		// briefly starved of CPU.
		due := start.Add(time.Duration(k) * interval)
		if err := sleep(ctx, time.Until(due)); err != nil {
			return err
		}
		res.SendLag = max(res.SendLag, time.Since(due))
		cid := uuid.NewString()
		ts := time.Now().UnixNano()
		if k == 0 {
			firstSend = ts
		}
		from := -1
		if len(run.inst) > 1 {
			from = (k % len(conns)) % len(run.inst)
		}
		frame, _ := json.Marshal(map[string]any{"type": "chat.send", "meeting_id": run.tgt.MeetingID, "client_id": cid,
			"body": stamp(ts, from) + " #" + strconv.Itoa(k)})
		s.mu.Lock()
		s.sentAt[cid] = ts
		s.mu.Unlock()
		// Round robin over the sender connections: the server handles each
		// connection's frames one after the other.
		conn := conns[k%len(conns)]
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			return fmt.Errorf("%s: send: %w", run.tgt.Name, err)
		}
		res.Sent++
	}
	if run.meter != nil {
		run.meter.sendingDone(ctx)
	}

	// Drain: until every sent message is answered and every acked one reached
	// every subscriber, or the drain time is up. Then the acks are frozen:
	// what was acked by then and has not arrived after a short grace is lost
	// (the grace keeps a message acked in the drain's last instant from
	// counting as lost; one still unacked counts only as not acked).
	waitDelivered := func(until time.Time, needAcks bool) error {
		for time.Now().Before(until) {
			s.mu.Lock()
			done := run.allDelivered(s.ackedSeqs, len(rs))
			s.mu.Unlock()
			if done && (!needAcks || s.done.Load() == int64(res.Sent)) {
				return nil
			}
			if err := sleep(ctx, 10*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	}
	if err := waitDelivered(time.Now().Add(run.set.Drain), true); err != nil {
		return err
	}
	cpu1 := sampleCPU(run.tgt.PID)
	res.ServerCPU, res.ClientCPU, res.MachineCPU = cpu1.since(cpu0)
	if run.meter != nil {
		run.meter.end(ctx)
	}
	s.mu.Lock()
	s.frozen = true
	res.Acked = len(s.ackedSeqs)
	s.mu.Unlock()
	if err := waitDelivered(time.Now().Add(ackGrace), false); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		res.SendErrors = s.errs
	}
	slices.Sort(s.ackLat)
	res.AckP50, res.AckP99 = pct(s.ackLat, 50), pct(s.ackLat, 99)
	run.ackedSeqs = slices.Clone(s.ackedSeqs)
	run.firstSend = firstSend
	return nil
}

// allDelivered reports whether every acked seq reached n subscribers.
func (run *loadRun) allDelivered(acked []int64, n int) bool {
	for _, seq := range acked {
		if seq <= 0 || seq >= int64(len(run.perSeq)) || int(run.perSeq[seq].Load()) < n {
			return false
		}
	}
	return true
}

// ackGrace is how long a message acked at the end of the drain may still take
// to reach every subscriber before it counts as lost.
const ackGrace = time.Second

// Answer is what a sender reads back for one of its sends: a chat.ack (with
// the stored seq) or an error naming the send's client_id in ref.
type Answer struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	Seq      int64  `json:"seq"`
	Code     string `json:"code"`
	Ref      string `json:"ref"`
}

// ParseAnswer decodes a frame a sender reads; ok is false for one that is
// not JSON.
func ParseAnswer(data []byte) (Answer, bool) {
	var f Answer
	if json.Unmarshal(data, &f) != nil {
		return Answer{}, false
	}
	return f, true
}

func (s *sender) readAcks(conn *websocket.Conn) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		f, ok := ParseAnswer(data)
		if !ok {
			continue
		}
		switch f.Type {
		case "chat.ack":
			s.mu.Lock()
			if t, ok := s.sentAt[f.ClientID]; ok && !s.frozen {
				delete(s.sentAt, f.ClientID)
				s.ackLat = append(s.ackLat, time.Duration(now-t))
				s.ackedSeqs = append(s.ackedSeqs, f.Seq)
				s.done.Add(1)
			}
			s.mu.Unlock()
		case "error":
			s.mu.Lock()
			if _, ok := s.sentAt[f.Ref]; ok {
				delete(s.sentAt, f.Ref)
				s.errs[f.Code]++
				s.done.Add(1)
			}
			s.mu.Unlock()
		}
	}
}

// collect turns the receivers' records into the result. Call after closeAll.
func (run *loadRun) collect(rs []*receiver, res *Result) {
	res.BadFrames = run.badFrames.Load()
	for _, r := range rs {
		if r.dropErr != nil {
			res.Dropped++
			if res.DropReasons == nil {
				res.DropReasons = map[string]int{}
			}
			reason := "connection ended"
			var ce *websocket.CloseError
			if errors.As(r.dropErr, &ce) {
				reason = "close " + strconv.Itoa(ce.Code)
			}
			res.DropReasons[reason]++
		}
	}
	if run.sc.Rate == 0 {
		return
	}
	var lat, same, cross []uint32
	var lastAt, frames, bytes int64
	for _, r := range rs {
		same = append(same, r.lat...)
		cross = append(cross, r.latCross...)
		lastAt = max(lastAt, r.lastAt)
		frames += r.received + r.dups
		bytes += r.frameBytes
		res.Duplicates += r.dups
		res.OutOfOrder += r.disorder
		for _, seq := range run.ackedSeqs {
			w := int(seq >> 6)
			if seq > 0 && w < len(r.seen) && r.seen[w]&(1<<(seq&63)) != 0 {
				res.Received++
			}
		}
	}
	res.Expected = int64(len(run.ackedSeqs)) * int64(len(rs))
	res.Lost = res.Expected - res.Received
	if frames > 0 {
		res.FrameBytes = float64(bytes) / float64(frames)
	}
	if lastAt > run.firstSend && run.firstSend > 0 {
		res.DeliveriesPerSec = float64(res.Received) / (float64(lastAt-run.firstSend) / 1e9)
	}
	lat = append(append(lat, same...), cross...)
	slices.Sort(lat)
	if len(run.inst) > 1 {
		res.Scale = &ScaleFigures{Instances: len(run.inst), Latency: splitLatencies(same, cross)}
		if run.meter != nil {
			run.meter.fill(res)
		}
	}
	us := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return time.Duration(lat[pctIndex(len(lat), p)]) * time.Microsecond
	}
	res.P50, res.P99, res.Max = us(50), us(99), us(100)
}

// pctIndex is the nearest-rank index of the p-th percentile in n sorted values.
func pctIndex(n int, p float64) int {
	i := int(float64(n)*p/100+0.999999) - 1
	return min(max(i, 0), n-1)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[pctIndex(len(sorted), p)]
}
