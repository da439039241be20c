//go:build !linux

package loadtest

import "time"

// Without /proc the CPU split is not measured.
type cpuSample struct{ at time.Time }

func sampleCPU() cpuSample { return cpuSample{at: time.Now()} }

func cpuSplit(a, b cpuSample) string { return "CPU split unavailable on this OS" }
