package startgc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// gcPercent reads the collector's setting without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

func TestMain(m *testing.M) {
	if os.Getenv("STARTGC_PROBE") == "1" {
		// The setting before any collection, and once the finalizer the
		// first collection queues has run (on its own goroutine).
		before := gcPercent()
		runtime.GC()
		// Where a change is due, wait for it; else give a finalizer,
		// if one was wrongly set, the time to run.
		wait := 50 * time.Millisecond
		if os.Getenv("GOGC") == "" {
			wait = 10 * time.Second
		}
		after := gcPercent()
		for deadline := time.Now().Add(wait); (after == before || wait < time.Second) && time.Now().Before(deadline); after = gcPercent() {
			time.Sleep(time.Millisecond)
		}
		fmt.Println(before, after)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestInit: without GOGC, the first collection waits for a heap of
// 12 MB, and the collector is back at 100 after it; a GOGC the user set
// is left alone.
func TestInit(t *testing.T) {
	for _, c := range []struct{ gogc, want string }{
		{"", "300 100"},
		{"50", "50 50"},
		{"off", "-1 -1"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = []string{"STARTGC_PROBE=1"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GOGC=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if c.gogc != "" {
			cmd.Env = append(cmd.Env, "GOGC="+c.gogc)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("GOGC=%q: %v\n%s", c.gogc, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("GOGC=%q: collector setting before and after the first collection %q, want %q", c.gogc, got, c.want)
		}
	}
}
