# ferry — the two commands a new user runs first are `make demo` and `make test`.
GO ?= go
BIN := bin/ferry

.PHONY: build demo test cross cross-all fuzz bench release clean helm

# The platforms a release ships (make release, make cross-all).
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64

# build: static, as a release is (CGO off), so that make demo and make
# bench run what users run. Linked against libc (cgo's default where a C
# compiler is found), every start also loads the dynamic linker and libc:
# about 110 more page faults, 4-6 ms of `ferry version` on the bench machine.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/ferry

# demo: builds ferry, makes two homes (hq and plant-7), saves sample images
# for plant-7, verifies, loads and inspects, and prints what it did.
demo: build
	sh testdata/demo.sh

# test: vet, every test, and a fixed number of executions of each fuzz
# target. The budget is a count, never a duration: with -fuzztime=5s, go1.26's
# fuzzing coordinator can report its own deadline as a failure ("context
# deadline exceeded", golang/go#75804) when a starved worker is mid-input on
# a busy machine; a count has no deadline, so load only makes the run longer.
# -fuzzminimizetime=1x keeps go test from spending the run shrinking the
# first new input it finds.
FUZZEXECS ?= 20000
# fuzz NAME,PKG,PERCENT runs FUZZEXECS*PERCENT/100 inputs of one target
# (the percentage evens out the targets' speeds: FuzzLoad writes a store
# per input). Every fuzz target of the module is here
# (TestMakefile_RunsEveryFuzzTarget), each asserting a property, with
# its seed corpus under its package's testdata/fuzz.
fuzz = $(GO) test -run='^$$' -fuzzminimizetime=1x -fuzztime=$$(($(FUZZEXECS)*$(3)/100))x -fuzz='^$(1)$$' $(2)

# The programs under testdata (benchmarks, image generators): ./... skips
# testdata, so they are named here for vet to build, lest a rename break
# them unseen.
TESTDATA_PROGRAMS := $(addprefix ./,$(sort $(dir $(wildcard testdata/*/*.go))))

# Every build of make test has a release's flags (static, -trimpath), so
# that vet, the tests, the fuzzers and the release test (which builds ferry
# as make release does) compile each package once.
test: export CGO_ENABLED := 0
test: export GOFLAGS := -trimpath
test: cross
	$(GO) vet ./... $(TESTDATA_PROGRAMS)
	$(GO) test -count=1 ./...
	cd third_party/jsonschema && $(GO) test -count=1 ./...
	$(call fuzz,FuzzParseIndex,./format,100)
	$(call fuzz,FuzzReader,./format,75)
	$(call fuzz,FuzzReadReceipt,./format,100)
	$(call fuzz,FuzzParseReceipt,./format,100)
	$(call fuzz,FuzzParseSize,./spec,50)
	$(call fuzz,FuzzParse,./runtime,150)
	$(call fuzz,FuzzChildren,./runtime,200)
	$(call fuzz,FuzzParseIndex,./runtime/ocilayout,200)
	$(call fuzz,FuzzOpen,./runtime/internal/tarfile,50)
	$(call fuzz,FuzzReadStream,./runtime/internal/tarfile,50)
	$(call fuzz,FuzzFind,./runtime/helm,25)
	$(call fuzz,FuzzParse,./format/shipment,25)
	$(call fuzz,FuzzApply,./store/delta,25)
	$(call fuzz,FuzzRecipe,./internal/recompress,50)
	$(call fuzz,FuzzFind,./internal/recompress,50)
	$(call fuzz,FuzzLoad,./store/trip,3)

fuzz:
	$(MAKE) test FUZZEXECS=500000

# cross: vet every package, tests included, for Windows and macOS, the
# systems besides Linux a release ships for, so that a Linux-only call
# cannot land. Each is a cold compile of some 950 packages (about 3.6
# CPU-minutes); the release's other architectures (linux/arm64,
# darwin/amd64) differ from these only in architecture, and make release
# builds them (make cross-all builds every platform without releasing).
cross:
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...

cross-all: cross
	for p in $(PLATFORMS); do \
		CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -buildvcs=false -o /dev/null ./cmd/ferry || exit 1; \
	done

# release: static, reproducible binaries for every platform (the same
# commit and Go give the same bytes), each packed with README, LICENSE and
# the manual page (ferry help --man),
# SHA256SUMS of them all, and its SSHSIG signature (namespace
# ferry-release) with the key RELEASE_KEY names, so that a site checks a
# binary with ssh-keygen -Y verify before it runs it. See README, Install.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
RELEASE_DIR ?= dist
RELEASE_PLATFORMS ?= $(PLATFORMS)
RELEASE_KEY ?=
RELEASE_LDFLAGS = -s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)

release:
	rm -rf $(RELEASE_DIR)
	mkdir -p $(RELEASE_DIR)
	for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build $(RELEASE_DIR)/ferry-$$os-$$arch$$ext"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
			-ldflags '$(RELEASE_LDFLAGS)' -o $(RELEASE_DIR)/ferry-$$os-$$arch$$ext ./cmd/ferry || exit 1; \
	done
	$(GO) run -ldflags '-X main.version=$(VERSION)' ./cmd/ferry help --man > $(RELEASE_DIR)/ferry.1
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./cmd/ferry-release -dir $(RELEASE_DIR) README.md LICENSE $(RELEASE_DIR)/ferry.1
	@if [ -n "$(RELEASE_KEY)" ]; then \
		ssh-keygen -Y sign -f '$(RELEASE_KEY)' -n ferry-release $(RELEASE_DIR)/SHA256SUMS && \
		echo "signed $(RELEASE_DIR)/SHA256SUMS.sig"; \
	else \
		echo "NOT SIGNED: set RELEASE_KEY=path/to/ed25519-key to sign $(RELEASE_DIR)/SHA256SUMS"; \
	fi

# helm: the helm CLI the chart tests check ferry's charts with, built from
# the Go module proxy into the cache dir runtimetest.HelmPath names (the
# tests skip without it on a laptop; under CI=true they build it).
HELM_VERSION := v4.3.1
HELM_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ferry-test/helm-$(HELM_VERSION)

helm:
	GOBIN=$(HELM_DIR) $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)

# bench: every path of issue 13's table, ferry against docker, skopeo and
# crane on images it makes (testdata/bench: a Debian-like base, 20 small
# layers, a 2 GiB layer), with its own docker-registry and dockerd; one
# table of medians, ratios and peak RSS. crane is built from the version
# go.mod requires into BENCH_CACHE. BENCH_DIR keeps the images between
# runs; BENCH_FLAGS passes -runs N, -big-runs N, -only REGEXP, -big-mib N.
# BENCH_QUICK=1 measures 3 runs of each command (1 on the 2 GiB image):
# every row, in about half the time of the full run.
BENCH_CACHE ?= $(HOME)/.cache/ferry-bench
BENCH_DIR ?=
BENCH_FLAGS ?=
BENCH_QUICK ?=
GGCR_VERSION = $(shell $(GO) list -m -f '{{.Version}}' github.com/google/go-containerregistry)

bench: build
	@mkdir -p $(BENCH_CACHE)
	@test -x $(BENCH_CACHE)/crane-$(GGCR_VERSION) || { \
		GOBIN=$(BENCH_CACHE) $(GO) install github.com/google/go-containerregistry/cmd/crane@$(GGCR_VERSION) && \
		mv $(BENCH_CACHE)/crane $(BENCH_CACHE)/crane-$(GGCR_VERSION); }
	$(GO) run ./testdata/bench -ferry $(BIN) -crane $(BENCH_CACHE)/crane-$(GGCR_VERSION) $(if $(BENCH_DIR),-dir $(BENCH_DIR)) $(if $(BENCH_QUICK),-runs 3 -big-runs 1) $(BENCH_FLAGS)

clean:
	rm -rf bin demo dist
