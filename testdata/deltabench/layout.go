package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layout writes dir/oci, an OCI image layout of two one-layer images:
// v1 of base.blob and v2 of next.blob (gen's), each with a config whose
// DiffID is its tar's. trip.sh saves and loads them with ferry.
func layout(dir string) error {
	oci := filepath.Join(dir, "oci")
	blobs := filepath.Join(oci, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	put := func(data []byte, mediaType string) (ocispec.Descriptor, error) {
		d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
		return d, os.WriteFile(filepath.Join(blobs, d.Digest.Encoded()), data, 0o644)
	}
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, v := range []struct{ tag, name string }{{"v1", "base"}, {"v2", "next"}} {
		m, err := image(dir, v.name, blobs, put)
		if err != nil {
			return err
		}
		m.Annotations = map[string]string{ocispec.AnnotationRefName: v.tag}
		ix.Manifests = append(ix.Manifests, m)
	}
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(oci, "index.json"), b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(oci, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// image links name.blob into the layout's blobs and writes its config
// and manifest, returning the manifest's descriptor.
func image(dir, name, blobs string, put func([]byte, string) (ocispec.Descriptor, error)) (ocispec.Descriptor, error) {
	layer, err := describe(filepath.Join(dir, name+".blob"))
	if err != nil {
		return layer, err
	}
	dst := filepath.Join(blobs, layer.Digest.Encoded())
	os.Remove(dst)
	if err := os.Link(filepath.Join(dir, name+".blob"), dst); err != nil {
		return layer, err
	}
	f, err := os.Open(filepath.Join(dir, name+".tar"))
	if err != nil {
		return layer, err
	}
	defer f.Close()
	diffID, err := digest.SHA256.FromReader(io.Reader(f))
	if err != nil {
		return layer, err
	}
	cfg, _ := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Cmd: []string{"/app/run"}}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}}})
	c, err := put(cfg, ocispec.MediaTypeImageConfig)
	if err != nil {
		return c, err
	}
	m, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: c, Layers: []ocispec.Descriptor{layer}})
	return put(m, ocispec.MediaTypeImageManifest)
}
