package meetings

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gwd-jst/forumjst/internal/store"
)

// The chat's group commit (issue 16). Every send of this instance to a
// meeting — from any connection, any author, the API — is checked and
// rendered by its caller and then handed to the meeting's writer, which
// stores whatever is waiting with one statement. Each storing statement holds
// the meeting row's lock (the gap-free seq) until its commit has reached the
// disk; with one statement per message, ten sending connections queued on
// that lock one commit after another (pg_stat_activity: the chat's INSERTs
// waited on Lock:transactionid/tuple in 70% of the samples, on the WAL flush
// in 23%). One writer per meeting takes no lock waits of its own and stores
// what arrived during a commit with the next one.

const (
	// maxStoredTogether bounds the messages one statement stores; runs are
	// never split.
	maxStoredTogether = 128
	// storeTimeout bounds a storing statement. It is the writer's, not a
	// caller's: one caller going away must not fail the other callers'
	// messages stored by the same statement.
	storeTimeout = 10 * time.Second
)

// run is one caller's messages to one meeting, in the order they must get
// their seqs.
type run struct {
	ctx    context.Context
	rows   []store.NewChatMessage
	author Author // how the messages' author appears
	// committed runs in the writer once the messages are committed, before
	// any message of the statement is announced, runs in seq order: the
	// caller's acknowledgements. It must not block (a stalled client would
	// stall the meeting's chat on this instance).
	committed func([]Message)
	done      chan error      // nil once committed ran, else what stored none of the run
	announced <-chan struct{} // once stored: closed when its messages were announced
}

// writers holds the runs waiting for each meeting's writer. A meeting has a
// key while its writer goroutine runs, which ends once nothing waits.
type writers struct {
	mu      sync.Mutex
	pending map[int64][]*run
}

// Announcements are the announcements of a caller's stored sends that may
// still be under way. A caller that sends run after run (a websocket) waits
// for each run's commit only — its next run's checks must count the last
// one's messages — and for the announcements once, when it has nothing left
// to send (before it answers another frame or closes): a single sender
// connection at 100 msg/s otherwise waited, per run, for the fan-out of its
// previous run to every subscriber (issue 16: the sender's wait behind the
// announcing goroutine was most of its latency under load). Not safe for
// concurrent use; the zero value is ready.
type Announcements struct {
	pending []<-chan struct{}
}

func (a *Announcements) add(ch <-chan struct{}) {
	if ch != nil {
		a.pending = append(a.pending, ch)
	}
}

// None tells whether nothing is left to wait for.
func (a *Announcements) None() bool { return len(a.pending) == 0 }

// Wait returns once every announcement added so far is out.
func (a *Announcements) Wait() {
	for _, ch := range a.pending {
		<-ch
	}
	clear(a.pending)
	a.pending = a.pending[:0]
}

// storeRun hands r to its meeting's writer, starting one if none runs, and
// waits for the outcome; once stored, the run's announcement (which the
// writer does not wait for) is added to ann, for the caller to wait for (so
// that a connection's sends are announced before it closes). Runs are stored
// in the order they arrive, so a caller that waits for one run before
// handing over the next (a connection) keeps its order, and an author's
// messages keep theirs.
func (s *Service) storeRun(meetingID int64, r *run, ann *Announcements) error {
	r.done = make(chan error, 1)
	w := &s.writers
	w.mu.Lock()
	q, running := w.pending[meetingID]
	w.pending[meetingID] = append(q, r)
	w.mu.Unlock()
	if !running {
		go s.writeLoop(meetingID)
	}
	if err := <-r.done; err != nil {
		return err
	}
	ann.add(r.announced)
	return nil
}

// writeLoop is a meeting's writer: it stores what waits, a statement at a
// time, and ends when nothing does.
func (s *Service) writeLoop(meetingID int64) {
	w := &s.writers
	// announced is closed once every statement's messages were announced.
	none := make(chan struct{})
	close(none)
	var announced <-chan struct{} = none
	for {
		w.mu.Lock()
		q := w.pending[meetingID]
		if len(q) == 0 {
			w.mu.Unlock()
			// A writer started after this one must not announce before
			// this one's announcements are out.
			<-announced
			w.mu.Lock()
			if len(w.pending[meetingID]) == 0 {
				delete(w.pending, meetingID)
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			continue
		}
		n, rows := 0, 0
		for n < len(q) && (n == 0 || rows+len(q[n].rows) <= maxStoredTogether) {
			rows += len(q[n].rows)
			n++
		}
		w.pending[meetingID] = q[n:]
		w.mu.Unlock()
		announced = s.writeRuns(meetingID, q[:n], announced)
	}
}

// writeRuns stores runs with one statement and tells each its outcome. A
// client id already stored fails the whole statement; then each run is
// stored alone, so only the run that repeats it fails (and its caller
// answers with the stored message). The result is closed once the messages
// were announced, after those of announced.
func (s *Service) writeRuns(meetingID int64, runs []*run, announced <-chan struct{}) <-chan struct{} {
	waiting := runs[:0:0]
	for _, r := range runs {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // gone before its turn: nothing stored
			continue
		}
		waiting = append(waiting, r)
	}
	if len(waiting) == 0 {
		return announced
	}
	next, err := s.storeRuns(meetingID, waiting, announced)
	if len(waiting) > 1 && store.IsUniqueViolation(err, store.ChatClientIDKey) {
		for _, r := range waiting {
			announced, err = s.storeRuns(meetingID, []*run{r}, announced)
			r.done <- err
		}
		return announced
	}
	for _, r := range waiting {
		r.done <- err
	}
	return next
}

// storeRuns stores the runs' messages in one statement; once committed, it
// lets each run queue its acknowledgements, then announces the messages in
// seq order, once those of after are out: the senders hear their acks
// before their own copies, and this instance's subscribers get the messages
// in order without a read back. The announcing (the fan-out to every
// subscriber, ~0.6 ms of CPU a message at 1,000 subscribers) runs on a
// goroutine of its own, so the next statement need not wait for it. The
// result is closed once the messages were announced (after itself when
// nothing was stored).
func (s *Service) storeRuns(meetingID int64, runs []*run, after <-chan struct{}) (<-chan struct{}, error) {
	var rows []store.NewChatMessage
	for _, r := range runs {
		rows = append(rows, r.rows...)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runs[0].ctx), storeTimeout)
	defer cancel()
	stored, err := store.AppendChatMessages(ctx, s.hot, meetingID, rows)
	if err == nil && len(stored) != len(rows) {
		err = fmt.Errorf("append chat messages: %d rows for %d messages", len(stored), len(rows))
	}
	if err != nil {
		return after, err
	}
	msgs := make([]Message, len(stored))
	next := 0
	for _, r := range runs {
		for range r.rows {
			m := stored[next]
			msgs[next] = Message{ID: m.ID, Seq: m.Seq, MeetingID: m.MeetingID, Author: r.author,
				Body: m.Body, BodyHTML: m.BodyHTML, ClientID: m.ClientID, CreatedAt: m.CreatedAt}
			next++
		}
		r.committed(msgs[next-len(r.rows) : next])
	}
	announced := make(chan struct{})
	for _, r := range runs {
		r.announced = announced
	}
	go func() {
		defer close(announced)
		<-after
		s.live.ChatMessages(context.WithoutCancel(runs[0].ctx), msgs)
	}()
	return announced, nil
}
