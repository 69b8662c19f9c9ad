// Package startgc lets a ferry command's heap grow to 12 MB before Go's
// garbage collector first runs, and gives the collector back its usual
// pacing (GOGC=100) after that first collection, as cmd/compile's
// AdjustStartingHeap does. Import it for its init; a GOGC in the
// environment is left as the user set it.
//
// Every command first runs the init of some 950 packages, which allocate
// about 4 MB (GODEBUG=inittrace=1): just past the runtime's first heap goal
// (4 MB), so that `ferry version` ran two collections and a held push or
// the verify of a small bundle two or three, each on a heap nearly all
// live. On a 2-core VM a collection at start cost far more than its
// work: it is what first spreads the process over several threads and
// CPUs. Without them `ferry version` went from 24-27 ms to 17-19 ms, a
// held push of 20 layers from about 29 ms to 24 ms, with fewer page
// faults, not more. A long command collects as before once its heap has
// passed 12 MB: its peak grows by at most the 8 MB more it may allocate
// before the first collection.
package startgc

import (
	"os"
	"runtime"
	"runtime/debug"
)

// startPercent sets the first heap goal: the runtime's minimum, 4 MB,
// times startPercent/100.
const startPercent = 300

// percent is GOGC's default, which the collector gets back.
const percent = 100

func init() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(startPercent)
	// The finalizer runs after the first collection, which finds the
	// object unreachable.
	type sentinel [32]byte // not tiny: the tiny allocator would share its block
	runtime.SetFinalizer(new(sentinel), func(*sentinel) { debug.SetGCPercent(percent) })
}
