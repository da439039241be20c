package loadtest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the machine's busy and total CPU time (from /proc/stat) and this
// process's CPU time (client and server together), to show where the two cores
// went during a measured window.
type cpuSample struct {
	at          time.Time
	busy, total float64 // seconds, all CPUs
	self        float64 // seconds
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return s
	}
	const hz = 100.0 // USER_HZ
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
		s.total += n / hz
		if i != 3 && i != 4 { // idle, iowait
			s.busy += n / hz
		}
	}
	return s
}

// cpuSplit describes the CPU use between two samples as percentages of one core.
func cpuSplit(a, b cpuSample) string {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 || b.total == a.total {
		return "CPU split unavailable"
	}
	ncpu := float64(runtime.NumCPU())
	machine := (b.busy - a.busy) / (b.total - a.total) * ncpu * 100
	self := (b.self - a.self) / wall * 100
	return fmt.Sprintf("CPU in window: machine %.0f%% of %.0f%%, this process (load client + server) %.0f%%, rest (PostgreSQL and anything else) %.0f%%",
		machine, ncpu*100, self, max(0, machine-self))
}
