package delta

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(runtimetest.NeedTool(t, name), args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// umociLayer builds, with umoci, a one-layer image of tree and returns
// its layer: pgzip in 256 KiB blocks, as umoci writes every layer.
func umociLayer(t *testing.T, tree deltatest.Tree) []byte {
	t.Helper()
	dir := t.TempDir()
	layout, bundle := filepath.Join(dir, "oci"), filepath.Join(dir, "bundle")
	run(t, "umoci", "init", "--layout", layout)
	run(t, "umoci", "new", "--image", layout+":t")
	run(t, "umoci", "unpack", "--rootless", "--image", layout+":t", bundle)
	if err := tree.WriteDir(filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	run(t, "umoci", "repack", "--image", layout+":t", bundle)
	read := func(d digest.Digest) []byte {
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var ix ocispec.Index
	var m ocispec.Manifest
	b, _ := os.ReadFile(filepath.Join(layout, "index.json"))
	if json.Unmarshal(b, &ix) != nil || len(ix.Manifests) != 1 || json.Unmarshal(read(ix.Manifests[0].Digest), &m) != nil || len(m.Layers) != 1 {
		t.Fatalf("umoci wrote an unexpected layout in %s", layout)
	}
	return read(m.Layers[0].Digest)
}

// TestBuild_Umoci: two releases of an application, each built by umoci
// from scratch (new file times, 3 files edited, 2 added, 2 removed).
func TestBuild_Umoci(t *testing.T) {
	v1 := deltatest.App(1, 40, 40<<10)
	tr := newTrip(t, umociLayer(t, v1), umociLayer(t, v1.Next(2, 3, 2, 2)))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if r := res.Delta.Recipe; r.BlockSize != 256<<10 || !strings.HasPrefix(r.Encoder, "klauspost-flate@") {
		t.Errorf("recipe %+v, want pgzip's 256 KiB blocks", r)
	}
	if pct := 100 * float64(len(d)) / float64(len(tr.next)); pct > 15 {
		t.Errorf("delta is %.1f%% of the layer", pct)
	}
	if err := tr.load(res.Delta, d); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// TestBuild_Unreproducible: layers that zlib wrote (the gzip command,
// Python) ship whole, and the reason says so.
func TestBuild_Unreproducible(t *testing.T) {
	v1 := deltatest.App(1, 20, 20<<10)
	base, next := layerOf(t, v1, deltatest.None, t1), layerOf(t, v1.Next(2, 2, 1, 1), deltatest.None, t2)
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		{"gzip -n", []string{"gzip", "-n", "-c"}},
		{"python zlib", []string{"python3", "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read(), mtime=0))"}},
	} {
		compress := func(b []byte) []byte {
			cmd := exec.Command(runtimetest.NeedTool(t, tc.cmd[0]), tc.cmd[1:]...)
			cmd.Stdin = bytes.NewReader(b)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			return out
		}
		tr := newTrip(t, compress(base), compress(next))
		_, _, err := tr.build(t)
		if r, ok := IsSkip(err); !ok || r != NoRecipe || !strings.Contains(err.Error(), "written by an encoder ferry cannot reproduce") {
			t.Errorf("%s: Build = %v, want a skip: no recipe", tc.name, err)
		}
	}
}
