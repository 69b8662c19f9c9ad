// Package initgc turns the garbage collector off while the packages of
// ferry's process are initialised, and on again (Restore) when main
// starts. Helm's SDK, which ferry links for charts, builds Kubernetes'
// API scheme and compiles JSON meta-schemas at init: short-lived
// allocations that, at the runtime's 4 MB first heap goal, ran two or
// three collections before main. Without them `ferry version` took
// 23.5 ms instead of 26.9, a copy to a registry that holds the image
// 28.0 ms instead of 32.2 (hyperfine, 2 cores); the heap is about 6 MB
// when the first collection runs, after main has started.
//
// A package is initialised once the packages it imports are, the one
// with the lexically smallest import path first among those ready
// (Go 1.21's order); this one imports only runtime/debug, so it runs
// before Helm's and Kubernetes' packages, which sort after it and import
// far more.
package initgc

import "runtime/debug"

// percent is the collector's setting before init turned it off: GOGC's.
var percent = debug.SetGCPercent(-1)

// Restore gives the collector its setting back: main calls it first.
func Restore() { debug.SetGCPercent(percent) }
