package recompress

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// writeTree writes files of compressible text (and one of noise) under
// dir, as an application's modules.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	in := sample()
	for i := range 12 {
		p := filepath.Join(dir, "app", fmt.Sprintf("m%d", i%3), fmt.Sprintf("f%02d.js", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, in[i*200<<10:(i+1)*200<<10], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(runtimetest.NeedTool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// lastLayer returns the last layer blob of the image tag in an OCI layout.
func lastLayer(t *testing.T, layout string) []byte {
	t.Helper()
	var ix ocispec.Index
	var m ocispec.Manifest
	read := func(d digest.Digest) []byte {
		b, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", d.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil || json.Unmarshal(b, &ix) != nil || len(ix.Manifests) == 0 {
		t.Fatalf("index.json of %s: %v", layout, err)
	}
	if err := json.Unmarshal(read(ix.Manifests[len(ix.Manifests)-1].Digest), &m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("manifest of %s: %v", layout, err)
	}
	return read(m.Layers[len(m.Layers)-1].Digest)
}

// TestFind_Umoci: umoci writes pgzip in 256 KiB blocks at the default
// level with the klauspost/compress it was built with.
func TestFind_Umoci(t *testing.T) {
	dir := t.TempDir()
	layout, bundle := filepath.Join(dir, "oci"), filepath.Join(dir, "bundle")
	run(t, "umoci", "init", "--layout", layout)
	run(t, "umoci", "new", "--image", layout+":t")
	run(t, "umoci", "unpack", "--rootless", "--image", layout+":t", bundle)
	writeTree(t, filepath.Join(bundle, "rootfs"))
	run(t, "umoci", "repack", "--image", layout+":t", bundle)
	checkRealLayer(t, "umoci", lastLayer(t, layout), 256<<10)
}

// TestFind_Skopeo: containers/image (skopeo, podman, buildah) writes
// pgzip in 1 MiB blocks.
func TestFind_Skopeo(t *testing.T) {
	dir := t.TempDir()
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	in := sample()
	for i := range 8 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("app/f%d", i), Mode: 0o644, Size: 300 << 10, Typeflag: tar.TypeReg})
		tw.Write(in[i*300<<10 : (i+1)*300<<10])
	}
	tw.Close()
	src := layoutWithLayer(t, filepath.Join(dir, "src"), tarball.Bytes())
	run(t, "skopeo", "copy", "--dest-compress", "--dest-compress-format", "gzip", "oci:"+src+":t", "oci:"+filepath.Join(dir, "dst")+":t")
	checkRealLayer(t, "skopeo", lastLayer(t, filepath.Join(dir, "dst")), 1<<20)
}

// checkRealLayer finds the recipe of a layer an independent tool wrote,
// and rebuilds it exactly.
func checkRealLayer(t *testing.T, tool string, blob []byte, block int64) {
	t.Helper()
	raw, _, err := Open(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	var tarball bytes.Buffer
	if _, err := tarball.ReadFrom(raw); err != nil {
		t.Fatal(err)
	}
	r, err := findAndRebuild(t, blob, tarball.Bytes())
	if err != nil {
		t.Fatalf("Find(layer by %s): %v", tool, err)
	}
	if r.BlockSize != block || (r.Encoder != Klauspost118 && r.Encoder != KlauspostFlate) {
		t.Errorf("recipe of %s's layer = %+v, want pgzip blocks of %d", tool, r, block)
	}
	t.Logf("%s: %+v", tool, r)
}

// layoutWithLayer writes an OCI layout whose image "t" has one
// uncompressed layer.
func layoutWithLayer(t *testing.T, dir string, layer []byte) string {
	t.Helper()
	put := func(b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return ocispec.Descriptor{Digest: d, Size: int64(len(b))}
	}
	mustJSON := func(v any) []byte { b, _ := json.Marshal(v); return b }
	l := put(layer)
	l.MediaType = ocispec.MediaTypeImageLayer
	c := put(mustJSON(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{l.Digest}}}))
	c.MediaType = ocispec.MediaTypeImageConfig
	m := put(mustJSON(ocispec.Manifest{Versioned: specsVersioned, MediaType: ocispec.MediaTypeImageManifest, Config: c, Layers: []ocispec.Descriptor{l}}))
	m.MediaType = ocispec.MediaTypeImageManifest
	m.Annotations = map[string]string{ocispec.AnnotationRefName: "t"}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "index.json"), mustJSON(ocispec.Index{Versioned: specsVersioned, Manifests: []ocispec.Descriptor{m}}), 0o644)
	return dir
}

var specsVersioned = specs.Versioned{SchemaVersion: 2}
