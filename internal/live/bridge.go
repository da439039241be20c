package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
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

// bridge carries hints between instances through LISTEN/NOTIFY.
type bridge struct {
	db  *sqlx.DB
	dsn string
	log *slog.Logger
	hub *Hub

	mu      sync.Mutex
	pending map[string]hintPayload
	wake    chan struct{}
}

func newBridge(db *sqlx.DB, dsn string, log *slog.Logger, h *Hub) *bridge {
	return &bridge{db: db, dsn: dsn, log: log, hub: h, pending: map[string]hintPayload{}, wake: make(chan struct{}, 1)}
}

// publish queues a hint. Hints for one topic coalesce while a NOTIFY is in
// flight: only the newest seq matters, since receivers read everything after
// what they delivered.
func (b *bridge) publish(name string, seq int64, state bool) {
	b.mu.Lock()
	p := b.pending[name]
	p.Topic = name
	p.Seq = max(p.Seq, seq)
	p.State = p.State || state
	b.pending[name] = p
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// publishRevoke queues a revocation for the other instances; several for
// one user coalesce like hints (an end wins over a re-check).
func (b *bridge) publishRevoke(userID int64, end bool) {
	key := "revoke:" + strconv.FormatInt(userID, 10) // never a topic name: those have no such kind
	b.mu.Lock()
	p := b.pending[key]
	p.Revoke, p.From = userID, b.hub.instance
	p.End = p.End || end
	b.pending[key] = p
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// send runs NOTIFY for queued hints, all topics in one statement, on the pool:
// after the writer's commit, never inside its transaction.
func (b *bridge) send(ctx context.Context) {
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
		payloads := make([]string, 0, len(batch))
		for _, p := range batch {
			raw, _ := json.Marshal(p)
			payloads = append(payloads, string(raw))
		}
		for _, p := range batch {
			b.hub.traced(stageNotify, p.Topic, p.Seq)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := b.db.ExecContext(sctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, Channel, pq.Array(payloads))
		cancel()
		for _, p := range batch {
			b.hub.traced(stageNotified, p.Topic, p.Seq)
		}
		b.hub.metrics.notifies.Inc()
		if err != nil && ctx.Err() == nil {
			// Other instances miss these hints; their safety poll and the
			// next hint for the topic still deliver everything, later.
			b.log.Warn("live notify", "hints", len(payloads), "err", err)
		}
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
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return dsn
		}
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " application_name=" + name
}
