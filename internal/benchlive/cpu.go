package benchlive

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// cpuSample is a point-in-time reading of CPU time (Linux /proc; zero
// elsewhere), to tell in the report whether the machine was saturated and
// who used it: the server, the load client, or the rest (PostgreSQL).
type cpuSample struct {
	at            time.Time
	server        int64 // clock ticks of the server process
	client        int64 // clock ticks of this process
	busy, total   int64 // machine-wide ticks
	cpus          int   // CPUs /proc/stat lists
	serverUnknown bool
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func sampleCPU(serverPID int) cpuSample {
	s := cpuSample{at: time.Now(), serverUnknown: serverPID <= 0}
	if serverPID > 0 {
		s.server = procTicks(strconv.Itoa(serverPID))
	}
	s.client = procTicks("self")
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for _, l := range strings.Split(string(b), "\n")[1:] {
			if len(l) > 3 && strings.HasPrefix(l, "cpu") && l[3] >= '0' && l[3] <= '9' {
				s.cpus++
			}
		}
		f := strings.Fields(line)
		for i := 1; i < len(f); i++ {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			s.total += v
			if i != 4 && i != 5 { // idle, iowait
				s.busy += v
			}
		}
	}
	return s
}

// procTicks is utime+stime of /proc/<pid>/stat.
func procTicks(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name may contain spaces; fields resume after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the full line
	k, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return u + k
}

// since returns the cores used between s0 and s by the server, this process
// and the whole machine.
func (s cpuSample) since(s0 cpuSample) (server, client, machine float64) {
	wall := s.at.Sub(s0.at).Seconds()
	if wall <= 0 {
		return 0, 0, 0
	}
	if !s.serverUnknown {
		server = float64(s.server-s0.server) / clockTicks / wall
	}
	client = float64(s.client-s0.client) / clockTicks / wall
	if dt := s.total - s0.total; dt > 0 {
		cpus := s.cpus
		if cpus == 0 {
			cpus = runtime.NumCPU()
		}
		machine = float64(s.busy-s0.busy) / float64(dt) * float64(cpus)
	}
	return server, client, machine
}
