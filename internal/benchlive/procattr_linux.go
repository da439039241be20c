package benchlive

import "syscall"

// childProcAttr makes the kernel kill a server child if the harness dies
// without running its deferred cleanup (SIGKILL, a crash), so no server is
// left listening after a run.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
