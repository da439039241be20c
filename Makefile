SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO  ?= go
BIN := bin/forumjst
BENCH_BIN := bin/forumjst-bench

# Go files to format/lint (everything except dependencies and local data).
GOFILES = $(shell find . -name '*.go' -not -path './node_modules/*' -not -path './.data/*' -not -path './vendor/*')

# Exports DATABASE_URL (a server URL; tests create their own random databases)
# unless it is already set.
WITH_TEST_DB = if [[ -z "$${DATABASE_URL:-}" ]]; then DATABASE_URL="$$(scripts/devdb.sh postgres)"; export DATABASE_URL; fi

.PHONY: build run test test-browser bench fmt lint clean db-stop

build:
	$(GO) build -o $(BIN) ./cmd/forumjst

# Local server with demo data: database from scripts/devdb.sh (DATABASE_URL wins).
run: build
	DATABASE_URL="$$(scripts/devdb.sh forumjst)"; export DATABASE_URL; \
	export FORUM_PUBLIC_URL="$${FORUM_PUBLIC_URL:-http://localhost:8080}"; \
	export FORUM_ADDR="$${FORUM_ADDR:-:8080}"; \
	$(BIN) migrate; \
	$(BIN) seed-demo; \
	exec $(BIN) serve

test:
	$(GO) vet ./...
	$(WITH_TEST_DB); \
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_BRIEF)

# Fuzz targets (package:Target). `make test` runs each briefly; `make fuzz`
# runs each for FUZZTIME (default 2 minutes). New findings land in the
# package's testdata/fuzz/ and become part of every `go test` run from then on.
FUZZ_TARGETS = ./internal/markup:FuzzRender ./internal/web:FuzzParseUpload ./internal/live:FuzzDecodeFrame
FUZZTIME ?= 2m
# `make test` gives each target a number of inputs, not a duration: Go 1.26's
# fuzz coordinator can report a bare "context deadline exceeded" failure when
# a duration ends while a starved worker is mid-input (golang/go#75804, fixed
# in Go 1.27); a count has no deadline to race. 30,000 inputs is what the
# slower targets ran in 10 s on 2 busy cores.
FUZZTIME_BRIEF ?= 30000x

.PHONY: fuzz
fuzz:
	$(WITH_TEST_DB); \
	for t in $(FUZZ_TARGETS); do \
		pkg="$${t%%:*}"; name="$${t##*:}"; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	done

# Browser tests only (headless Chromium + axe-core); `make test` runs them too.
# Screenshots land in test-artifacts/screenshots/. axe-core comes from npm.
test-browser:
	if [[ ! -f node_modules/axe-core/axe.min.js ]]; then npm ci --no-audit --no-fund; fi
	$(WITH_TEST_DB); \
	$(GO) test -race -count=1 -timeout 20m ./internal/browsertest/...

# One benchmark summary (issue 16 item 3): the forum and live benchmarks (and
# search with BENCH_SEARCH=1: it generates 1,000,000 posts, minutes), each
# writing its rows to $(BENCH_DIR), then one table — figure, same-run baseline,
# ratio, target, met — also saved as test-artifacts/bench-summary-<date>.json.
# A benchmark that fails does not stop the others; the summary shows what ran
# and make fails afterwards. Extra flags: BENCH_FORUM_FLAGS (loadtest flags,
# e.g. '-loadtest.warmup 1s -loadtest.measure 3s'), BENCH_LIVE_FLAGS,
# BENCH_SCALE_FLAGS, BENCH_SEARCH_FLAGS. About 6 minutes without search.
BENCH_DIR := test-artifacts/bench
bench: build build-bench
	mkdir -p $(BENCH_DIR)
	rm -f $(BENCH_DIR)/forum.json $(BENCH_DIR)/live.json $(BENCH_DIR)/scale.json $(BENCH_DIR)/search.json
	$(WITH_TEST_DB); rc=0; \
	BENCH_FORUM_JSON="$(abspath $(BENCH_DIR))/forum.json" \
		$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 15m ./internal/loadtest/ $(if $(BENCH_FORUM_FLAGS),-args $(BENCH_FORUM_FLAGS)) || rc=1; \
	$(BENCH_BIN) live --forumjst $(BIN) --rows $(BENCH_DIR)/live.json $(BENCH_LIVE_FLAGS) || rc=1; \
	$(BENCH_BIN) live --forumjst $(BIN) $(BENCH_SCALE_ARGS) --rows $(BENCH_DIR)/scale.json $(BENCH_SCALE_FLAGS) || rc=1; \
	if [[ "$${BENCH_SEARCH:-}" == 1 ]]; then \
		$(BENCH_BIN) search --rows $(BENCH_DIR)/search.json $(BENCH_SEARCH_FLAGS) || rc=1; \
	fi; \
	files=(); for f in $(BENCH_DIR)/{forum,live,scale,search}.json; do if [[ -f "$$f" ]]; then files+=("$$f"); fi; done; \
	if (( $${#files[@]} )); then $(BENCH_BIN) summary "$${files[@]}" || rc=1; else echo "no benchmark wrote its rows"; rc=1; fi; \
	exit $$rc

# Forum load benchmarks of SPEC §8 (thread page, group page, posting, next to a
# naive one-query Fiber page); fixed-duration loads over loopback, ~1.5 minutes.
.PHONY: bench-forum
bench-forum:
	$(WITH_TEST_DB); \
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 15m ./internal/loadtest/ $(if $(BENCH_FORUM_FLAGS),-args $(BENCH_FORUM_FLAGS))

fmt:
	$(if $(GOFILES),gofmt -w $(GOFILES))

lint:
	@out="$(if $(GOFILES),$$(gofmt -l $(GOFILES)))"; \
	if [[ -n "$$out" ]]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin

db-stop:
	scripts/devdb.sh --stop

# Live chat benchmark of SPEC §8 (issue 5 item 12): fan-out 1k at 100 msg/s (from
# one and from 10 sender connections), 5k at 20 msg/s and 10,000 idle websockets,
# each against a fresh `forumjst serve` and a bare broadcast baseline in the same
# run, over loopback; a throwaway database on the DATABASE_URL server. About 5
# minutes; extra flags in BENCH_LIVE_FLAGS
# (e.g. BENCH_LIVE_FLAGS='--scenarios fanout1k --profile /tmp/prof').
.PHONY: bench-live build-bench
bench-live: build build-bench
	$(WITH_TEST_DB); \
	$(BENCH_BIN) live --forumjst $(BIN) $(BENCH_LIVE_FLAGS)

# Scale by simulation (issue 16 item 4): 3 `forumjst serve` instances on one
# throwaway database, 1,000 subscribers and 3 sender connections spread over
# them round robin, 100 msg/s for 20 s; reports the cross-instance delay
# (deliveries on another instance than the sending one, against the sending
# one's), the NOTIFY traffic, xact/s, WAL, wait events and CPU of PostgreSQL
# and each instance's CPU and memory. About a minute; extra flags in
# BENCH_SCALE_FLAGS, e.g. a rate ladder with 30 subscribers, which loads
# PostgreSQL rather than the fan-out:
# BENCH_SCALE_FLAGS='--scenarios scale3:30@500,scale3:30@1000,scale3:30@2000 --drain 10s'.
BENCH_SCALE_ARGS := --scenarios scale3 --duration 20s
.PHONY: bench-scale
bench-scale: build build-bench
	$(WITH_TEST_DB); \
	$(BENCH_BIN) live --forumjst $(BIN) $(BENCH_SCALE_ARGS) $(BENCH_SCALE_FLAGS)

# The load tools, kept out of the production binary.
build-bench:
	$(GO) build -o $(BENCH_BIN) ./cmd/forumjst-bench

# Search benchmark of SPEC §8 (issue 13): 1,000,000 generated posts in 5,000
# threads over 12 groups in a throwaway database on the DATABASE_URL server;
# p50/p99 for a common word, a rare word, a phrase and a prefix, ranked and
# newest first, and the search trigger's cost per post. A few minutes; extra
# flags in BENCH_SEARCH_FLAGS (e.g. BENCH_SEARCH_FLAGS='--posts 100000').
.PHONY: bench-search
bench-search: build-bench
	$(WITH_TEST_DB); \
	$(BENCH_BIN) search $(BENCH_SEARCH_FLAGS)

# Fault tests of SPEC §7 "Nothing lost" (issue 5 item 11): `forumjst serve`
# instances killed with SIGKILL mid-chat, PostgreSQL restarted (-m fast,
# -m immediate, a 2 s stop) under chat load, on a throwaway cluster of their own
# (initdb/pg_ctl; the shared test server is never touched). Verbose, with the
# figures of the run; under a minute. `make test` runs them too.
.PHONY: faults
faults:
	$(GO) test -race -count=1 -timeout 10m -v ./internal/faults/

# Soak (issue 16 item 5), not part of `make test`: two `forumjst serve`
# instances on one throwaway database for 30 minutes at ~10,000 deliveries/s
# (500 subscribers × 20 msg/s) with members leaving and resuming with
# since_seq, page reads and posting; a line per instance every minute, then
# a verdict (flat, nothing lost, released) and test-artifacts/soak-<date>.json.
# Fails when a check fails. Override with SOAK_FLAGS (e.g.
# SOAK_FLAGS='--duration 3m --every 20s'; forumjst-bench soak -h lists them).
.PHONY: soak
soak: build build-bench
	$(WITH_TEST_DB); \
	$(BENCH_BIN) soak --forumjst $(BIN) $(SOAK_FLAGS)
