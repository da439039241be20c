// Package faults holds the fault-injection tests of SPEC §7 ("Nothing lost"):
// real `forumjst serve` processes, on a throwaway PostgreSQL cluster of their
// own, are killed with SIGKILL and have their database restarted while clients
// chat. Every acknowledged message must end up in the archive exactly once,
// with gap-free seqs, and every client must resume and see each message once,
// in order.
//
// The package has no code outside its tests. `make faults` runs it alone
// (verbose, with the figures of each run); `make test` runs it with the rest.
// It needs initdb and pg_ctl (on Debian under /usr/lib/postgresql/*/bin) and
// skips when they are missing. It never touches the shared test server: the
// cluster it restarts is its own, on a free loopback port.
package faults
