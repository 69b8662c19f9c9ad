package runtimetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// Blobs holds blobs in memory, by digest: a runtime.Fetcher of the images
// RandomImage makes.
type Blobs map[digest.Digest][]byte

// Fetch serves a blob, or an error wrapping spec.ErrNotFound.
func (b Blobs) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	data, ok := b[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, spec.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Put keeps data and returns its descriptor, typed mediaType.
func (b Blobs) Put(mediaType string, data []byte) ocispec.Descriptor {
	d := digest.FromBytes(data)
	b[d] = data
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// PutJSON keeps v's JSON and returns its descriptor, typed mediaType.
func (b Blobs) PutJSON(mediaType string, v any) ocispec.Descriptor {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b.Put(mediaType, data)
}

// RandomImage adds to blobs an image made in this process, as
// go-containerregistry's random.Image makes one, but deterministic: the
// same arguments give the same bytes. It has layers layers, each a gzip
// tar adding one file of layerBytes pseudo-random bytes from seed, a
// config for linux/amd64 whose command is /bin/true and whose diff_ids
// are the layers' uncompressed digests, and an OCI manifest, whose
// descriptor it returns. Every transport's reader accepts it (Docker,
// containerd and podman unpack it), so the conformance suite needs no
// tool to make its images; umoci stays the independent writer of the
// round-trip tests (UmociImage).
func RandomImage(blobs Blobs, seed int64, layers, layerBytes int) ocispec.Descriptor {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(layers)))
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Layers: []ocispec.Descriptor{}}
	cfg := ocispec.Image{Created: &fixed, Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Cmd: []string{"/bin/true"}}, RootFS: ocispec.RootFS{Type: "layers"}}
	for i := range layers {
		tarball := randomTar(fmt.Sprintf("%d-%d", seed, i), rng, layerBytes)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(tarball))
		m.Layers = append(m.Layers, blobs.Put(ocispec.MediaTypeImageLayerGzip, gzipped(tarball)))
	}
	m.Config = blobs.PutJSON(ocispec.MediaTypeImageConfig, cfg)
	return blobs.PutJSON(ocispec.MediaTypeImageManifest, m)
}

// RandomBytes returns n pseudo-random bytes from seed: the same seed and
// n give the same bytes.
func RandomBytes(seed uint64, n int) []byte {
	return randomFrom(rand.New(rand.NewPCG(seed, uint64(n))), n)
}

func randomFrom(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// randomTar is a tar of the directory data/ and one file in it, data/name,
// of n pseudo-random bytes from rng, every header fixed.
func randomTar(name string, rng *rand.Rand, n int) []byte {
	content := randomFrom(rng, n)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "data/", Mode: 0o755, ModTime: fixed, Format: tar.FormatPAX})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "data/" + name, Mode: 0o644, Size: int64(n), ModTime: fixed, Format: tar.FormatPAX})
	tw.Write(content)
	tw.Close()
	return buf.Bytes()
}

// gzipped compresses b with no name and no time in the gzip header.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
