package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// A connection cut mid-blob is resumed: the copy succeeds and the blob is
// whole.
func TestFetch_CutConnectionResumes(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushUmoci(t, reg.Host, "ns/big:1", 6, 1, 256<<10)
	_, img := open(t, reg.Host+"/ns/big:1", fast)
	layer := layers(t, mustOpen(t, reg.Host+"/ns/big:1"), img)[0]
	proxy := runtimetest.StartCutProxy(t, reg.Host, layer.Digest, layer.Size/2, 2)
	src, img := open(t, proxy.Host+"/ns/big:1", fast)
	dir := filepath.Join(t.TempDir(), "out")
	if err := copyToLayout(src, img, dir); err != nil {
		t.Fatalf("copy through a proxy that cuts twice = %v, want success", err)
	}
	if proxy.Cuts() != 2 {
		t.Errorf("proxy cut %d connections, want 2", proxy.Cuts())
	}
	runtimetest.Skopeo(t, "copy", "oci:"+dir, "oci:"+filepath.Join(t.TempDir(), "check")+":v")
}

// With every attempt cut, the error names the registry, the image and the
// blob, and the layout gets neither the blob nor the image.
func TestFetch_CutConnectionGivesUp(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushUmoci(t, reg.Host, "ns/big:1", 7, 1, 256<<10)
	_, img := open(t, reg.Host+"/ns/big:1", fast)
	layer := layers(t, mustOpen(t, reg.Host+"/ns/big:1"), img)[0]
	proxy := runtimetest.StartCutProxy(t, reg.Host, layer.Digest, 1000, 1000)
	src, img := open(t, proxy.Host+"/ns/big:1", fast)
	dir := filepath.Join(t.TempDir(), "out")
	err := copyToLayout(src, img, dir)
	if err == nil || errors.Is(err, spec.ErrNotFound) {
		t.Fatalf("copy through a proxy that always cuts = %v, want an error", err)
	}
	for _, s := range []string{"registry " + proxy.Host, "image " + proxy.Host + "/ns/big:1", string(layer.Digest), "after 3 retries"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", layer.Digest.Encoded())); err == nil {
		t.Errorf("the cut blob %s is in the layout", layer.Digest)
	}
	if _, err := os.Stat(filepath.Join(dir, spec.LayoutIndexEntry)); err == nil {
		t.Errorf("the layout has an index.json after a failed copy")
	}
}

// A registry that serves other bytes for a blob on a connection that is
// then cut, and the right ones when asked again: what is delivered is
// the start of one and the rest of the other, and the copy refuses it,
// naming the blob (every byte delivered is hashed, not only those of the
// last connection).
func TestFetch_ResumedOverOtherBytesFails(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushUmoci(t, reg.Host, "ns/big:1", 8, 1, 256<<10)
	_, img := open(t, reg.Host+"/ns/big:1", fast)
	layer := layers(t, mustOpen(t, reg.Host+"/ns/big:1"), img)[0]
	for _, c := range []struct {
		what  string
		after int64
		cuts  int
	}{
		{"other first bytes, then cut and resumed", layer.Size / 2, 1},
		{"other bytes on every connection, whole", layer.Size, 1000},
	} {
		proxy := runtimetest.StartCutProxy(t, reg.Host, layer.Digest, c.after, c.cuts)
		proxy.Garble = true
		src, img := open(t, proxy.Host+"/ns/big:1", fast)
		dir := filepath.Join(t.TempDir(), "out")
		err := copyToLayout(src, img, dir)
		var ve *spec.VerifyError
		if !errors.As(err, &ve) || ve.Want != layer.Digest {
			t.Errorf("%s: copy = %v, want a *spec.VerifyError for %s", c.what, err, layer.Digest)
		}
		if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", layer.Digest.Encoded())); err == nil {
			t.Errorf("%s: the bad blob %s is in the layout", c.what, layer.Digest)
		}
	}
}
