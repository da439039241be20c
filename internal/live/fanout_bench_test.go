package live

import (
	"bufio"
	"bytes"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFanOut delivers one chat frame (357 bytes, the benchmark's size)
// at a time to 1,000 subscribers over loopback and waits until every one
// has read it: the fan-out's cost per delivery with nothing to coalesce.
// cpu-µs/delivery is the whole process's CPU (the readers' share is the
// same whatever writes), steadier than the wall time on shared cores.
//
//	go test -run '^$' -bench FanOut -benchtime 300x ./internal/live/
func BenchmarkFanOut(b *testing.B) {
	const n = 1000
	h := testHub(b)
	tp := newTopic(h, "meeting:1", "meeting", 1, meetingFeed{h: h})
	close(tp.ready)
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	got := 0
	for range n {
		c, peer := tcpConn(b, h, 512)
		tp.subs[c] = &subscription{}
		go func() {
			r := bufio.NewReader(peer)
			for {
				if _, _, err := readFrame(r); err != nil {
					return
				}
				mu.Lock()
				got++
				if got%n == 0 {
					cond.Broadcast()
				}
				mu.Unlock()
			}
		}()
	}
	frame := bytes.Repeat([]byte("x"), 357)
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for i := range b.N {
		tp.deliverCommitted([]logFrame{{seq: int64(i + 1), frame: frame}})
		mu.Lock()
		for got < (i+1)*n {
			cond.Wait()
		}
		mu.Unlock()
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/delivery")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/fan-out")
}
