package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The production binary links no load tool or test helper: a benchmark can
// create and drop databases and write fixture accounts, and test helpers start
// throwaway clusters. They live in cmd/forumjst-bench and test packages.
func TestBinaryLinksNoToolingPackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"/internal/benchlive", "/internal/benchsearch", "/internal/benchsum", "/internal/soak", "/internal/pgtest", "/internal/testkit", "/internal/loadtest", "/internal/faults"} {
			if strings.HasSuffix(pkg, banned) {
				t.Errorf("forumjst links %s", pkg)
			}
		}
	}
}
