package runtimetest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
)

func TestUmociImage_Deterministic(t *testing.T) {
	a := UmociImage(t, filepath.Join(t.TempDir(), "a"), "v1", 42, 3, 512)
	b := UmociImage(t, filepath.Join(t.TempDir(), "b"), "v1", 42, 3, 512)
	if a.Digest != b.Digest {
		t.Errorf("UmociImage(seed 42) twice = %s and %s, want equal", a.Digest, b.Digest)
	}
	dir := filepath.Join(t.TempDir(), "c")
	c := UmociImage(t, dir, "v1", 43, 3, 512)
	if c.Digest == a.Digest {
		t.Errorf("UmociImage(seed 43) = UmociImage(seed 42)")
	}
	var layers int
	_, err := runtime.Walk(context.Background(), DirFetcher(dir), runtime.Image{Desc: c}, func(b runtime.Blob) error {
		if b.Desc.MediaType == ocispec.MediaTypeImageLayerGzip {
			layers++
		}
		return nil
	})
	if err != nil || layers != 3 {
		t.Errorf("UmociImage(3 layers) has %d layers, %v", layers, err)
	}
	if got := SkopeoDigest(t, "oci:"+dir+":v1"); got != c.Digest {
		t.Errorf("SkopeoDigest = %s, want %s", got, c.Digest)
	}
}

// TestRandomImage: the same arguments give the same image, another seed
// another; the config's diff_ids are its layers' tars; and the tools the
// transports are judged by read it: skopeo finds its digest, umoci
// unpacks it.
func TestRandomImage(t *testing.T) {
	a, b := Blobs{}, Blobs{}
	one, two := RandomImage(a, 7, 3, 1000), RandomImage(b, 7, 3, 1000)
	if one.Digest != two.Digest || len(a) != len(b) {
		t.Errorf("RandomImage(seed 7) twice = %s and %s, want equal", one.Digest, two.Digest)
	}
	if other := RandomImage(b, 8, 3, 1000); other.Digest == one.Digest {
		t.Errorf("RandomImage(seed 8) = RandomImage(seed 7)")
	}
	g, err := runtime.Walk(context.Background(), a, runtime.Image{Desc: one}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.ReadConfigs(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if ids := g.DiffIDs(); len(ids) != 3 || len(g.Blobs()) != 5 {
		t.Errorf("RandomImage(3 layers) = %d blobs with %d DiffIDs, want 5 with 3", len(g.Blobs()), len(ids))
	}
	for l, id := range g.DiffIDs() {
		zr, err := gzip.NewReader(bytes.NewReader(a[l]))
		if err != nil {
			t.Fatal(err)
		}
		if tarball, _ := io.ReadAll(zr); digest.FromBytes(tarball) != id {
			t.Errorf("layer %s: diff_id %s is not its tar's digest", l, id)
		}
	}
	dir := t.TempDir()
	writeLayout(t, dir, a, ocispec.Descriptor{MediaType: one.MediaType, Digest: one.Digest, Size: one.Size,
		Annotations: map[string]string{ocispec.AnnotationRefName: "v1"}})
	if got := SkopeoDigest(t, "oci:"+dir+":v1"); got != one.Digest {
		t.Errorf("skopeo inspect = %s, want %s", got, one.Digest)
	}
	NeedTool(t, "umoci")
	Umoci(t, "unpack", "--rootless", "--image", dir+":v1", filepath.Join(t.TempDir(), "bundle"))
}

// writeLayout writes blobs as an OCI layout in dir whose index.json lists
// root.
func writeLayout(t *testing.T, dir string, blobs Blobs, root ocispec.Descriptor) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	for d, b := range blobs {
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{root}})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}
