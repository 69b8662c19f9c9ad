package store

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

func descOf(mediaType string, data []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newHome(t testing.TB) *Home {
	t.Helper()
	h, err := Init(t.TempDir(), "test-site")
	if err != nil {
		t.Fatalf("Init = %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func ingest(t testing.TB, b *Store, desc ocispec.Descriptor, data []byte) {
	t.Helper()
	if _, err := b.Ingest(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Fatalf("Ingest(%s) = %v", desc.Digest, err)
	}
}

// testImage is a tiny valid OCI image built by hand.
type testImage struct {
	image runtime.Image
	blobs []ocispec.Descriptor // layer, config, manifest
	data  map[digest.Digest][]byte
}

// newTestImage builds config + one gzip layer holding one file + manifest.
func newTestImage(t testing.TB, name string, seed uint64) testImage {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	content := runtimetest.RandomBytes(seed, 100)
	tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write(content)
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBuf.Bytes())
	zw.Close()
	layer := descOf(ocispec.MediaTypeImageLayerGzip, gz.Bytes())
	cfg := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarBuf.Bytes())}},
	}
	cfgData := mustJSON(t, cfg)
	config := descOf(ocispec.MediaTypeImageConfig, cfgData)
	man := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: []ocispec.Descriptor{layer}}
	manData := mustJSON(t, man)
	manifest := descOf(ocispec.MediaTypeImageManifest, manData)
	return testImage{
		image: runtime.Image{Name: name, Desc: manifest},
		blobs: []ocispec.Descriptor{layer, config, manifest},
		data:  map[digest.Digest][]byte{layer.Digest: gz.Bytes(), config.Digest: cfgData, manifest.Digest: manData},
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// store ingests the image's blobs and records them and the image.
func (ti testImage) store(t testing.TB, h *Home) {
	t.Helper()
	var blobs []BlobRecord
	var ds []digest.Digest
	for _, d := range ti.blobs {
		ingest(t, h.Store, d, ti.data[d.Digest])
		blobs = append(blobs, BlobRecord{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType})
		ds = append(ds, d.Digest)
	}
	im := ImageRecord{Name: ti.image.Name, Digest: ti.image.Desc.Digest, MediaType: ti.image.Desc.MediaType,
		Size: ti.image.Desc.Size, Platforms: []string{"linux/amd64"}, Blobs: ds}
	if err := h.Catalog.Record(context.Background(), blobs, []ImageRecord{im}, nil); err != nil {
		t.Fatalf("Record = %v", err)
	}
}
