package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// Writers of the application layers of the delta tests, besides
// deltatest's kinds: umoci (pgzip in 256 KiB blocks) and the gzip
// command (zlib, which ferry cannot reproduce).
const (
	byUmoci = "umoci"
	byGzipN = "gzip -n"
)

// appImage adds to the OCI layout dir an image tagged tag whose one layer
// holds tree's files, written by kind: umoci from the files on disk, the
// gzip command, or one of deltatest's writers (with file times mtime).
// It returns the layer's digest.
func appImage(t *testing.T, dir, tag string, tree deltatest.Tree, kind string, mtime time.Time) digest.Digest {
	t.Helper()
	if kind == byUmoci {
		return umociApp(t, dir, tag, tree)
	}
	var tarball bytes.Buffer
	if err := tree.WriteTar(&tarball, mtime); err != nil {
		t.Fatal(err)
	}
	mediaType, layer := compressLayer(t, tarball.Bytes(), kind)
	blobs := runtimetest.Blobs{}
	ld := blobs.Put(mediaType, layer)
	cfg := blobs.PutJSON(ocispec.MediaTypeImageConfig, ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Cmd: []string{"/bin/true"}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarball.Bytes())}},
	})
	m := blobs.PutJSON(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{ld}})
	addToLayout(t, dir, tag, m, blobs)
	return ld.Digest
}

// compressLayer compresses tarball as kind, and returns its media type.
func compressLayer(t *testing.T, tarball []byte, kind string) (string, []byte) {
	t.Helper()
	if kind == byGzipN {
		cmd := exec.Command(runtimetest.NeedTool(t, "gzip"), "-n")
		cmd.Stdin = bytes.NewReader(tarball)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gzip -n: %v", err)
		}
		return ocispec.MediaTypeImageLayerGzip, out
	}
	var out bytes.Buffer
	zw, err := deltatest.Compress(&out, kind)
	if err == nil {
		_, err = zw.Write(tarball)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case deltatest.Zstd:
		return ocispec.MediaTypeImageLayerZstd, out.Bytes()
	case deltatest.None:
		return ocispec.MediaTypeImageLayer, out.Bytes()
	}
	return ocispec.MediaTypeImageLayerGzip, out.Bytes()
}

// addToLayout writes blobs into the OCI layout dir (made if missing) and
// tags manifest m there.
func addToLayout(t *testing.T, dir, tag string, m ocispec.Descriptor, blobs runtimetest.Blobs) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	for d, b := range blobs {
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	if b, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		readJSONBytes(t, b, &ix)
	}
	m.Annotations = map[string]string{ocispec.AnnotationRefName: tag}
	ix.Manifests = append(ix.Manifests, m)
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSONBytes(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// umociApp builds with umoci an image tagged tag in dir of one layer that
// holds tree's files, written now (a rebuild: new file times).
func umociApp(t *testing.T, dir, tag string, tree deltatest.Tree) digest.Digest {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		runtimetest.Umoci(t, "init", "--layout", dir)
	}
	image := dir + ":" + tag
	bundle := filepath.Join(t.TempDir(), "bundle")
	runtimetest.Umoci(t, "new", "--image", image)
	runtimetest.Umoci(t, "unpack", "--rootless", "--image", image, bundle)
	if err := tree.WriteDir(filepath.Join(bundle, "rootfs")); err != nil {
		t.Fatal(err)
	}
	runtimetest.Umoci(t, "repack", "--no-history", "--image", image, bundle)
	runtimetest.Umoci(t, "config", "--no-history", "--image", image, "--config.cmd=/bin/true", "--os=linux", "--architecture=amd64")
	var m ocispec.Manifest
	manifestOf(t, dir, tag, &m)
	return m.Layers[0].Digest
}
