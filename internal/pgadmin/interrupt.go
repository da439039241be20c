package pgadmin

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// OnInterrupt runs cleanup and exits 1 if the process is interrupted (Ctrl-C,
// kill) before the returned stop is called, so that a throwaway database or
// cluster is not left behind. A -timeout panic cannot be caught; the reapers
// of a later run (ReapDatabases, Cluster's directory prefix) handle that.
// what names the work in the message, e.g. "dropping test database".
func OnInterrupt(who, what string, cleanup func()) (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok {
			fmt.Fprintf(os.Stderr, "%s: %v: %s\n", who, s, what)
			cleanup()
			os.Exit(1)
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(sigs)
	}
}
