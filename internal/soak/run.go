package soak

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/benchlive"
)

// Settings shape a run.
type Settings struct {
	Duration    time.Duration `json:"duration_ns"`     // load time
	Every       time.Duration `json:"every_ns"`        // sampling interval
	Subscribers int           `json:"subscribers"`     // websocket members, spread over the instances
	Rate        int           `json:"rate"`            // chat messages per second, all senders together
	Senders     int           `json:"senders"`         // sender connections per instance
	Lifetime    time.Duration `json:"lifetime_ns"`     // mean subscriber connection lifetime (0: no churn)
	Away        time.Duration `json:"away_ns"`         // longest pause before a member comes back
	Web         int           `json:"web_members"`     // HTTP members
	PageRate    float64       `json:"page_rate"`       // page reads per second, all members together
	PostRate    float64       `json:"post_rate"`       // replies per second, all members together
	Drain       time.Duration `json:"drain_ns"`        // longest wait for acks and catch-up after the load
	Settle      time.Duration `json:"settle_ns"`       // pause after closing every client before the last reading
	ConnectOver time.Duration `json:"connect_over_ns"` // the subscribers' first connections are spread over this
	DBConnBound int           `json:"db_conn_bound"`   // an instance's most database connections (pool + LISTEN); 0: unknown
}

// Setup is what the run finds in the database: logged-in fixture accounts,
// a live meeting and threads in the fixture group to post into.
type Setup struct {
	*benchlive.Fixtures
	MeetingID int64
	Threads   []int64
}

// runner is one run's shared state.
type runner struct {
	set   Settings
	insts []Instance
	db    *sqlx.DB
	setup Setup
	stats []*instStats
	subs  *subscribers
	out   io.Writer
	logf  func(string, ...any)
}

// Run puts the load on insts for set.Duration, prints a line per instance
// every set.Every, then drains, checks that nothing was lost and reads the
// instances once more after every client closed. db is the instances'
// database (the harness's own connection, for pg_stat_activity and the final
// counts). The returned report holds the verdict; err is for a run that
// could not be carried out.
func Run(ctx context.Context, set Settings, insts []Instance, db *sqlx.DB, setup Setup, out io.Writer, logf func(string, ...any)) (*Report, error) {
	r := &runner{set: set, insts: insts, db: db, setup: setup, out: out, logf: logf}
	for range insts {
		r.stats = append(r.stats, &instStats{})
	}
	rep := &Report{Settings: set, Started: time.Now().UTC()}
	for _, in := range insts {
		rep.Instances = append(rep.Instances, in.Name)
	}

	// Idle: the instances before any client.
	for _, in := range insts {
		rep.Idle = append(rep.Idle, readInstance(ctx, db, in))
	}
	r.printResources(0, "idle", rep.Idle, nil)

	var seq0 int64
	if err := db.GetContext(ctx, &seq0, `SELECT COALESCE(max(seq), 0) FROM chat_messages WHERE meeting_id = $1`, setup.MeetingID); err != nil {
		return nil, fmt.Errorf("read the meeting's seq: %w", err)
	}

	r.subs = newSubscribers(r)
	snd := newSenders(r)
	w := newWeb(r)
	defer r.subs.closeAll()
	defer snd.close()

	start := time.Now()
	r.subs.start(ctx, set.ConnectOver)
	if err := snd.open(ctx); err != nil {
		return nil, err
	}
	until := start.Add(set.Duration)
	w.start(ctx, until)
	smp := newSampler(r)

	sendErr := make(chan error, 1)
	go func() { sendErr <- snd.run(ctx, until) }()

	// Sample every interval until the load ends, and once at its end.
	for next := start.Add(set.Every); ; next = next.Add(set.Every) {
		if next.After(until) {
			next = until
		}
		if err := sleep(ctx, time.Until(next)); err != nil {
			return nil, err
		}
		s := smp.take(ctx, next.Sub(start).Round(time.Second))
		rep.Samples = append(rep.Samples, s)
		r.printSample(s)
		if !next.Before(until) {
			break
		}
	}
	if err := <-sendErr; err != nil {
		return nil, fmt.Errorf("senders: %w", err)
	}
	w.wait()
	r.subs.quiesce()

	// Drain: every send answered, then every member back and holding the
	// last acked seq.
	drainUntil := time.Now().Add(set.Drain)
	for snd.unanswered() > 0 && time.Now().Before(drainUntil) {
		if err := snd.settle(ctx); err != nil {
			return nil, fmt.Errorf("senders: %w", err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	_, head := snd.head()
	for r.subs.caughtUp(head) < len(r.subs.slots) && time.Now().Before(drainUntil) {
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	rep.DrainTook = time.Since(until).Round(time.Millisecond)
	r.subs.closeAll()
	snd.close()

	if err := r.account(ctx, rep, snd, w, seq0); err != nil {
		return nil, err
	}

	// After: every client closed; what the instances hold now.
	if err := sleep(ctx, set.Settle); err != nil {
		return nil, err
	}
	for _, in := range insts {
		rep.After = append(rep.After, readInstance(ctx, db, in))
	}
	r.printResources(time.Since(start).Round(time.Second), "after", rep.After, nil)
	rep.judge()
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// account fills the report's loss figures from the clients and the database.
func (r *runner) account(ctx context.Context, rep *Report, snd *senders, w *web, seq0 int64) error {
	t := &rep.Totals
	snd.mu.Lock()
	t.Sent = snd.sent
	t.Acked = int64(len(snd.acked))
	t.SendErrors = maps(snd.errs)
	t.FirstSendError = snd.firstErr
	t.SenderRedials = snd.redials
	seqs := make([]int64, 0, len(snd.acked))
	for _, s := range snd.acked {
		seqs = append(seqs, s)
	}
	snd.mu.Unlock()
	t.Unanswered = snd.unanswered()
	slices.Sort(seqs)
	head := seq0
	if len(seqs) > 0 {
		head = seqs[len(seqs)-1]
	}
	t.Head = head
	// The acks must be seq0+1 … head, each once: seq is gap-free per meeting
	// and only the senders write to this meeting.
	for i, s := range seqs {
		if s != seq0+int64(i)+1 {
			t.AckSeqMismatch++
		}
	}

	for _, sl := range r.subs.slots {
		c := &sl.ch
		t.Connects += sl.connects
		t.DialErrors += sl.dialErrors
		if t.FirstDialError == "" {
			t.FirstDialError = sl.firstDialErr
		}
		t.Replayed += sl.replayed
		for k, v := range sl.serverCloses {
			if t.ServerCloses == nil {
				t.ServerCloses = map[string]int64{}
			}
			t.ServerCloses[k] += v
		}
		if !c.started {
			t.NeverSubscribed++
			continue
		}
		t.Gaps += c.gaps
		t.Lost += c.lostAt(head)
		t.Duplicates += c.dups
		t.BadFrames += c.bad
		if c.last < head {
			t.Behind++
		}
		t.Expected += head - c.first
	}
	t.Reconnects = r.subs.reconnects.Load()
	t.ErrorFrames = r.subs.errorFrames.Load()
	t.Resubscribes = r.subs.resubscribes.Load()
	t.FirstSubscriberError = r.subs.firstErr
	for _, st := range r.stats {
		t.Delivered += st.deliveries.Load()
		t.Pages += st.pages.Load()
	}

	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var arch struct {
		N   int64 `db:"n"`
		Max int64 `db:"top"`
	}
	if err := r.db.GetContext(qctx, &arch, `SELECT count(*) AS n, COALESCE(max(seq), 0) AS top FROM chat_messages WHERE meeting_id = $1 AND seq > $2`,
		r.setup.MeetingID, seq0); err != nil {
		return fmt.Errorf("count the meeting's messages: %w", err)
	}
	t.Archived, t.ArchiveTop = arch.N, arch.Max

	w.mu.Lock()
	ids := slices.Clone(w.postIDs)
	t.WebErrors = maps(w.errs)
	t.FirstWebError = w.firstErr
	w.mu.Unlock()
	t.PostsAnswered = int64(len(ids))
	if len(ids) > 0 {
		if err := r.db.GetContext(qctx, &t.PostsStored, `SELECT count(*) FROM posts WHERE id = ANY($1) AND deleted_at IS NULL`, pq.Array(ids)); err != nil {
			return fmt.Errorf("count the posts: %w", err)
		}
	}
	return nil
}

func maps(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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
