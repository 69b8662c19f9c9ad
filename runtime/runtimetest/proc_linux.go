package runtimetest

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel stop cmd when the test process dies, so
// that a killed test leaves no daemon behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

func killPid(pid int) { syscall.Kill(pid, syscall.SIGKILL) }
