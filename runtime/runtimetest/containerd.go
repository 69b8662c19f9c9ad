package runtimetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Containerd is a standalone containerd a test started.
type Containerd struct {
	// Address is its gRPC socket.
	Address string
	// Dir holds its config, root, state and log.
	Dir string
}

// StartContainerd runs /usr/bin/containerd (or the containerd on PATH)
// with its own root, state and socket in a new temporary directory, the
// CRI plugin and the snapshotters that need special file systems
// disabled, waits until its socket answers and stops it when the test
// ends. It skips the test when containerd is not installed (fails it
// under CI=true) and when the test does not run as root.
func StartContainerd(t testing.TB) *Containerd {
	t.Helper()
	bin := NeedTool(t, "containerd")
	NeedTool(t, "ctr")
	if os.Geteuid() != 0 {
		needRoot(t, "containerd")
	}
	dir := ShortTempDir(t)
	cd := &Containerd{Address: filepath.Join(dir, "c.sock"), Dir: dir}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(cd.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	d, err := startDaemon("containerd", exec.Command(bin, "--config", cfg), &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(os.Interrupt) })
	err = d.waitReady(50*time.Millisecond, func() error {
		c, err := net.Dial("unix", cd.Address)
		if err == nil {
			c.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return cd
}

func (cd *Containerd) config() string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(cd.Dir, "root"), filepath.Join(cd.Dir, "state"), cd.Address, cd.Address+".ttrpc")
}

// Ctr runs ctr against this containerd in namespace ns and returns its
// standard output.
func (cd *Containerd) Ctr(t testing.TB, ns string, args ...string) []byte {
	t.Helper()
	return run(t, "ctr", append([]string{"-a", cd.Address, "-n", ns}, args...)...)
}

// Import puts the image tagged tag of the OCI layout layoutDir into
// namespace ns as name, the way a user would without ferry: skopeo makes
// an oci-archive whose ref.name is name, and `ctr images import
// --no-unpack` reads it, keeping the manifest digest.
func (cd *Containerd) Import(t testing.TB, ns, layoutDir, tag, name string) {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	Skopeo(t, "copy", "--quiet", "oci:"+layoutDir+":"+tag, "oci-archive:"+archive+":"+name)
	cd.Ctr(t, ns, "images", "import", "--no-unpack", archive)
}

// Unpacked reports whether `ctr images check` shows image ref of
// namespace ns unpacked into the namespace's default snapshotter. Run it
// before MountImage, which unpacks.
func (cd *Containerd) Unpacked(t testing.TB, ns, ref string) bool {
	t.Helper()
	for _, line := range strings.Split(string(cd.Ctr(t, ns, "images", "check")), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == ref {
			return f[len(f)-1] == "true"
		}
	}
	t.Fatalf("ctr images check lists no %s in namespace %s", ref, ns)
	return false
}

// MountImage mounts the root file system of image ref of namespace ns
// read-only with `ctr images mount` (which unpacks it first if need be)
// and returns where; the test's end unmounts it.
func (cd *Containerd) MountImage(t testing.TB, ns, ref string) string {
	t.Helper()
	dir := t.TempDir()
	cd.Ctr(t, ns, "images", "mount", ref, dir)
	t.Cleanup(func() { run(t, "ctr", "-a", cd.Address, "-n", ns, "images", "unmount", "--rm", dir) })
	return dir
}

// needRoot skips a test that needs root, or fails it under CI=true.
func needRoot(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s needs root under CI=true", what)
	}
	t.Skipf("%s needs root", what)
}
