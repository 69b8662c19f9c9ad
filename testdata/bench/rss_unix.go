//go:build unix

package main

import (
	"os"
	"syscall"
)

// peakRSS is the largest resident set of the process and of the children
// it waited for, in KiB.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}
