package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// statements records what each fetch was asked, answers every key with the
// number of the statement that read it (so a test can tell which statement
// answered), leaves out the keys in missing, and holds each statement until
// the test releases it.
type statements struct {
	mu      sync.Mutex
	asked   [][]int
	started chan struct{}
	release chan struct{}
	missing map[int]bool
	fail    error
}

func newStatements() *statements {
	return &statements{started: make(chan struct{}, 100), release: make(chan struct{}, 100), missing: map[int]bool{}}
}

func (s *statements) fetch(_ context.Context, keys []int) (map[int]int, error) {
	s.mu.Lock()
	s.asked = append(s.asked, slices.Clone(keys))
	n := len(s.asked)
	s.mu.Unlock()
	s.started <- struct{}{}
	<-s.release
	if s.fail != nil {
		return nil, s.fail
	}
	out := map[int]int{}
	for _, k := range keys {
		if !s.missing[k] {
			out[k] = n
		}
	}
	return out, nil
}

type got struct {
	v, ok int
	err   error
}

func load(l *Loader[int, int], k int, out chan<- got) {
	v, ok, err := l.Load(context.Background(), k)
	b := 0
	if ok {
		b = 1
	}
	out <- got{v, b, err}
}

// A key asked for while a statement is in flight — even one that statement
// carries — is answered by the next statement, which carries every key that
// arrived meanwhile once; a lone key goes out at once.
func TestKeysArrivingDuringAStatementGoWithTheNext(t *testing.T) {
	s := newStatements()
	s.missing[7] = true
	l := New(s.fetch, 100, time.Minute)
	first := make(chan got, 1)
	go load(l, 1, first)
	<-s.started // statement 1 runs with key 1 alone

	later := make(chan got, 6)
	for _, k := range []int{1, 2, 3, 2, 7, 1} {
		go load(l, k, later)
	}
	waitWaiting(l, 6) // they cannot be answered before the release
	s.release <- struct{}{}
	if g := <-first; g != (got{1, 1, nil}) {
		t.Fatalf("first load = %+v, want statement 1's answer", g)
	}
	<-s.started
	s.release <- struct{}{}
	found := 0
	for range 6 {
		g := <-later
		switch {
		case g.err != nil:
			t.Fatal(g.err)
		case g.ok == 1 && g.v != 2:
			t.Errorf("a later load was answered by statement %d, want 2", g.v)
		case g.ok == 1:
			found++
		}
	}
	if found != 5 {
		t.Errorf("%d of 6 later loads found, want 5 (key 7 is missing)", found)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asked) != 2 || !slices.Equal(slices.Sorted(slices.Values(s.asked[1])), []int{1, 2, 3, 7}) {
		t.Errorf("statements asked %v, want [[1] [1 2 3 7 in arrival order]]", s.asked)
	}
}

// A statement carries at most max keys, oldest first; the rest go next.
func TestAStatementCarriesAtMostMaxKeys(t *testing.T) {
	s := newStatements()
	l := New(s.fetch, 2, time.Minute)
	out := make(chan got, 5)
	go load(l, 0, out)
	<-s.started
	for k := 1; k <= 4; k++ {
		go load(l, k, out)
		waitQueued(l, k) // in this order
	}
	for range 3 {
		s.release <- struct{}{}
	}
	for range 5 {
		if g := <-out; g.err != nil || g.ok != 1 {
			t.Fatalf("load = %+v", g)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := [][]int{{0}, {1, 2}, {3, 4}}; !slices.EqualFunc(s.asked, want, slices.Equal) {
		t.Errorf("statements asked %v, want %v", s.asked, want)
	}
}

// A failed statement fails each of its callers; the next one is tried anew.
// A caller whose context ends stops waiting without disturbing the others.
func TestFailuresAndCancellation(t *testing.T) {
	s := newStatements()
	s.fail = errors.New("connection reset")
	l := New(s.fetch, 10, time.Minute)
	out := make(chan got, 2)
	go load(l, 1, out)
	<-s.started
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() {
		_, _, err := l.Load(ctx, 2)
		cancelled <- err
	}()
	go load(l, 3, out)
	waitQueued(l, 2)
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled load: %v", err)
	}
	s.release <- struct{}{}
	if g := <-out; !errors.Is(g.err, s.fail) || g.ok != 0 {
		t.Errorf("load in a failed statement = %+v", g)
	}
	<-s.started
	s.mu.Lock()
	s.fail = nil
	s.mu.Unlock()
	s.release <- struct{}{}
	if g := <-out; g != (got{2, 1, nil}) {
		t.Errorf("load after the failure = %+v", g)
	}
}

// waitQueued waits until n keys wait for the next statement.
func waitQueued(l *Loader[int, int], n int) {
	for {
		l.mu.Lock()
		k := len(l.order)
		l.mu.Unlock()
		if k == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// waitWaiting waits until n callers wait for the next statement.
func waitWaiting(l *Loader[int, int], n int) {
	for {
		l.mu.Lock()
		k := 0
		for _, chs := range l.waiting {
			k += len(chs)
		}
		l.mu.Unlock()
		if k == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
