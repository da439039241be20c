package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// startPair starts two instances on one database (A first: it applies the
// migrations; two instances migrating at once is not what is tested here).
func startPair(t *testing.T, ctx context.Context, dbURL string) (a, b *instance) {
	t.Helper()
	a, b = newInstance(t, "A", dbURL), newInstance(t, "B", dbURL)
	if err := a.start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.start(ctx); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// Issue 5 item 11, first half: a server is killed with SIGKILL mid-chat, while
// a chat.send is in flight on it (no shutdown, no close frames, transactions
// and acks cut short), and started again a second later on the same port.
// Clients reconnect with backoff, to it or to the other instance, resubscribe
// with since_seq and resend what was not acknowledged. Both instances get
// killed in turn; meanwhile senders' connections also drop right after a send
// now and then (see cutEvery), so that some resends meet a stored message.
//
// What "exactly once" means here: every message a client wrote was in the
// end acknowledged (the test waits for it); the archive holds exactly those
// client_ids, each once, with the id and seq of its ack, seqs 1..N; and
// every client received exactly that sequence.
func TestKillServerMidChat(t *testing.T) {
	requireSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	dbURL := newDatabase(t, ctx)
	a, b := startPair(t, ctx, dbURL)
	r := newRoom(t, ctx, dbURL, a.base, sendersPerRoom, receiversPerRoom)
	l := startChat(ctx, r, a, b)
	defer l.stop()

	type fault struct {
		victim   *instance
		atShare  int // percent of all messages acknowledged
		at       time.Time
		inFlight int // chat.sends unanswered on it when it died
		downFor  time.Duration
	}
	faults := []*fault{{victim: a, atShare: 30}, {victim: b, atShare: 65}}
	for _, f := range faults {
		if err := waitFor(ctx, 30*time.Second, "progress before the kill", func() bool { return l.acked() >= l.total()*f.atShare/100 }); err != nil {
			t.Fatalf("%v:%s", err, l.describe())
		}
		f.at = time.Now()
		f.inFlight = l.killWhenBusy(f.victim)
		// Down for about a second: long enough for clients to give up on
		// it and try the other instance, short enough to come back to.
		time.Sleep(time.Second)
		if err := f.victim.start(ctx); err != nil {
			t.Fatal(err)
		}
		f.downFor = time.Since(f.at)
	}

	n := l.finish(t, ctx)
	dedup := l.verify(t, ctx, n, b.base)
	a.checkLogs(t)
	b.checkLogs(t)

	l.report(t, n, dedup)
	for i, f := range faults {
		until := f.at.Add(f.downFor + 5*time.Second)
		if i+1 < len(faults) && faults[i+1].at.Before(until) {
			until = faults[i+1].at
		}
		cut, slowest, on := l.resumed(f.at)
		gap, _, _ := l.ackGap(f.at.Add(-time.Second), until)
		t.Logf("kill -9 of %s at %d%% acknowledged with %d chat.send in flight, back after %s: %d clients cut off, all following the room again within %s (%d on A, %d on B); longest time without any ack %s",
			f.victim.name, f.atShare, f.inFlight, f.downFor.Round(time.Millisecond), cut, slowest.Round(time.Millisecond), on[a.base], on[b.base], gap.Round(time.Millisecond))
	}
	t.Logf("took %s", time.Since(l.begun).Round(time.Millisecond))
}

// Issue 5 item 11, second half: PostgreSQL restarts under chat load: with
// -m fast (sessions terminated), with -m immediate (a crash: recovery from
// the WAL), and stopped for two seconds. Sends during an outage fail with
// "internal" (or time out) and are resent with the same client_id; the
// servers' pools and LISTEN connections come back by themselves (after lib/pq's
// nil notification the hub re-reads every topic, which is all that delivers
// the other instance's messages committed while its listener was away). A
// receiver on each instance also loses its websocket when each outage begins
// and reconnects while the database is down.
func TestPostgresRestartUnderLoad(t *testing.T) {
	requireSuite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	dbURL := newDatabase(t, ctx)
	a, b := startPair(t, ctx, dbURL)
	r := newRoom(t, ctx, dbURL, a.base, sendersPerRoom, receiversPerRoom)
	if err := waitFor(ctx, 15*time.Second, "both LISTEN connections", func() bool { return r.listeners(ctx) == 2 }); err != nil {
		t.Fatal(err)
	}
	l := startChat(ctx, r, a, b)
	defer l.stop()

	type restart struct {
		mode           string
		atShare        int
		down           time.Duration // 0: pg_ctl restart; else stop, wait, start
		began, ready   time.Time
		writable       time.Duration // after ready, until a server stored a message
		listenersAfter time.Duration
	}
	restarts := []*restart{
		{mode: "fast", atShare: 20},
		{mode: "immediate", atShare: 45},
		// A longer outage: clients' handshakes fail too, and lib/pq's
		// listener backs off (up to 2 s) before it reconnects.
		{mode: "fast", atShare: 70, down: 2 * time.Second},
	}
	for _, rs := range restarts {
		if err := waitFor(ctx, 30*time.Second, "progress before the restart", func() bool { return l.acked() >= l.total()*rs.atShare/100 }); err != nil {
			t.Fatalf("%v:%s", err, l.describe())
		}
		rs.began = time.Now()
		for _, base := range []string{a.base, b.base} {
			l.receivers(base)[0].drop()
		}
		if rs.down == 0 {
			if err := suite.cluster.Restart(ctx, rs.mode); err != nil {
				t.Fatalf("pg_ctl restart -m %s: %v", rs.mode, err)
			}
		} else {
			if err := suite.cluster.Stop(ctx, rs.mode); err != nil {
				t.Fatalf("pg_ctl stop -m %s: %v", rs.mode, err)
			}
			time.Sleep(rs.down)
			if err := suite.cluster.Start(ctx); err != nil {
				t.Fatalf("pg_ctl start: %v", err)
			}
		}
		rs.ready = time.Now()
		var err error
		if rs.writable, err = r.probeWrite(ctx, a.base); err != nil {
			t.Fatalf("after pg_ctl: %v", err)
		}
		// Each instance's listener must reconnect by itself.
		if err := waitFor(ctx, 15*time.Second, "both LISTEN connections back", func() bool { return r.listeners(ctx) == 2 }); err != nil {
			t.Fatalf("%v (instance logs below):%s", err, l.describe())
		}
		rs.listenersAfter = time.Since(rs.ready)
	}

	n := l.finish(t, ctx)
	dedup := l.verify(t, ctx, n, a.base)
	a.checkLogs(t)
	b.checkLogs(t)

	l.report(t, n, dedup)
	for i, rs := range restarts {
		// The outage as clients saw it: the longest stretch without any
		// ack from just before the restart to shortly after it (never into
		// the next one).
		until := rs.ready.Add(2 * time.Second)
		if i+1 < len(restarts) && restarts[i+1].began.Before(until) {
			until = restarts[i+1].began
		}
		gap, from, to := l.ackGap(rs.began.Add(-200*time.Millisecond), until)
		first := l.firstAckAfter(rs.ready)
		what := "pg_ctl restart -m " + rs.mode
		if rs.down > 0 {
			what = fmt.Sprintf("pg_ctl stop -m %s, %s down, start", rs.mode, rs.down)
		}
		t.Logf("%s at %d%% acknowledged: took %s; no chat ack for %s (from %+d to %+d ms of the restart's start); after PostgreSQL was ready: a write stored over HTTP in %d ms, first chat ack %d ms (client backoff included), both LISTEN connections back in %d ms",
			what, rs.atShare, rs.ready.Sub(rs.began).Round(time.Millisecond), gap.Round(time.Millisecond),
			from.Sub(rs.began).Milliseconds(), to.Sub(rs.began).Milliseconds(), rs.writable.Milliseconds(),
			first.Sub(rs.ready).Milliseconds(), rs.listenersAfter.Milliseconds())
	}
	for _, in := range []*instance{a, b} {
		t.Logf("%s logged %d listener reconnects", in.name, in.countLog("live listener reconnected"))
	}
	t.Logf("took %s", time.Since(l.begun).Round(time.Millisecond))
}
