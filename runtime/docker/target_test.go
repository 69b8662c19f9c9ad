package docker_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// copyImage reads ref from engine from and writes it into engine to.
func copyImage(t *testing.T, from, to *runtimetest.Dockerd, ref string) runtime.WriteStats {
	t.Helper()
	src, img := resolve(t, from, ref)
	tgt, err := docker.NewTarget(opts(to))
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Write(t.Context(), []runtime.Image{img}, src); err != nil {
		t.Fatalf("Write(%s) = %v", ref, err)
	}
	return tgt.LastWrite()
}

// TestTarget_SecondEngine: an image read from one engine and written into
// another keeps its image ID and its tag, and the second engine can
// inspect and save it.
func TestTarget_SecondEngine(t *testing.T) {
	a, b := engines(t)
	load(t, a, 31, "example.com/team/moved:1.0")
	copyImage(t, a, b, "example.com/team/moved:1.0")
	if got, want := b.ImageID(t, "example.com/team/moved:1.0"), a.ImageID(t, "example.com/team/moved:1.0"); got != want {
		t.Errorf("image ID in B = %s, want %s as in A", got, want)
	}
	b.Docker(t, "save", "-o", filepath.Join(t.TempDir(), "moved.tar"), "example.com/team/moved:1.0")
	_, img := resolve(t, b, "example.com/team/moved:1.0")
	_, orig := resolve(t, a, "example.com/team/moved:1.0")
	if img.Desc.Digest != orig.Desc.Digest {
		t.Errorf("manifest read back from B = %s, want %s as from A", img.Desc.Digest, orig.Desc.Digest)
	}
}

// TestTarget_Incremental: v2 is v1 plus one layer. With v1 in engine B,
// writing v2 sends only the new layer, and B can inspect and save v2.
func TestTarget_Incremental(t *testing.T) {
	a, b := engines(t)
	dir := filepath.Join(t.TempDir(), "chain")
	const layerBytes = 256 << 10
	for _, tag := range runtimetest.UmociChain(t, dir, 2, layerBytes, 41) {
		a.SkopeoLoad(t, "oci:"+dir+":"+tag, "inc:"+tag)
	}
	first := copyImage(t, a, b, "inc:v1")
	if len(first.Omitted) != 0 {
		t.Errorf("first Write omitted %v, want nothing", first.Omitted)
	}
	second := copyImage(t, a, b, "inc:v2")
	src, v2 := resolve(t, a, "inc:v2")
	layers := manifestLayers(t, src, v2)
	if len(second.Omitted) != 1 || second.Omitted[0].Digest != layers[0].Digest || second.Retried {
		t.Errorf("second Write omitted %v (retried %v), want v1's layer %s", second.Omitted, second.Retried, layers[0].Digest)
	}
	if total := layers[0].Size + layers[1].Size; second.Bytes >= total || second.Bytes < layers[1].Size {
		t.Errorf("second Write sent %d bytes, want between the new layer's %d and v2's %d", second.Bytes, layers[1].Size, total)
	}
	if got, want := b.ImageID(t, "inc:v2"), a.ImageID(t, "inc:v2"); got != want {
		t.Errorf("image ID in B = %s, want %s", got, want)
	}
	b.Docker(t, "save", "-o", filepath.Join(t.TempDir(), "v2.tar"), "inc:v2")
	if out := b.Docker(t, "ps", "-aq"); len(out) != 0 {
		t.Errorf("containers in B: %s, want none", out)
	}
}

func manifestLayers(t *testing.T, f runtime.Fetcher, img runtime.Image) []ocispec.Descriptor {
	t.Helper()
	b, err := runtime.ReadBlob(t.Context(), f, img.Desc, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := runtime.Children(img.Desc.MediaType, b)
	if err != nil {
		t.Fatal(err)
	}
	return kids[1:]
}

// TestTarget_GzipLayersInflated: an image of a gzip layer (from an OCI
// layout, as from a registry) goes to the classic store uncompressed by
// ferry (the archive handed over holds the layer's whole tar, 64 times
// its gzip), keeps its image ID, and the engine saves it.
func TestTarget_GzipLayersInflated(t *testing.T) {
	a, _ := engines(t)
	dir := filepath.Join(t.TempDir(), "gz")
	layer, diffID := zerosLayer(t, 1<<20)
	img := writeLayout(t, dir, layer, diffID)
	src, err := ocilayout.FromPath(dir, "v1")
	if err != nil {
		t.Fatal(err)
	}
	img.Name = "example.com/gz/app:1"
	tgt, err := docker.NewTarget(docker.Options{Host: a.Host, TmpDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	if err := tgt.Write(t.Context(), []runtime.Image{img}, src); err != nil {
		t.Fatal(err)
	}
	if got := tgt.LastWrite().Bytes; got < 1<<20 || int64(len(layer))*64 > got {
		t.Errorf("archive of %d bytes for a layer of %d gzip bytes and 1 MiB of tar: not sent uncompressed", got, len(layer))
	}
	if got, want := a.ImageID(t, "example.com/gz/app:1"), string(runtimetest.ConfigDigest(t, src, img.Desc)); got != want {
		t.Errorf("image ID %s, want the config digest %s", got, want)
	}
	a.Docker(t, "save", "-o", filepath.Join(t.TempDir(), "gz.tar"), "example.com/gz/app:1")
}

// zerosLayer is a gzip tar of one file of n zero bytes, and its DiffID.
func zerosLayer(t *testing.T, n int) ([]byte, digest.Digest) {
	var tarred, gz bytes.Buffer
	tw := tar.NewWriter(&tarred)
	tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: int64(n), Typeflag: tar.TypeReg})
	tw.Write(make([]byte, n))
	tw.Close()
	zw := gzip.NewWriter(&gz)
	zw.Write(tarred.Bytes())
	zw.Close()
	return gz.Bytes(), digest.FromBytes(tarred.Bytes())
}

// writeLayout writes an OCI layout of one image, tagged v1, of the one
// gzip layer.
func writeLayout(t *testing.T, dir string, layer []byte, diffID digest.Digest) runtime.Image {
	t.Helper()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(mt string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	l := put(ocispec.MediaTypeImageLayerGzip, layer)
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}})
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: put(ocispec.MediaTypeImageConfig, cfg), Layers: []ocispec.Descriptor{l}}
	m.SchemaVersion = 2
	mb, _ := json.Marshal(m)
	md := put(ocispec.MediaTypeImageManifest, mb)
	entry := md
	entry.Annotations = map[string]string{ocispec.AnnotationRefName: "v1"}
	ix, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{entry}})
	os.WriteFile(filepath.Join(dir, "index.json"), ix, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return runtime.Image{Desc: md}
}
