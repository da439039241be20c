//go:build linux

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
	postgres    float64 // seconds, processes named postgres (the server and its backends)
}

// postgresCPU sums the CPU time of every live process whose command is
// "postgres" (backends that exit in between are missed; the benchmarks' pools
// keep theirs open).
func postgresCPU() float64 {
	dirs, _ := os.ReadDir("/proc")
	total := 0.0
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open || s[open+1:close] != "postgres" {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64) // utime: field 14 of stat
		st, _ := strconv.ParseFloat(f[12], 64) // stime: field 15
		total += (ut + st) / 100
	}
	return total
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	s.postgres = postgresCPU()
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
	pg := (b.postgres - a.postgres) / wall * 100
	return fmt.Sprintf("CPU in window: machine %.0f%% of %.0f%% = this process (load client + server) %.0f%% + PostgreSQL %.0f%% + other processes %.0f%%",
		machine, ncpu*100, self, pg, max(0, machine-self-pg))
}
