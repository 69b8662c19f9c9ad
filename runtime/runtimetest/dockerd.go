package runtimetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Dockerd is a private Docker Engine a test started: its own data root,
// exec root (where it starts its own containerd) and socket, the vfs
// storage driver, no iptables and no bridge.
type Dockerd struct {
	Host   string // unix://<Socket>, for DOCKER_HOST and Options.Host
	Socket string
	Root   string // holds data/, exec/, the pidfile and the log
}

var dockerdSeq atomic.Int64

// StartDockerd starts a dockerd (LaunchDockerd) and stops it when the
// test ends.
func StartDockerd(t testing.TB) *Dockerd {
	t.Helper()
	NeedTool(t, "dockerd")
	NeedTool(t, "containerd")
	d, stop, err := LaunchDockerd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Log(err)
		}
	})
	return d
}

// LaunchDockerd starts a dockerd and waits until it answers. stop stops
// it (SIGTERM, then SIGKILL after 15 s) and removes its directory. The
// directory is made with os.MkdirTemp under the system temp dir, short
// enough for the 108-byte limit on unix socket paths. Each dockerd starts
// its own containerd under its exec root and gets its own containerd
// namespaces, so two can run side by side even when they share a system
// containerd. For TestMain, where there is no testing.TB.
func LaunchDockerd() (d *Dockerd, stop func() error, err error) {
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, nil, err
	}
	root, err := os.MkdirTemp("", "fd")
	if err != nil {
		return nil, nil, err
	}
	d = &Dockerd{Root: root, Socket: filepath.Join(root, "docker.sock")}
	d.Host = "unix://" + d.Socket
	ns := fmt.Sprintf("ferry%d-%d", os.Getpid(), dockerdSeq.Add(1))
	logf, err := os.Create(filepath.Join(root, "dockerd.log"))
	if err != nil {
		return nil, nil, err
	}
	proc, err := startDaemon("dockerd", exec.Command(bin, "--storage-driver=vfs", "--iptables=false", "--bridge=none",
		"--data-root", filepath.Join(root, "data"), "--exec-root", filepath.Join(root, "exec"),
		"--host", d.Host, "--pidfile", filepath.Join(root, "dockerd.pid"),
		"--containerd-namespace", ns, "--containerd-plugins-namespace", ns+"-plugins"), logf)
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	stop = func() error { return d.stop(proc) }
	if err := proc.waitReady(100*time.Millisecond, d.ping); err != nil {
		log, _ := os.ReadFile(filepath.Join(root, "dockerd.log"))
		stop()
		return nil, nil, fmt.Errorf("dockerd at %s: %v\n%s", d.Host, err, dockerdLogTail(log, 4000))
	}
	return d, stop, nil
}

// ping asks the engine whether it is up.
func (d *Dockerd) ping() error {
	resp, err := d.HTTPClient().Get("http://docker/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/_ping: %s", resp.Status)
	}
	return nil
}

// HTTPClient talks to the engine's socket: use http://docker/PATH.
func (d *Dockerd) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			return nd.DialContext(ctx, "unix", d.Socket)
		},
	}}
}

func (d *Dockerd) stop(proc *daemon) error {
	proc.stop(syscall.SIGTERM)
	// dockerd stops the containerd it started; make sure of it.
	if b, err := os.ReadFile(filepath.Join(d.Root, "exec", "containerd", "containerd.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			killPid(pid)
		}
	}
	return os.RemoveAll(d.Root)
}

func dockerdLogTail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Docker runs the docker command line against this engine and returns
// its standard output, failing the test on error.
func (d *Dockerd) Docker(t testing.TB, args ...string) []byte {
	t.Helper()
	out, err := d.TryDocker(t, args...)
	if err != nil {
		t.Fatalf("docker %v: %v", args, err)
	}
	return out
}

// TryDocker is Docker returning the error (with stderr) instead.
func (d *Dockerd) TryDocker(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(NeedTool(t, "docker"), args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host, "DOCKER_CONFIG="+filepath.Join(d.Root, "cli"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

// ImageID is the engine's ID of image ref (sha256:…).
func (d *Dockerd) ImageID(t testing.TB, ref string) string {
	t.Helper()
	return strings.TrimSpace(string(d.Docker(t, "image", "inspect", "--format", "{{.Id}}", ref)))
}

// SkopeoLoad copies the image at src (any skopeo name, e.g. oci:DIR:TAG)
// into the engine as name, with skopeo, independently of ferry.
func (d *Dockerd) SkopeoLoad(t testing.TB, src, name string) {
	t.Helper()
	Skopeo(t, "copy", "--quiet", "--dest-daemon-host", d.Host, src, "docker-daemon:"+name)
}

// RemoveAllImages removes every container and image the engine holds.
func (d *Dockerd) RemoveAllImages(t testing.TB) {
	t.Helper()
	if ids := strings.Fields(string(d.Docker(t, "ps", "-aq"))); len(ids) > 0 {
		d.Docker(t, append([]string{"rm", "-f"}, ids...)...)
	}
	if ids := strings.Fields(string(d.Docker(t, "images", "-aq"))); len(ids) > 0 {
		d.Docker(t, append([]string{"rmi", "-f"}, ids...)...)
	}
}
