//go:build !linux

package benchlive

import "syscall"

// childProcAttr: only Linux can tie a child's life to ours; elsewhere the
// harness relies on its deferred cleanup.
func childProcAttr() *syscall.SysProcAttr { return nil }
