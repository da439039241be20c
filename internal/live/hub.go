// Package live is the websocket side of the forum (SPEC §5): a hub of topics
// (meeting:ID, thread:ID, group:ID and each user's own), the connections that
// follow them, and the PostgreSQL LISTEN/NOTIFY bridge between instances.
//
// The database is the only source of what gets delivered. A service that
// commits a change tells the hub "topic T changed, its log is at seq N" (a
// hint, through topic.Announcer after its unit of work commits); the hub of every instance then reads what it
// has not yet delivered from the database and sends it to its subscribers,
// encoded once. Because a meeting's seq is gap-free and in commit order, a
// topic that always reads "seq > last delivered" can neither skip nor repeat a
// message, however hints are lost, duplicated or coalesced.
//
// The package knows nothing of HTTP: the web layer upgrades the request and
// hands the socket to Serve.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/reviews"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
	"github.com/gwd-jst/forumjst/internal/tournament"
)

// Settings tune the hub; zero values take the defaults.
type Settings struct {
	// QueueFrames bounds each connection's outgoing queue; a subscriber that
	// falls this far behind is closed with 4008 (default 512).
	QueueFrames int
	// RingFrames is how many recent log frames a topic keeps so a subscriber
	// finishing its replay can catch up without another query (default 256).
	RingFrames int
	// SafetyPoll re-reads every active topic this often, in case a hint was
	// lost while the database was unreachable (default 30 s).
	SafetyPoll time.Duration
	// PingEvery is the websocket ping interval; a peer silent for 2.5× this is
	// dropped (default 25 s).
	PingEvery time.Duration
	// RecheckSession re-validates each connection's session this often
	// (default 2 min), so a logout or a lost membership ends live access too.
	RecheckSession time.Duration
}

func (s *Settings) defaults() {
	if s.QueueFrames <= 0 {
		s.QueueFrames = 512
	}
	if s.RingFrames <= 0 {
		s.RingFrames = 256
	}
	if s.SafetyPoll <= 0 {
		s.SafetyPoll = 30 * time.Second
	}
	if s.PingEvery <= 0 {
		s.PingEvery = 25 * time.Second
	}
	if s.RecheckSession <= 0 {
		s.RecheckSession = 2 * time.Minute
	}
}

// Deps are the hub's collaborators.
type Deps struct {
	DB       *sqlx.DB
	DSN      string // for the LISTEN connection; empty disables the bridge
	Log      *slog.Logger
	Meetings *meetings.Service
	Forum    *forum.Service
	Notify   *notify.Service
	Notes    *notes.Service
	// Tournaments serves tournament:ID (nil: the topic is not followed).
	Tournaments *tournament.Service
	Reviews     *reviews.Service
	Registry    prometheus.Registerer
	Settings    Settings
}

// Hub holds this instance's topics and connections.
type Hub struct {
	db       *sqlx.DB
	log      *slog.Logger
	meetings *meetings.Service
	notify   *notify.Service
	set      Settings
	feeds    map[string]feed
	instance string // identifies this process in live_presence
	bridge   *bridge
	metrics  *hubMetrics

	ctx    context.Context // ends when the hub closes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	topics   map[string]*topicState
	conns    map[*Conn]struct{}
	users    map[int64]map[*Conn]struct{}
	presence map[string]map[int64]int // topic → user → connections here
	pushed   map[int64][]int64        // user → notification ids pushed lately
	pending  map[int64][]int64        // user → notification ids waiting for their pusher
	closed   bool

	// Presence rows to write (see writePresence): the (topic, user) pairs
	// whose count crossed zero since the last write, under mu; one writer
	// goroutine runs while any wait (presenceWriting).
	presenceDue     map[presenceKey]struct{}
	presenceWriting bool
	presenceIdle    sync.WaitGroup // the writer's run, for Close

	// afterReplay, when set (tests only), runs between a subscriber's replay
	// and its joining the live stream: the window the ring exists to bridge.
	afterReplay func(topic string)
	// trace, when set (benchmarks only), is told when a log entry passes a
	// stage of its way between instances (see the stage constants).
	trace atomic.Pointer[traceFunc]
}

// traceFunc is told when a log entry passes a stage (benchmarks only).
type traceFunc func(stage, topic string, seq int64)

// New builds a hub; Start begins its background work.
func New(d Deps) *Hub {
	d.Settings.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		db: d.DB, log: d.Log, meetings: d.Meetings, notify: d.Notify, set: d.Settings,
		instance: uuid.NewString(), metrics: newHubMetrics(d.Registry),
		ctx: ctx, cancel: cancel,
		topics: map[string]*topicState{}, conns: map[*Conn]struct{}{},
		users: map[int64]map[*Conn]struct{}{}, presence: map[string]map[int64]int{}, presenceDue: map[presenceKey]struct{}{}, pushed: map[int64][]int64{}, pending: map[int64][]int64{},
	}
	h.feeds = map[string]feed{
		topic.Meeting: meetingFeed{h: h},
		topic.Thread:  threadFeed{db: d.DB, forum: d.Forum},
		topic.Group:   groupFeed{db: d.DB, forum: d.Forum},
		topic.Note:    noteFeed{h: h, notes: d.Notes},
		topic.Section: sectionFeed{db: d.DB, reviews: d.Reviews},
	}
	if d.Tournaments != nil {
		h.feeds[topic.Tournament] = tournamentFeed{svc: d.Tournaments}
	}
	if d.DSN != "" {
		h.bridge = newBridge(d.DSN, d.Log, h)
	}
	return h
}

// Start runs the LISTEN bridge and the periodic safety poll until Close.
func (h *Hub) Start() {
	if h.bridge != nil {
		h.wg.Add(2)
		go func() { defer h.wg.Done(); h.bridge.listen(h.ctx) }()
		go func() { defer h.wg.Done(); h.bridge.send(h.ctx) }()
	}
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.housekeeping() }()
}

// Close ends every connection with 1001 (clients reconnect, possibly to another
// instance), stops background work and removes this instance's presence.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.close(closeGoingAway, "server shutting down")
	}
	for _, c := range conns {
		<-c.finished
	}
	h.presenceIdle.Wait() // the last leaves are written before the clear below
	h.cancel()
	h.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.ClearPresence(ctx, h.db, h.instance); err != nil {
		h.log.Warn("clear presence at shutdown", "err", err)
	}
}

// Announce implements topic.Announcer for the services' committed units of
// work: each change goes to this instance's topic at once and to the other
// instances through NOTIFY; each revocation re-checks the user's connections
// here and on every other instance.
func (h *Hub) Announce(_ context.Context, ev topic.Events) {
	for _, c := range ev.Changes {
		h.changed(c.Topic, c.Seq)
	}
	for _, r := range ev.Revocations {
		h.revokeEverywhere(r.UserID, r.SessionsEnded)
	}
}

// changed announces that a topic changed here and on the other instances.
func (h *Hub) changed(name string, seq int64) {
	h.hint(name, seq, seq == 0)
	if h.bridge != nil {
		h.bridge.publish(name, seq, seq == 0)
	}
}

// ChatMessages implements meetings.Announcer: messages committed on this
// instance go to its own subscribers at once, without a read back from the
// database (one round trip less, and under a fan-out each round trip waits
// behind the writers). A statement's messages are delivered together: each
// subscriber gets them with one offer, so its writer wakes once and writes
// them with one call (issue 16: a commit carrying 10 messages was released
// one message at a time, 10 passes over the subscribers, each waking up to
// every connection's writer). When they do not follow on from what the
// topic delivered (a message committed just before them has not been
// announced yet), the topic reads the database as for any hint. Other
// instances get one hint per topic, first: the fan-out here starts a writer
// goroutine per subscriber, and a hint queued after it waited for them to be
// scheduled (~1 ms of a cross-instance delivery's ~3.5 ms at 300
// subscribers an instance).
func (h *Hub) ChatMessages(_ context.Context, ms []meetings.Message) {
	for len(ms) > 0 {
		n := 1
		for n < len(ms) && ms[n].MeetingID == ms[0].MeetingID {
			n++
		}
		h.chatMessages(ms[:n])
		ms = ms[n:]
	}
}

// chatMessages delivers messages of one meeting, in seq order.
func (h *Hub) chatMessages(ms []meetings.Message) {
	name := topic.Name(topic.Meeting, ms[0].MeetingID)
	for _, m := range ms {
		h.traced(stageAnnounce, name, m.Seq)
	}
	if h.bridge != nil {
		h.bridge.publish(name, ms[len(ms)-1].Seq, false)
	}
	if t := h.topic(name); t != nil {
		frames := make([]logFrame, len(ms))
		for i, m := range ms {
			frames[i] = logFrame{seq: m.Seq, frame: encode(chatMessageFrame{Type: "chat.message", Topic: name, Message: m})}
		}
		if !t.deliverCommitted(frames) {
			t.wakeLog()
		}
	}
	for _, m := range ms {
		h.traced(stageLocal, name, m.Seq)
	}
}

// Stages of a chat message's way to another instance, for Hub.trace.
const (
	stageAnnounce  = "announce"  // A: the writer announces a committed message
	stageLocal     = "local"     // A: queued to A's subscribers
	stageNotify    = "notify"    // A: the NOTIFY statement starts
	stageNotified  = "notified"  // A: … and returned
	stageHeard     = "heard"     // B: the listener got the notification
	stageRead      = "read"      // B: the log read starts (seq: the last delivered)
	stageReadDone  = "read_done" // B: … and returned (seq: the newest read)
	stageDelivered = "delivered" // B: queued to B's subscribers (seq: the newest)
)

func (h *Hub) traced(stage, name string, seq int64) {
	if fn := h.trace.Load(); fn != nil {
		(*fn)(stage, name, seq)
	}
}

// revokeEverywhere: after an account change committed, the user's
// connections on every instance re-check their session at once, not at their
// next periodic re-check (issue 10 item 5). Those whose session is gone close
// with 4001; the others act with the user's rights as of now and drop the
// topics they may no longer read.
func (h *Hub) revokeEverywhere(userID int64, sessionsEnded bool) {
	h.revoke(userID, sessionsEnded)
	if h.bridge != nil {
		h.bridge.publishRevoke(userID, sessionsEnded)
	}
}

// revoke re-checks a user's connections on this instance, each on its own
// goroutine: the caller (a request, the listener) must not wait for queries.
func (h *Hub) revoke(userID int64, sessionsEnded bool) {
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.users[userID]))
	for c := range h.users[userID] {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.revoked.Add(1) // before the caller answers: the next send re-checks
		go c.recheck(sessionsEnded, false)
	}
}

// recheckAll re-checks every connection's session, one at a time so that a
// listener reconnect does not turn into a burst of queries.
func (h *Hub) recheckAll() {
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		if h.ctx.Err() != nil {
			return
		}
		c.recheckSession(false)
	}
}

func (h *Hub) topic(name string) *topicState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.topics[name]
}

// hint wakes a topic that this instance follows: its log loop when seq is newer
// than what it delivered, its state loop when state changed.
func (h *Hub) hint(name string, seq int64, state bool) {
	if kind, userID, err := topic.Parse(name); err == nil && kind == topic.User {
		h.push(userID, seq)
		return
	}
	t := h.topic(name)
	if t == nil {
		return
	}
	if seq > t.latest.Load() {
		t.wakeLog()
	}
	if state {
		t.wakeState()
	}
}

// refreshAll re-reads every active topic: after the listener reconnected
// (notifications may have been missed) and periodically as a safety net.
func (h *Hub) refreshAll() {
	h.mu.Lock()
	ts := make([]*topicState, 0, len(h.topics))
	for _, t := range h.topics {
		ts = append(ts, t)
	}
	h.mu.Unlock()
	for _, t := range ts {
		t.wakeLog()
		t.wakeState()
	}
}

func (h *Hub) housekeeping() {
	tick := time.NewTicker(h.set.SafetyPoll)
	defer tick.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
		// Entries of an instance that has not refreshed for four polls are
		// gone (it crashed); Present only counts entries of the last two.
		if err := store.TouchPresence(ctx, h.db, h.instance, time.Now().Add(-4*h.set.SafetyPoll)); err != nil {
			h.log.Warn("refresh presence", "err", err)
		}
		cancel()
		h.refreshAll()
	}
}

// acquire returns the topic, creating it (and its loops) on first use. Every
// acquire is paired with a release.
func (h *Hub) acquire(name, kind string, id int64) *topicState {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[name]
	if t == nil {
		t = newTopic(h, name, kind, id, h.feeds[kind])
		h.topics[name] = t
		h.metrics.topics.Inc()
		t.start()
	}
	t.refs++
	return t
}

func (h *Hub) release(t *topicState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t.refs--
	if t.refs == 0 {
		delete(h.topics, t.name)
		h.metrics.topics.Dec()
		t.stop()
	}
}

func (h *Hub) register(c *Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	uid := c.actor().UserID
	if h.users[uid] == nil {
		h.users[uid] = map[*Conn]struct{}{}
	}
	h.users[uid][c] = struct{}{}
	h.metrics.conns.Inc()
	return true
}

func (h *Hub) unregister(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	uid := c.actor().UserID
	delete(h.users[uid], c)
	if len(h.users[uid]) == 0 {
		delete(h.users, uid)
		delete(h.pushed, uid)
	}
	h.metrics.conns.Dec()
}

// toUser sends a frame to every connection of a user on this instance (their
// own notifications arrive without subscribing).
func (h *Hub) toUser(userID int64, frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.users[userID] {
		if !c.offer(frame) {
			c.close(closeTooSlow, "too slow")
		}
	}
}

type notificationFrame struct {
	Type         string              `json:"type"`
	Notification notify.Notification `json:"notification"`
}

// push sends a user's new notification to their connections here, once: the
// local hint and its NOTIFY echo both arrive. A user's notifications go out
// in the order they were made: one pusher per user drains their queue, oldest
// id first, so "meeting scheduled" never overtakes "meeting started".
func (h *Hub) push(userID, id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, here := h.users[userID]
	if !here || slices.Contains(h.pushed[userID], id) || h.notify == nil {
		return
	}
	recent := append(h.pushed[userID], id)
	h.pushed[userID] = recent[max(0, len(recent)-32):]
	queue, running := h.pending[userID]
	h.pending[userID] = append(queue, id)
	if !running {
		go h.drainPushes(userID)
	}
}

// drainPushes reads and sends a user's queued notifications until the queue
// is empty; the entry in pending marks that a pusher is running.
func (h *Hub) drainPushes(userID int64) {
	for {
		h.mu.Lock()
		ids := h.pending[userID]
		if len(ids) == 0 {
			delete(h.pending, userID)
			h.mu.Unlock()
			return
		}
		h.pending[userID] = ids[:0:0]
		h.mu.Unlock()
		slices.Sort(ids)
		for _, id := range ids {
			h.pushOne(userID, id)
		}
	}
}

func (h *Hub) pushOne(userID, id int64) {
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	n, err := h.notify.ForPush(ctx, userID, id)
	if errors.Is(err, store.ErrNotFound) {
		return // its target is no longer readable by the recipient: nothing to push
	}
	if err != nil {
		h.log.Warn("live notification", "user", userID, "notification", id, "err", err)
		return
	}
	h.toUser(userID, encode(notificationFrame{Type: "notification", Notification: n}))
}

// joined and left keep this instance's presence rows: one per (topic, user)
// however many tabs, written when the first tab arrives and the last one goes.
func (h *Hub) joined(name string, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.presence[name] == nil {
		h.presence[name] = map[int64]int{}
	}
	h.presence[name][userID]++
	if h.presence[name][userID] == 1 {
		h.presenceChangedLocked(name, userID)
	}
}

func (h *Hub) left(name string, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presence[name][userID]--
	if h.presence[name][userID] == 0 {
		delete(h.presence[name], userID)
		if len(h.presence[name]) == 0 {
			delete(h.presence, name)
		}
		h.presenceChangedLocked(name, userID)
	}
}

type presenceKey struct {
	topic  string
	userID int64
}

// presenceChangedLocked marks a (topic, user) row to be written and starts
// the writer if none runs. Called with h.mu held.
func (h *Hub) presenceChangedLocked(name string, userID int64) {
	h.presenceDue[presenceKey{name, userID}] = struct{}{}
	if !h.presenceWriting {
		h.presenceWriting = true
		h.presenceIdle.Add(1)
		go h.writePresence()
	}
}

// writePresence writes the due presence rows in batches: everything that
// changed while one statement ran goes into the next (issue 16: a room
// filling up was one serialized round trip per person). Each row is written
// as the count says at the moment the batch is taken, not as the change that
// marked it said, so a join and a leave racing each other cannot leave a
// stale row: the last batch to touch a row writes its current truth. Each
// topic whose rows were written is announced once per batch.
func (h *Hub) writePresence() {
	defer h.presenceIdle.Done()
	for {
		h.mu.Lock()
		if len(h.presenceDue) == 0 {
			h.presenceWriting = false
			h.mu.Unlock()
			return
		}
		var joins, leaves []store.PresenceEntry
		topics := map[string]bool{}
		for k := range h.presenceDue {
			e := store.PresenceEntry{Topic: k.topic, UserID: k.userID}
			if h.presence[k.topic][k.userID] > 0 {
				joins = append(joins, e)
			} else {
				leaves = append(leaves, e)
			}
			topics[k.topic] = true
		}
		clear(h.presenceDue)
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := store.WritePresence(ctx, h.db, h.instance, joins, leaves)
		cancel()
		if err != nil {
			h.log.Warn("write presence", "joins", len(joins), "leaves", len(leaves), "err", err)
			continue
		}
		for name := range topics {
			h.changed(name, 0)
		}
	}
}

// present lists the people on a topic. Entries of the last two refresh rounds
// count: a crashed instance's people leave within a minute.
func (h *Hub) present(ctx context.Context, name string) ([]store.PresentUser, error) {
	return store.Present(ctx, h.db, name, time.Now().Add(-2*h.set.SafetyPoll-5*time.Second))
}

// encode marshals a frame once; every subscriber gets the same bytes.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Frames are plain structs of strings and numbers; failing here is a bug.
		panic("live: encode frame: " + err.Error())
	}
	return b
}

type hubMetrics struct {
	conns, topics prometheus.Gauge
	frames        prometheus.Counter
	slowCloses    prometheus.Counter
	hintsIn       prometheus.Counter
	notifies      prometheus.Counter
	logReads      prometheus.Counter
	// A fan-out's writes: done at once by the fan-out, or handed to a
	// writer goroutine because the socket would block (see fanOut).
	directWrites, handOffs prometheus.Counter
}

func newHubMetrics(reg prometheus.Registerer) *hubMetrics {
	m := &hubMetrics{
		conns:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "forumjst_live_connections", Help: "Open websocket connections."}),
		topics:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "forumjst_live_topics", Help: "Topics with at least one subscriber on this instance."}),
		frames:       prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_frames_queued_total", Help: "Frames queued to websocket connections."}),
		slowCloses:   prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_slow_closes_total", Help: "Connections closed with 4008 because their queue was full."}),
		hintsIn:      prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_notifications_received_total", Help: "NOTIFY hints received from PostgreSQL."}),
		notifies:     prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_notify_statements_total", Help: "NOTIFY statements sent (hints are coalesced)."}),
		logReads:     prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_log_reads_total", Help: "Reads of a topic's log from the database to deliver it (messages sent on this instance are delivered without one)."}),
		directWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_fanout_direct_writes_total", Help: "Socket writes a fan-out made itself, without waiting (the socket had room)."}),
		handOffs:     prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_live_fanout_handoffs_total", Help: "Connections a fan-out left to a writer goroutine (the socket would block, or the connection was closing)."}),
	}
	if reg != nil {
		reg.MustRegister(m.conns, m.topics, m.frames, m.slowCloses, m.hintsIn, m.notifies, m.logReads, m.directWrites, m.handOffs)
	}
	return m
}

var (
	_ topic.Announcer    = (*Hub)(nil)
	_ meetings.Announcer = (*Hub)(nil)
)
