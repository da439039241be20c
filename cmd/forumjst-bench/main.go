// Command forumjst-bench holds the project's load tools, kept out of the
// production binary (which has only serve, migrate, create-admin, seed-demo and
// healthcheck): a benchmark creates and drops databases and writes fixture
// accounts, nothing a server in production should be able to do.
//
//	forumjst-bench live [flags]   live chat benchmark against a bare broadcast baseline (SPEC §8)
//	forumjst-bench search [flags] search over 1,000,000 generated posts (SPEC §8, issue 13)
//	forumjst-bench summary FILES… one table of every benchmark's rows (issue 16 item 3)
//	forumjst-bench soak [flags]   two instances under mixed load for 30 minutes (issue 16 item 5)
//
// The forum load benchmarks (thread page, group page, posting) are Go
// benchmarks in internal/loadtest (make bench-forum).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gwd-jst/forumjst/internal/benchlive"
	"github.com/gwd-jst/forumjst/internal/benchsearch"
	"github.com/gwd-jst/forumjst/internal/benchsum"
	"github.com/gwd-jst/forumjst/internal/soak"
)

const usage = `usage: forumjst-bench <command> [flags]

commands:
  live    live chat benchmark over loopback next to a bare broadcast baseline
          (SPEC §8); needs DATABASE_URL and the forumjst binary; live -h for flags
  search  search latency over 1,000,000 generated posts in a throwaway database
          (SPEC §8, issue 13); search -h for flags
  summary FILE.json…  one table (figure, same-run baseline, ratio, target, met)
          of the rows the benchmarks wrote, saved as
          test-artifacts/bench-summary-<date>.json (make bench)
  soak    two instances on one database for 30 minutes under chat, churn, pages
          and posting; flat resources and no loss, or exit 1 (make soak)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := os.Args[1], os.Args[2:]
	switch cmd {
	case "live":
		if err := benchlive.Main(ctx, args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "forumjst-bench live: %v\n", err)
			os.Exit(1)
		}
	case "search":
		if err := benchsearch.Main(ctx, args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "forumjst-bench search: %v\n", err)
			os.Exit(1)
		}
	case "summary":
		if _, err := benchsum.Main(args, os.Stdout, os.Stderr, time.Now()); err != nil {
			fmt.Fprintf(os.Stderr, "forumjst-bench summary: %v\n", err)
			os.Exit(1)
		}
	case "soak":
		if err := soak.Main(ctx, args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "forumjst-bench soak: %v\n", err)
			os.Exit(1)
		}
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "forumjst-bench: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
}
