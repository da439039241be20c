package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// op is one request of a load: what to send and the status that counts as success.
type op struct {
	method, path string
	body         []byte
	want         int
	cat          int // latency category (see loadSpec.cats)
	// as, when set, is the account the request is sent as instead of the
	// worker's own (the posting benchmark's many authors).
	as *session
}

// worker is one keep-alive connection with its own transport, as one browser
// tab or API client would have.
type worker struct {
	id     int
	client *http.Client
	tr     *http.Transport
	cookie string // Cookie header
	csrf   string // X-CSRF-Token for unsafe methods
	buf    bytes.Buffer
	state  any // per-worker data for the op generator

	samples  []sample
	total    int64
	byStatus map[int]int64
	errs     int64
	firstErr string
}

type sample struct {
	lat time.Duration
	cat int
}

var dials atomic.Int64

func newWorker(id int, cookie, csrf string) *worker {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // the server does not compress; keep the client lean
	}
	return &worker{id: id, tr: tr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cookie: cookie, csrf: csrf, byStatus: map[int]int64{}}
}

func (w *worker) do(base string, o op) error {
	var body *bytes.Reader
	if o.body != nil {
		body = bytes.NewReader(o.body)
	}
	var req *http.Request
	var err error
	if body != nil {
		req, err = http.NewRequest(o.method, base+o.path, body)
	} else {
		req, err = http.NewRequest(o.method, base+o.path, nil)
	}
	if err != nil {
		return err
	}
	cookie, csrf := w.cookie, w.csrf
	if o.as != nil {
		cookie, csrf = o.as.cookie, o.as.csrf
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if o.body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	if csrf != "" && o.method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	w.buf.Reset()
	_, rerr := w.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	w.byStatus[resp.StatusCode]++
	if rerr != nil {
		return fmt.Errorf("%s %s: read body: %w", o.method, o.path, rerr)
	}
	if resp.StatusCode != o.want {
		return fmt.Errorf("%s %s: status %d, want %d: %.200s", o.method, o.path, resp.StatusCode, o.want, w.buf.String())
	}
	return nil
}

// loadSpec is one fixed-duration load.
type loadSpec struct {
	name    string
	base    string
	workers []*worker
	// next picks the n-th request (n counts from 0 over all workers). It runs
	// outside the timed part, so it may do out-of-band work (e.g. resets).
	next func(w *worker, n int64) op
	cats []string // names of latency categories; cats[0] is the main one
	// settle, if set, runs once three quarters into the warm-up, while the
	// load goes on: what the server's own upkeep would have done by then.
	settle func()
}

type loadStats struct {
	name      string
	window    time.Duration
	total     int64 // requests over warm-up and window
	ok        int64 // successful requests over warm-up and window
	inWindow  int64 // successful requests completed inside the window
	errs      int64
	firstErr  string
	rate      float64 // successful requests per second in the window
	lat       []time.Duration
	byCat     [][]time.Duration
	byStatus  map[int]int64
	dials     int64
	loadAvgAt string
	cpu       string
}

func (s loadStats) pct(p float64) time.Duration { return pct(s.lat, p) }

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runLoad runs spec's workers concurrently, each sending one request after
// another, for the warm-up and then the measured window, and stops by itself.
// Latency samples and the rate count requests completed inside the window.
func runLoad(b *testing.B, spec loadSpec) loadStats {
	b.Helper()
	var seq atomic.Int64
	dials.Store(0)
	start := time.Now()
	mStart := start.Add(*warmupFor)
	mEnd := mStart.Add(*measureFor)
	var cpuA, cpuB cpuSample
	cpuDone := make(chan struct{})
	go func() {
		defer close(cpuDone)
		if spec.settle != nil {
			time.Sleep(time.Until(mStart.Add(-*warmupFor / 4)))
			spec.settle()
		}
		time.Sleep(time.Until(mStart))
		stopWindow := windowHook(spec.name)
		cpuA = sampleCPU()
		time.Sleep(time.Until(mEnd))
		cpuB = sampleCPU()
		stopWindow()
	}()
	var wg sync.WaitGroup
	for _, w := range spec.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if time.Now().After(mEnd) {
					return
				}
				o := spec.next(w, seq.Add(1)-1)
				t0 := time.Now()
				err := w.do(spec.base, o)
				t1 := time.Now()
				w.total++
				if err != nil {
					w.errs++
					if w.firstErr == "" {
						w.firstErr = err.Error()
					}
					time.Sleep(10 * time.Millisecond) // no hot loop against a dead server
					continue
				}
				if !t1.Before(mStart) && !t1.After(mEnd) {
					w.samples = append(w.samples, sample{t1.Sub(t0), o.cat})
				}
			}
		}()
	}
	wg.Wait()
	<-cpuDone
	st := loadStats{name: spec.name, window: *measureFor, byStatus: map[int]int64{}, byCat: make([][]time.Duration, max(1, len(spec.cats))),
		dials: dials.Load(), loadAvgAt: loadAvg(), cpu: cpuSplit(cpuA, cpuB)}
	for _, w := range spec.workers {
		st.total += w.total
		st.errs += w.errs
		st.ok += w.total - w.errs
		if st.firstErr == "" {
			st.firstErr = w.firstErr
		}
		for k, v := range w.byStatus {
			st.byStatus[k] += v
		}
		for _, s := range w.samples {
			st.lat = append(st.lat, s.lat)
			for len(st.byCat) <= s.cat {
				st.byCat = append(st.byCat, nil)
			}
			st.byCat[s.cat] = append(st.byCat[s.cat], s.lat)
		}
		w.samples = nil
		w.tr.CloseIdleConnections()
	}
	st.inWindow = int64(len(st.lat))
	st.rate = float64(st.inWindow) / st.window.Seconds()
	slices.Sort(st.lat)
	for _, c := range st.byCat {
		slices.Sort(c)
	}
	if st.errs > 0 {
		b.Errorf("%s: %d of %d requests failed; first: %s", spec.name, st.errs, st.total, st.firstErr)
	}
	addNote("%s: %s; load average after the window %s; %d TCP connections opened", spec.name, st.cpu, st.loadAvgAt, st.dials)
	return st
}

// line is the readable one-line summary of a load.
func (s loadStats) line(unit string) string {
	return fmt.Sprintf("%s: %.0f %s, p50 %.2f ms, p99 %.2f ms, max %.1f ms, %d errors (%d requests, %d in the %v window, %d TCP connections; %s; loadavg %s)",
		s.name, s.rate, unit, ms(s.pct(0.50)), ms(s.pct(0.99)), ms(s.pct(1)), s.errs, s.total, s.inWindow, s.window, s.dials, s.cpu, s.loadAvgAt)
}

func (s loadStats) report(b *testing.B, unit string) {
	b.ReportMetric(0, "ns/op") // the whole load is one "op"; its duration says nothing
	b.ReportMetric(s.rate, unit)
	b.ReportMetric(ms(s.pct(0.50)), "p50-ms")
	b.ReportMetric(ms(s.pct(0.99)), "p99-ms")
	b.ReportMetric(float64(s.errs), "errors")
}

// ---- sessions ----

// session is a logged-in account as the load workers present it.
type session struct {
	cookie, csrf string
}

// login logs email in through the JSON API of env and returns its Cookie header
// and CSRF token.
func login(b *testing.B, env *testkit.Env, email string) session {
	b.Helper()
	c := env.Login(testkit.User{User: model.User{Email: email}, Password: testkit.Password})
	u, err := url.Parse(env.URL)
	if err != nil {
		b.Fatal(err)
	}
	var parts []string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 || c.CSRF == "" {
		b.Fatalf("login %s: no session cookie or CSRF token", email)
	}
	return session{cookie: strings.Join(parts, "; "), csrf: c.CSRF}
}

func verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "MISSES"
}
