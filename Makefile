# Lethe. Needs only Go, Node 20 (with npm) and Java 17; `make deps` installs everything else into the
# repository (tools/npm/node_modules, .tools/), and every target that needs it depends on it.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:

GO      ?= go
NPM     ?= npm
NPM_DIR := tools/npm
# DynamoDB Local's install folder; set LETHE_DYNAMODB_LOCAL_DIR to keep it elsewhere (internal/local/localaws
# reads the same variable, relative paths are from the repository root).
DYNAMODB_LOCAL_DIR := $(or $(LETHE_DYNAMODB_LOCAL_DIR),.tools/dynamodb-local)
LETHE   := bin/lethe
ASL     := $(wildcard statemachines/*.asl.json)
GO_TEST_FLAGS ?= -count=1 -timeout 20m
# Packages whose work runs in concurrent pipelines (the retention sweep's scan and writer, the erasure
# engine, bulk writes, the deletion handlers) run their tests a second time under the race detector
# (gcc is on the machine for cgo): a lost append between goroutines once cost the sweep a deletion.
RACE_PKGS := ./internal/retention/ ./internal/erasure/ ./internal/bulkwrite/ ./internal/deletion/

.PHONY: all deps build vet asl test run clean clean-data

all: build

## deps: npm tools (SES emulator, ASL validator), DynamoDB Local, Go modules
deps: $(NPM_DIR)/node_modules/.package-lock.json $(DYNAMODB_LOCAL_DIR)/.installed
	$(GO) mod download

# npm ci rewrites node_modules/.package-lock.json; the touch makes it newer than the lock file even
# when npm keeps the old timestamp.
$(NPM_DIR)/node_modules/.package-lock.json: $(NPM_DIR)/package-lock.json $(NPM_DIR)/package.json
	cd $(NPM_DIR) && $(NPM) ci --no-audit --no-fund
	touch $@

$(DYNAMODB_LOCAL_DIR)/.installed: tools/fetch-dynamodb-local.sh
	tools/fetch-dynamodb-local.sh $(DYNAMODB_LOCAL_DIR)

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

# The lethe CLI, built rather than `go run` so that signals reach it directly. A first build compiles
# the AWS SDK and every dependency, which takes minutes on a small machine: say so before it starts.
$(LETHE): FORCE
	@if [ ! -x $@ ]; then echo "building $@ (first run: about 2 minutes on 2 quiet CPUs, longer on a busy machine; later runs take seconds) …"; \
	else echo "building $@ (up to date in seconds unless the code changed) …"; fi
	$(GO) build -v -o $@ ./cmd/lethe 2>&1 | awk '/^[^ :]+$$/ { if (++n % 50 == 0) { printf "  … %d packages compiled\n", n; fflush() } next } { print; fflush() } \
		END { if (n) printf "  %d package%s compiled\n", n, (n == 1 ? "" : "s") }'
.PHONY: FORCE
FORCE:

## asl: validate every state machine definition with asl-validator
asl: $(NPM_DIR)/node_modules/.package-lock.json
ifneq ($(ASL),)
	$(NPM_DIR)/node_modules/.bin/asl-validator $(addprefix --json-path ,$(ASL))
else
	@echo "asl: no statemachines/*.asl.json yet"
endif

# A run that fails only because Go's fuzzing engine overran its deadline while stopping its workers
# (a slow machine; no failing input is written) is run once more; any real finding fails at once.
# Fuzz targets of the parsers of untrusted input, each given FUZZ_TIME of new inputs in `make test`
# (their seed corpora already run as ordinary tests); `make fuzz FUZZ_TIME=10m` digs deeper.
FUZZ_TIME ?= 10s
FUZZ_TARGETS := ./internal/inmail:FuzzParseClassify \
	./internal/channels:FuzzParseSignedRequest ./internal/channels:FuzzParseWhatsApp ./internal/channels:FuzzSlack \
	./internal/channels:FuzzParseTelegram ./internal/channels:FuzzParseVK ./internal/channels:FuzzParseViber

## test: vet, ASL validation, every Go test against one shared set of local emulators, the concurrent
## packages again under the race detector, short fuzzing
test: deps vet asl chromium readme-tools $(LETHE)
	$(LETHE) testenv -- $(GO) test $(GO_TEST_FLAGS) ./...
	$(LETHE) testenv -- $(GO) test -race $(GO_TEST_FLAGS) $(RACE_PKGS)
	$(MAKE) --no-print-directory fuzz

## chromium: the headless browser the console's browser tests drive (internal/console/browsertest);
## installed with apt-get when missing and this runs as root (CI). Otherwise a message says how, and
## the browser tests skip with that reason, except under CI=true, where they fail.
.PHONY: chromium
chromium:
	@if [ -n "$${LETHE_CHROMIUM:-}" ] && [ -x "$${LETHE_CHROMIUM}" ]; then exit 0; fi; \
	if command -v chromium >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "chromium: installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
		echo "chromium: not found; install it (sudo apt-get install chromium) or set LETHE_CHROMIUM to a Chromium binary."; \
		echo "chromium: the browser tests skip without it, and fail under CI=true."; \
	fi

## readme-tools: what the README's commands use (bash, curl, jq, openssl), which internal/readmetest runs;
## installed with apt-get when missing and this runs as root (CI). Otherwise a message says how, and
## the README test skips with that reason, except under CI=true, where it fails.
README_TOOLS := bash:bash curl:curl jq:jq openssl:openssl
.PHONY: readme-tools
readme-tools:
	@missing=""; for t in $(README_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t##*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "readme-tools: installing Debian's$$missing for the README test"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
		echo "readme-tools: missing$$missing; install them (sudo apt-get install$$missing)."; \
		echo "readme-tools: the README test skips without them, and fails under CI=true."; \
	fi

## fuzz: run every fuzz target for FUZZ_TIME
.PHONY: fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZ_TIME)"; \
		for try in 1 2; do \
			out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) $$pkg 2>&1) && { echo "$$out" | tail -3; break; }; \
			echo "$$out" | tail -20; \
			if [ $$try = 1 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
				echo "fuzz $$name: the fuzzing engine overran its own deadline while stopping (no failing input); once more"; \
			else exit 1; fi; \
		done; \
	done

## run: the whole system on 127.0.0.1 until Ctrl-C
run: deps $(LETHE)
	$(LETHE) local

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with ARTIFACTS_DIR set: the function
# OpenRequestFunction is built from functions/open-request as the arm64 `bootstrap` binary.
build-%Function:
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

## deploy: build every function and deploy the stack with AWS SAM (sam CLI and credentials required)
.PHONY: deploy
deploy:
	sam build && sam deploy --guided

## bench: benchmarks on a stack of their own → bench/results.json, BENCHMARKS.md: hard delete at 10k,100k,1m items, the sweep at 100k,1m (BENCH_QUICK=1: 10k,20k and 10k,20k, under 3 min)
.PHONY: bench
bench: deps $(LETHE)
	$(LETHE) bench

## clean-data: forget make run's demo data (it is seeded again on the next run)
clean-data:
	rm -rf .local

clean: clean-data
	rm -rf bin .tools $(NPM_DIR)/node_modules
