package containerd_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/containerd"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestConformance(t *testing.T) {
	cd := runtimetest.StartContainerd(t)
	var n atomic.Int32
	runtimetest.Run(t, "containerd", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			opts := containerd.Options{Address: cd.Address, Namespace: fmt.Sprintf("suite%d", n.Add(1))}
			tgt, err := containerd.NewTarget(opts)
			if err != nil {
				t.Fatal(err)
			}
			return tgt, func() (runtime.Source, error) { return containerd.Open("", opts) }
		},
	})
}

// copyImages writes every image of src to tgt.
func copyImages(t *testing.T, src runtime.Source, tgt runtime.Target) []runtime.Image {
	t.Helper()
	ctx := context.Background()
	imgs, err := src.Resolve(ctx)
	if err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	if err := tgt.Write(ctx, imgs, src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	return imgs
}

// TestSource_KeepsDigest: an image ctr imported, read by ferry into an
// OCI layout, has the manifest digest skopeo saw before.
func TestSource_KeepsDigest(t *testing.T) {
	cd := runtimetest.StartContainerd(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	runtimetest.UmociImage(t, in, "v1", 11, 3, 4096)
	cd.Import(t, "src", in, "v1", "docker.io/library/app:1.0")
	for _, ref := range []string{"docker.io/library/app:1.0", "app:1.0"} {
		src, err := containerd.Open(ref, containerd.Options{Address: cd.Address, Namespace: "src"})
		if err != nil {
			t.Fatal(err)
		}
		imgs := copyImages(t, src, ocilayout.NewTarget(out, ""))
		src.Close()
		if len(imgs) != 1 || imgs[0].Name != "docker.io/library/app:1.0" {
			t.Errorf("Resolve(%s) = %v, want docker.io/library/app:1.0", ref, imgs)
		}
	}
	want := runtimetest.SkopeoDigest(t, "oci:"+in+":v1")
	if got := runtimetest.SkopeoDigest(t, "oci:"+out+":docker.io/library/app:1.0"); got != want {
		t.Errorf("containerd -> oci digest = %s, want %s", got, want)
	}
}

// TestTarget_CtrSees: images ferry writes are listed by ctr, complete,
// in the namespace CONTAINERD_NAMESPACE names, and survive a garbage
// collection after the lease is gone.
func TestTarget_CtrSees(t *testing.T) {
	cd := runtimetest.StartContainerd(t)
	t.Setenv("CONTAINERD_ADDRESS", cd.Address)
	t.Setenv("CONTAINERD_NAMESPACE", "site")
	dir := filepath.Join(t.TempDir(), "in")
	runtimetest.UmociImage(t, dir, "v1", 12, 2, 3000)
	runtimetest.UmociImage(t, dir, "v2", 13, 2, 3000)
	src, err := ocilayout.FromPath(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := src.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	imgs[0].Name, imgs[1].Name = "example.com/ferry/app:v1", "example.com/ferry/app:v2"
	tgt, err := containerd.NewTarget(containerd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Write(context.Background(), imgs, src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	// Removing v2 synchronously runs the garbage collector: v1's blobs
	// must stay, held by their labels and not by the lease.
	cd.Ctr(t, "site", "images", "rm", "--sync", "example.com/ferry/app:v2")
	ls := string(cd.Ctr(t, "site", "images", "ls"))
	if !strings.Contains(ls, "example.com/ferry/app:v1") || !strings.Contains(ls, string(imgs[0].Desc.Digest)) {
		t.Errorf("ctr images ls =\n%s\nwant example.com/ferry/app:v1 at %s", ls, imgs[0].Desc.Digest)
	}
	if check := string(cd.Ctr(t, "site", "images", "check")); !strings.Contains(check, "complete") {
		t.Errorf("ctr images check =\n%s\nwant complete", check)
	}
	// Unpacked by default, as ctr images import does, and the snapshots
	// outlive the lease too.
	if !cd.Unpacked(t, "site", "example.com/ferry/app:v1") {
		t.Errorf("ctr images check: example.com/ferry/app:v1 is not unpacked")
	}
	root := cd.MountImage(t, "site", "example.com/ferry/app:v1")
	if b, err := os.ReadFile(filepath.Join(root, "data", "v1-1")); err != nil || len(b) != 3000 {
		t.Errorf("the mounted image's data/v1-1 = %d bytes, %v; want 3000", len(b), err)
	}
	names, err := containerd.List(context.Background(), containerd.Options{})
	if err != nil || !slices.Equal(names, []string{"example.com/ferry/app:v1"}) {
		t.Errorf("List = %v, %v, want [example.com/ferry/app:v1]", names, err)
	}
	if other, err := containerd.List(context.Background(), containerd.Options{Namespace: "other"}); err != nil || len(other) != 0 {
		t.Errorf("List(namespace other) = %v, %v, want none", other, err)
	}
}

// TestTarget_NoUnpack: with NoUnpack the image is written and left
// packed, as ctr images import --no-unpack leaves it.
func TestTarget_NoUnpack(t *testing.T) {
	cd := runtimetest.StartContainerd(t)
	dir := filepath.Join(t.TempDir(), "in")
	runtimetest.UmociImage(t, dir, "v1", 14, 1, 1000)
	src, err := ocilayout.FromPath(dir, "v1")
	if err != nil {
		t.Fatal(err)
	}
	imgs, _ := src.Resolve(context.Background())
	imgs[0].Name = "example.com/ferry/packed:v1"
	tgt, err := containerd.NewTarget(containerd.Options{Address: cd.Address, Namespace: "packed", NoUnpack: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Write(context.Background(), imgs, src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	if cd.Unpacked(t, "packed", "example.com/ferry/packed:v1") {
		t.Errorf("NoUnpack: the image was unpacked")
	}
}

func TestSource_NotFound(t *testing.T) {
	cd := runtimetest.StartContainerd(t)
	src, err := containerd.Open("example.com/none:1", containerd.Options{Address: cd.Address, Namespace: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.Resolve(context.Background())
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "example.com/none:1") ||
		!strings.Contains(err.Error(), "namespace empty") || !strings.Contains(err.Error(), cd.Address) {
		t.Errorf("Resolve(absent) = %v, want ErrNotFound naming image, namespace and socket", err)
	}
}

func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "none.sock")
	_, err := containerd.List(context.Background(), containerd.Options{Address: sock})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), sock) {
		t.Errorf("List(no socket) = %v, want fs.ErrNotExist naming %s", err, sock)
	}
	// A socket nobody listens on.
	l, err := net.Listen("unix", filepath.Join(dir, "dead.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = containerd.List(ctx, containerd.Options{Address: filepath.Join(dir, "dead.sock")})
	if err == nil || !strings.Contains(err.Error(), "dead.sock") {
		t.Errorf("List(dead socket) = %v, want an error naming it", err)
	}
	if _, err := containerd.Open("x", containerd.Options{Address: sock, Namespace: "bad/ns"}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Open(namespace bad/ns) = %v, want ErrBadInput", err)
	}
}
