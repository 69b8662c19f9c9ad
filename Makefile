# ferry — the two commands a new user runs first are `make demo` and `make test`.
GO ?= go
BIN := bin/ferry
FUZZTIME ?= 5s

.PHONY: build demo test fuzz bench clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/ferry

# demo: builds ferry, makes two homes (hq and plant-7), saves sample images
# for plant-7, verifies, loads and inspects, and prints what it did.
demo: build
	sh testdata/demo.sh

# test: vet, every test, and a few seconds of each fuzz target.
# -fuzzminimizetime keeps go test from spending the whole run shrinking
# the first new input it finds.
FUZZ = $(GO) test -run='^$$' -fuzzminimizetime=1x -fuzztime=$(FUZZTIME) -fuzz

test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(FUZZ)='^FuzzParseIndex$$' ./format
	$(FUZZ)='^FuzzReader$$' ./format
	$(FUZZ)='^FuzzReadReceipt$$' ./format
	$(FUZZ)='^FuzzParse$$' ./runtime
	$(FUZZ)='^FuzzChildren$$' ./runtime
	$(FUZZ)='^FuzzParseIndex$$' ./runtime/ocilayout
	$(FUZZ)='^FuzzOpen$$' ./runtime/internal/tarfile

fuzz:
	$(MAKE) test FUZZTIME=60s

# bench: Go benchmarks, then whole commands timed against cp and skopeo.
bench: build
	$(GO) test -run='^$$' -bench=. -benchtime=3x ./format ./store/... ./runtime/registry
	sh testdata/bench.sh

clean:
	rm -rf bin demo
