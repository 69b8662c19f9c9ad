# ferry — the two commands a new user runs first are `make demo` and `make test`.
GO ?= go
BIN := bin/ferry

.PHONY: build demo test fuzz bench clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/ferry

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
# fuzz NAME,PKG,WEIGHT runs FUZZEXECS*WEIGHT/4 inputs of one target (the
# weight evens out the targets' speeds).
fuzz = $(GO) test -run='^$$' -fuzzminimizetime=1x -fuzztime=$$(($(FUZZEXECS)*$(3)/4))x -fuzz='^$(1)$$' $(2)

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(call fuzz,FuzzParseIndex,./format,4)
	$(call fuzz,FuzzReader,./format,3)
	$(call fuzz,FuzzReadReceipt,./format,4)
	$(call fuzz,FuzzParseReceipt,./format,4)
	$(call fuzz,FuzzParse,./runtime,6)
	$(call fuzz,FuzzChildren,./runtime,8)
	$(call fuzz,FuzzParseIndex,./runtime/ocilayout,8)
	$(call fuzz,FuzzOpen,./runtime/internal/tarfile,1)

fuzz:
	$(MAKE) test FUZZEXECS=500000

# bench: Go benchmarks, then whole commands timed against cp and skopeo.
bench: build
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./format ./store/... ./runtime/registry
	sh testdata/bench.sh

clean:
	rm -rf bin demo
