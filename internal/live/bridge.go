package live

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Channel is the PostgreSQL NOTIFY channel every instance listens on.
const Channel = "forumjst_live"

// ListenerAppName is the application_name of the LISTEN connection (tests and
// operators find it in pg_stat_activity by this name).
const ListenerAppName = "forumjst-listen"

// hintPayload is all a notification carries (SPEC §5): a topic and its newest
// seq, never a body. State marks "re-read the topic's state" (status,
// presence, post count…), which has no seq.
type hintPayload struct {
	Topic string `json:"topic"`
	Seq   int64  `json:"seq"`
	State bool   `json:"state,omitempty"`
	// Revoke names a user whose open connections must re-check their session
	// at once (an account change, see Hub.Revoke); Topic is then empty. End
	// says every session of theirs ended. From is the sending instance,
	// which has already acted on it.
	Revoke int64  `json:"revoke,omitempty"`
	End    bool   `json:"end,omitempty"`
	From   string `json:"from,omitempty"`
}

// NotifierAppName is the application_name of the connection that sends the
// NOTIFY statements.
const NotifierAppName = "forumjst-notify"

// notifyStatement sends every queued hint in one statement.
const notifyStatement = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

// bridge carries hints between instances through LISTEN/NOTIFY.
type bridge struct {
	dsn string
	log *slog.Logger
	hub *Hub

	mu      sync.Mutex
	pending map[string]hintPayload
	wake    chan struct{}

	// The notify connection and its statement: send's alone (no lock),
	// opened when first needed and again after a failure broke it.
	notifyDB   *sql.DB
	notifyStmt *sql.Stmt
}

func newBridge(dsn string, log *slog.Logger, h *Hub) *bridge {
	return &bridge{dsn: dsn, log: log, hub: h, pending: map[string]hintPayload{}, wake: make(chan struct{}, 1)}
}

// publish queues a hint. Hints for one topic coalesce while a NOTIFY is in
// flight: only the newest seq matters, since receivers read everything after
// what they delivered.
func (b *bridge) publish(name string, seq int64, state bool) {
	b.mu.Lock()
	b.queueLocked(hintPayload{Topic: name, Seq: seq, State: state}, name)
	b.mu.Unlock()
	b.signal()
}

// publishRevoke queues a revocation for the other instances; several for
// one user coalesce like hints (an end wins over a re-check).
func (b *bridge) publishRevoke(userID int64, end bool) {
	key := "revoke:" + strconv.FormatInt(userID, 10) // never a topic name: those have no such kind
	b.mu.Lock()
	b.queueLocked(hintPayload{Revoke: userID, End: end, From: b.hub.instance}, key)
	b.mu.Unlock()
	b.signal()
}

// queueLocked merges a hint into the one queued under the same key.
func (b *bridge) queueLocked(h hintPayload, key string) {
	p := b.pending[key]
	p.Topic = h.Topic
	p.Seq = max(p.Seq, h.Seq)
	p.State = p.State || h.State
	if h.Revoke > 0 {
		p.Revoke, p.From = h.Revoke, h.From
		p.End = p.End || h.End
	}
	b.pending[key] = p
}

func (b *bridge) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// openNotifier opens the connection the NOTIFY statements go through: one of
// its own, not the pool, so a hint never waits for a pool connection behind
// the writers, and with synchronous_commit off. A NOTIFY is a transaction
// of its own (outside the writer's, SPEC §5) that PostgreSQL gives an xid,
// so with the default every hint waited for a WAL flush of a commit record
// that guards nothing: the messages it points at were flushed by the
// writer's commit before it, and a hint lost in a crash costs nothing, since
// the listeners reconnect and re-read every topic. database/sql replaces the
// connection when it breaks and prepares the statement again on the new one.
func (b *bridge) openNotifier(ctx context.Context) error {
	c, err := pq.NewConnector(withParams(b.dsn, map[string]string{
		"application_name": NotifierAppName, "synchronous_commit": "off"}))
	if err != nil {
		return fmt.Errorf("notify connection: %w", err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stmt, err := db.PrepareContext(pctx, notifyStatement)
	if err != nil {
		db.Close()
		return fmt.Errorf("prepare notify: %w", err)
	}
	b.notifyDB, b.notifyStmt = db, stmt
	return nil
}

// send runs NOTIFY for queued hints, all topics in one statement, after the
// writer's commit, never inside its transaction. Hints that could not be
// sent are queued again (merged with newer ones) and retried after a pause
// that grows while the database stays away: a message that was the last of
// its burst would otherwise reach the other instances only at their safety
// poll.
func (b *bridge) send(ctx context.Context) {
	pause := notifyRetryMin
	defer func() {
		if b.notifyDB != nil {
			b.notifyDB.Close()
		}
	}()
	// Connected before the first hint, which would otherwise wait for it.
	if err := b.openNotifier(ctx); err != nil && ctx.Err() == nil {
		b.log.Warn("live notify", "err", err) // the first hint tries again
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		}
		b.mu.Lock()
		batch := b.pending
		b.pending = map[string]hintPayload{}
		b.mu.Unlock()
		err := b.notify(ctx, batch)
		b.hub.metrics.notifies.Inc()
		if err == nil {
			pause = notifyRetryMin
			continue
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("live notify", "hints", len(batch), "retry_in", pause, "err", err)
		b.requeue(batch)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, notifyRetryMax)
		b.signal()
	}
}

// Pauses between attempts to send hints while NOTIFY fails.
const (
	notifyRetryMin = 10 * time.Millisecond
	notifyRetryMax = 2 * time.Second
)

// notify sends one batch of hints, opening the notify connection first if
// it is not open yet.
func (b *bridge) notify(ctx context.Context, batch map[string]hintPayload) error {
	if b.notifyDB == nil {
		if err := b.openNotifier(ctx); err != nil {
			return err
		}
	}
	payloads := make([]string, 0, len(batch))
	for _, p := range batch {
		raw, _ := json.Marshal(p)
		payloads = append(payloads, string(raw))
		b.hub.traced(stageNotify, p.Topic, p.Seq)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := b.notifyStmt.ExecContext(sctx, Channel, pq.Array(payloads)); err != nil {
		return fmt.Errorf("notify %d hints: %w", len(payloads), err)
	}
	for _, p := range batch {
		b.hub.traced(stageNotified, p.Topic, p.Seq)
	}
	return nil
}

// requeue puts back hints that were not sent; newer ones queued meanwhile
// merge with them.
func (b *bridge) requeue(batch map[string]hintPayload) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, p := range batch {
		b.queueLocked(p, key)
	}
}

// listen follows the channel. lib/pq reconnects by itself and then sends a nil
// notification: anything may have been missed, so every topic is re-read.
func (b *bridge) listen(ctx context.Context) {
	l := pq.NewListener(withAppName(b.dsn, ListenerAppName), 50*time.Millisecond, 2*time.Second,
		func(ev pq.ListenerEventType, err error) {
			switch ev {
			case pq.ListenerEventDisconnected:
				b.log.Warn("live listener disconnected", "err", err)
			case pq.ListenerEventReconnected:
				b.log.Info("live listener reconnected")
			case pq.ListenerEventConnectionAttemptFailed:
				b.log.Warn("live listener cannot connect", "err", err)
			}
		})
	defer l.Close()
	if err := l.Listen(Channel); err != nil {
		// The listener retries the connection itself; LISTEN is re-issued on
		// every reconnect.
		b.log.Warn("live listen", "err", err)
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n == nil {
				b.hub.refreshAll()
				// Revocations may have been missed too: every connection
				// re-checks its session now rather than at its next tick.
				go b.hub.recheckAll()
				continue
			}
			b.hub.metrics.hintsIn.Inc()
			var p hintPayload
			if err := json.Unmarshal([]byte(n.Extra), &p); err != nil {
				b.log.Warn("live hint", "payload", n.Extra, "err", err)
				continue
			}
			if p.Revoke > 0 {
				if p.From != b.hub.instance {
					b.hub.revoke(p.Revoke, p.End)
				}
				continue
			}
			b.hub.traced(stageHeard, p.Topic, p.Seq)
			b.hub.hint(p.Topic, p.Seq, p.State)
		case <-ping.C:
			// A dead TCP connection is only noticed when something is sent.
			go func() { _ = l.Ping() }()
		}
	}
}

// withAppName sets application_name in a URL or key=value connection string.
func withAppName(dsn, name string) string {
	return withParams(dsn, map[string]string{"application_name": name})
}

// withParams sets connection parameters in a URL or key=value connection
// string; lib/pq passes those it does not know itself (synchronous_commit)
// to the server as the session's settings.
func withParams(dsn string, params map[string]string) string {
	keys := slices.Sorted(maps.Keys(params))
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		for _, k := range keys {
			q.Set(k, params[k])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, k := range keys {
		dsn += " " + k + "=" + params[k]
	}
	return dsn
}
