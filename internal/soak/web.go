package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gwd-jst/forumjst/internal/benchlive"
)

// web is the HTTP side: members, each with its own session and keep-alive
// connections, reading thread and group pages and posting replies (JSON, with
// the session's CSRF token and Origin, as the forum's own client does),
// alternating between the instances. Each member posts on a fixed schedule
// below the per-account posting limit, so a 429 is a failure, not noise.
type web struct {
	r       *runner
	wg      sync.WaitGroup
	threads []*threadRef

	mu       sync.Mutex
	postIDs  []int64
	errs     map[string]int64
	firstErr string
	clients  []*http.Client
}

type threadRef struct {
	id    int64
	posts atomic.Int64
}

func newWeb(r *runner) *web {
	w := &web{r: r, errs: map[string]int64{}}
	for _, id := range r.setup.Threads {
		t := &threadRef{id: id}
		t.posts.Store(1)
		w.threads = append(w.threads, t)
	}
	return w
}

func (w *web) noteErr(kind, msg string) {
	w.mu.Lock()
	w.errs[kind]++
	if w.firstErr == "" {
		w.firstErr = msg
	}
	w.mu.Unlock()
}

// start runs Web members until until.
func (w *web) start(ctx context.Context, until time.Time) {
	set := w.r.set
	if set.Web == 0 || (set.PageRate <= 0 && set.PostRate <= 0) {
		return
	}
	for i := range set.Web {
		acc := &w.r.setup.Receivers[i%len(w.r.setup.Receivers)]
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		client := &http.Client{Timeout: 30 * time.Second,
			Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second,
				DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		w.clients = append(w.clients, client)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.member(ctx, i, acc, client, until)
		}()
	}
}

// member alternates page reads and posts on two fixed schedules.
func (w *web) member(ctx context.Context, i int, acc *benchlive.Account, client *http.Client, until time.Time) {
	set := w.r.set
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	every := func(rate float64) time.Duration {
		if rate <= 0 {
			return 0
		}
		return time.Duration(float64(set.Web) / rate * float64(time.Second))
	}
	pageEvery, postEvery := every(set.PageRate), every(set.PostRate)
	start := time.Now()
	// Staggered so the members do not all act in the same instant.
	nextPage := start.Add(time.Duration(rng.Int64N(int64(max(pageEvery, time.Millisecond)))))
	nextPost := start.Add(time.Duration(rng.Int64N(int64(max(postEvery, time.Millisecond)))))
	n := i
	for {
		due, post := nextPage, false
		switch {
		case pageEvery == 0:
			due, post = nextPost, true
		case postEvery != 0 && nextPost.Before(nextPage):
			due, post = nextPost, true
		}
		if !due.Before(until) {
			return
		}
		if sleep(ctx, time.Until(due)) != nil {
			return
		}
		n++
		inst := n % len(w.r.insts)
		if post {
			nextPost = nextPost.Add(postEvery)
			w.post(ctx, client, inst, acc, rng)
		} else {
			nextPage = nextPage.Add(pageEvery)
			w.page(ctx, client, inst, acc, rng)
		}
	}
}

func (w *web) page(ctx context.Context, client *http.Client, inst int, acc *benchlive.Account, rng *rand.Rand) {
	var path string
	if len(w.threads) > 0 && rng.IntN(10) < 7 {
		t := w.threads[rng.IntN(len(w.threads))]
		pages := (t.posts.Load() + 49) / 50
		path = fmt.Sprintf("/t/%d", t.id)
		if p := 1 + rng.Int64N(max(pages, 1)); p > 1 {
			path += fmt.Sprintf("?page=%d", p)
		}
	} else {
		path = fmt.Sprintf("/g/%d", w.r.setup.GroupID)
	}
	if _, err := w.do(ctx, client, inst, http.MethodGet, path, acc, nil, http.StatusOK); err != nil {
		w.r.stats[inst].webErrors.Add(1)
		return
	}
	w.r.stats[inst].pages.Add(1)
}

func (w *web) post(ctx context.Context, client *http.Client, inst int, acc *benchlive.Account, rng *rand.Rand) {
	if len(w.threads) == 0 {
		return
	}
	t := w.threads[rng.IntN(len(w.threads))]
	body, _ := json.Marshal(map[string]string{"body": fmt.Sprintf(
		"Odpowiedź z testu długotrwałego (%s): **wniosek** w sprawie [harmonogramu](https://gwd.example.pl/harmonogram) i dwie uwagi:\n\n- pierwsza,\n- druga.",
		time.Now().Format(time.RFC3339Nano))})
	b, err := w.do(ctx, client, inst, http.MethodPost, fmt.Sprintf("/api/v1/threads/%d/posts", t.id), acc, body, http.StatusCreated)
	if err != nil {
		w.r.stats[inst].webErrors.Add(1)
		return
	}
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.ID <= 0 {
		w.r.stats[inst].webErrors.Add(1)
		w.noteErr("bad answer", fmt.Sprintf("post on %s: answer without an id: %.200s", w.r.insts[inst].Name, b))
		return
	}
	t.posts.Add(1)
	w.mu.Lock()
	w.postIDs = append(w.postIDs, p.ID)
	w.mu.Unlock()
	w.r.stats[inst].posts.Add(1)
}

// do sends one request as acc to instance inst and returns the body; a
// status other than want is an error, counted by kind.
func (w *web) do(ctx context.Context, client *http.Client, inst int, method, path string, acc *benchlive.Account, body []byte, want int) ([]byte, error) {
	base := w.r.insts[inst].Base
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cookie", acc.Cookie)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Origin", base)
		req.Header.Set("X-CSRF-Token", acc.CSRF)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.noteErr("transport", fmt.Sprintf("%s %s on %s: %v", method, path, w.r.insts[inst].Name, err))
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		w.noteErr("transport", fmt.Sprintf("%s %s on %s: read: %v", method, path, w.r.insts[inst].Name, err))
		return nil, err
	}
	if resp.StatusCode != want {
		err := fmt.Errorf("%s %s on %s: status %d: %.200s", method, path, w.r.insts[inst].Name, resp.StatusCode, strings.TrimSpace(string(b)))
		w.noteErr(fmt.Sprintf("status %d", resp.StatusCode), err.Error())
		return nil, err
	}
	return b, nil
}

// wait ends the members and closes their idle connections.
func (w *web) wait() {
	w.wg.Wait()
	for _, c := range w.clients {
		c.CloseIdleConnections()
	}
}
