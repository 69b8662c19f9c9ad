package initgc

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
)

// TestRestore: the collector is off from this package's init until
// Restore, which gives it GOGC's setting back (100 when unset).
func TestRestore(t *testing.T) {
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("the collector's setting before Restore = %d, want -1 (off since init)", got)
	}
	want := 100
	if v, err := strconv.Atoi(os.Getenv("GOGC")); err == nil {
		want = v
	} else if os.Getenv("GOGC") == "off" {
		want = -1
	}
	Restore()
	if got := debug.SetGCPercent(want); got != want {
		t.Errorf("the collector's setting after Restore = %d, want %d (GOGC=%q)", got, want, os.Getenv("GOGC"))
	}
}
