//go:build !linux

package runtimetest

import (
	"os"
	"os/exec"
)

// dieWithParent: only Linux can tie a child's life to its parent; the
// daemons the helpers start run on Linux only anyway.
func dieWithParent(*exec.Cmd) {}

func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
