package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestStart_NoHeavyPackageInit: every ferry command pays for the init of
// every package linked in, before it does anything. What a package's init
// allocates is a count, not a time, so it is checked here (the time is
// make bench's "start" row): no package may allocate more than 1 MiB at
// init. Upstream jsonschema/v6 compiles five drafts' meta-schemas in init
// (1.7 MB, about 9 ms of a 25 ms start); ferry's fork
// (third_party/jsonschema) does it at the first Compile. This fails if the
// go.mod replace goes, or a new dependency does such work at start.
func TestStart_NoHeavyPackageInit(t *testing.T) {
	const limit = 1 << 20
	trace := traceVersion(t, "inittrace=1", "")
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(trace))
	for sc.Scan() {
		// init PKG @0.5 ms, 0.2 ms clock, 9512 bytes, 159 allocs
		f := strings.Fields(sc.Text())
		if len(f) < 11 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen++
		n, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		if n > limit {
			t.Errorf("package %s allocates %d bytes at init (limit %d): every ferry command pays for it; make it lazy (as third_party/jsonschema does) or drop it", f[1], n, limit)
		}
	}
	if seen < 50 {
		t.Fatalf("GODEBUG=inittrace=1 printed %d init lines, want hundreds:\n%s", seen, trace)
	}
}

// TestStart_NoCollection: a command that does little (`ferry version`)
// runs no garbage collection at all (internal/startgc), unless the user's
// GOGC asks for the runtime's usual first goal, 4 MB, which ferry's
// package init alone nearly fills.
func TestStart_NoCollection(t *testing.T) {
	collections := func(gogc string) int {
		n := 0
		for _, line := range strings.Split(traceVersion(t, "gctrace=1", gogc), "\n") {
			if strings.HasPrefix(line, "gc ") {
				n++
			}
		}
		return n
	}
	if n := collections(""); n != 0 {
		t.Errorf("ferry version ran %d garbage collections, want none", n)
	}
	if n := collections("100"); n == 0 {
		t.Errorf("ferry version with GOGC=100 ran no garbage collection: then this test cannot fail")
	}
}

// traceVersion runs `ferry version` as a process of its own with GODEBUG
// set to godebug and GOGC to gogc (unset when ""), whatever the test's
// environment says of either, and returns what it printed on stderr.
func traceVersion(t *testing.T, godebug, gogc string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "version")
	cmd.Env = []string{"FERRY_TEST_AS_FERRY=1", "GODEBUG=" + godebug}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GODEBUG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if gogc != "" {
		cmd.Env = append(cmd.Env, "GOGC="+gogc)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("ferry version: %v\n%s%s", err, out, stderr.Bytes())
	}
	return stderr.String()
}
