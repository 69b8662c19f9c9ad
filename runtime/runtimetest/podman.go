package runtimetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Podman is a private podman storage for one test: vfs, so it needs no
// special file system, in a temporary directory. No daemon runs.
type Podman struct {
	// Conf is the storage.conf; NewPodman sets CONTAINERS_STORAGE_CONF
	// to it for the rest of the test.
	Conf string
	// GraphRoot and RunRoot are its storage directories.
	GraphRoot, RunRoot string
}

// NewPodman writes a storage.conf with driver "vfs" and its graphroot
// and runroot in a new temporary directory and points
// CONTAINERS_STORAGE_CONF at it (so the test cannot run in parallel). It
// skips the test when podman is not installed or the test does not run
// as root (fails it under CI=true).
func NewPodman(t *testing.T) *Podman {
	t.Helper()
	NeedTool(t, "podman")
	if os.Geteuid() != 0 {
		needRoot(t, "podman with a private storage")
	}
	dir := ShortTempDir(t)
	p := &Podman{
		Conf:      filepath.Join(dir, "storage.conf"),
		GraphRoot: filepath.Join(dir, "graph"),
		RunRoot:   filepath.Join(dir, "run"),
	}
	conf := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", p.GraphRoot, p.RunRoot)
	if err := os.WriteFile(p.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_STORAGE_CONF", p.Conf)
	return p
}

// Run runs podman with args on this storage and returns its standard
// output.
func (p *Podman) Run(t testing.TB, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(NeedTool(t, "podman"), args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_STORAGE_CONF="+p.Conf)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("podman %v: %v\n%s", args, err, stderr)
	}
	return out
}

// Storage is the containers-storage reference of name in this storage,
// as skopeo takes it.
func (p *Podman) Storage(name string) string {
	return "containers-storage:[vfs@" + p.GraphRoot + "+" + p.RunRoot + "]" + name
}

// Import puts the image tagged tag of the OCI layout layoutDir into this
// storage as name, with skopeo, the way a user would without ferry.
func (p *Podman) Import(t testing.TB, layoutDir, tag, name string) {
	t.Helper()
	Skopeo(t, "copy", "--quiet", "oci:"+layoutDir+":"+tag, p.Storage(name))
}

// ShortTempDir is a new temporary directory with a short path, removed
// when the test ends: podman refuses a runroot longer than 50 bytes and a
// unix socket's path is limited to 108, both too short for t.TempDir().
func ShortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ft")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
