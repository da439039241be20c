package loadtest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
)

// windowHook lets a profiling session see exactly one benchmark's measured
// window, not the seed or the warm-up (issue 16: profiles of the posting
// load). With LOADTEST_CPUPROFILE=PREFIX the process's CPU profile of the
// window goes to PREFIX-NAME.pprof; with LOADTEST_HOOK=CMD, `sh -c 'CMD start
// NAME'` runs at the window's start and `CMD end NAME` at its end (e.g. to
// reset and read pg_stat_statements, start perf, note WAL positions). Both
// are off by default. The returned func ends the window.
func windowHook(name string) func() {
	hook := os.Getenv("LOADTEST_HOOK")
	run := func(phase string) {
		if hook == "" {
			return
		}
		cmd := exec.Command("sh", "-c", hook+" "+phase+" "+name)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "LOADTEST_HOOK %s %s: %v\n", phase, name, err)
		}
	}
	run("start")
	var prof *os.File
	if prefix := os.Getenv("LOADTEST_CPUPROFILE"); prefix != "" {
		f, err := os.Create(prefix + "-" + name + ".pprof")
		if err == nil && pprof.StartCPUProfile(f) == nil {
			prof = f
		} else if f != nil {
			f.Close()
		}
	}
	return func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		run("end")
	}
}
