package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty returns the two ends of a new pseudo-terminal.
func openPty(t *testing.T) (pty, tty *os.File) {
	t.Helper()
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { pty.Close() })
	n, err := unix.IoctlGetInt(int(pty.Fd()), unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(int(pty.Fd()), unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		t.Skipf("pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return pty, tty
}

// TestSave_StdoutTerminal: save -o - refuses a terminal (a bundle is no
// thing to print) with a usage error, and writes nothing; /dev/null,
// which is a character device but no terminal, takes the bundle.
func TestSave_StdoutTerminal(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	_, tty := openPty(t)
	c := ferryCmd(s.dir, s.hq, "save", "oci:"+src+":v1", "-o", "-")
	var stderr strings.Builder
	c.Stdout, c.Stderr = tty, &stderr
	if err := c.Run(); c.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "terminal") {
		t.Errorf("save -o - to a terminal = %v, %s; want exit 2 saying it is a terminal", err, stderr.String())
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	c = ferryCmd(s.dir, s.hq, "save", "oci:"+src+":v1", "-o", "-")
	c.Stdout, c.Stderr = null, &stderr
	if err := c.Run(); err != nil {
		t.Errorf("save -o - > /dev/null = %v\n%s", err, stderr.String())
	}
	if m, _ := filepath.Glob(filepath.Join(s.dir, "*.ferry")); len(m) != 0 {
		t.Errorf("save -o - wrote files %v", m)
	}
}
