package soak

import (
	"math"
	"sync/atomic"
	"time"
)

// histBuckets covers 1 µs to far beyond any run with buckets 10% wide.
const histBuckets = 320

var histBase = math.Log(1.1)

// hist is a lock-free latency histogram: many read loops observe, the
// sampler reads cumulative counts and subtracts the previous snapshot to get
// one interval's distribution.
type hist struct{ b [histBuckets]atomic.Int64 }

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(int(math.Log(us)/histBase)+1, histBuckets-1)
}

// upper is the largest latency bucket i holds.
func upper(i int) time.Duration {
	if i == 0 {
		return time.Microsecond
	}
	return time.Duration(math.Pow(1.1, float64(i)) * float64(time.Microsecond))
}

func (h *hist) observe(d time.Duration) { h.b[bucketOf(d)].Add(1) }

type histSnap [histBuckets]int64

func (h *hist) snap() (s histSnap) {
	for i := range h.b {
		s[i] = h.b[i].Load()
	}
	return s
}

// pctSince is the p-th percentile (nearest rank, to the bucket's upper bound)
// of what was observed between prev and cur; 0 when nothing was.
func pctSince(cur, prev histSnap, p float64) time.Duration {
	var n int64
	for i := range cur {
		n += cur[i] - prev[i]
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(float64(n) * p / 100))
	var acc int64
	for i := range cur {
		acc += cur[i] - prev[i]
		if acc >= max(rank, 1) {
			return upper(i)
		}
	}
	return upper(histBuckets - 1)
}

// instStats are the load figures attributed to one instance: deliveries to
// subscribers connected to it, and the pages and posts it answered.
type instStats struct {
	deliveries atomic.Int64
	lat        hist
	pages      atomic.Int64
	posts      atomic.Int64
	webErrors  atomic.Int64
	acks       atomic.Int64
	ackLat     hist
}
