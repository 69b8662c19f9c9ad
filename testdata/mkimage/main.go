// Command mkimage writes deterministic sample images into an OCI image
// layout, for the demo and the benchmarks. Every byte follows from the
// flags: the same flags give the same digests.
//
//	go run ./testdata/mkimage -o DIR -name app:1.0 [-base-layers 1] [-layers 2] [-size 1MiB] [-seed 1] [-content random|rootfs]
//
// Layers are gzip tars of one file of pseudo-random bytes each, or with
// -content rootfs a tree of files that looks like a Debian root file
// system to a compressor (see rootfs). With -base-layers, the image's
// first layers are a base image's (seed 0), so images share layers as
// real ones do.
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func main() {
	out := flag.String("o", "", "OCI layout directory to write (created or added to)")
	name := flag.String("name", "app:1.0", "image name; its tag becomes the layout's ref.name")
	layers := flag.Int("layers", 2, "number of the image's own layers")
	size := flag.String("size", "64KiB", "bytes of each layer's file (KiB, MiB, GiB suffixes)")
	seed := flag.Int64("seed", 1, "seed of the image's own layers")
	baseLayers := flag.Int("base-layers", 1, "number of shared base layers (seed 0) under the image's own")
	flag.StringVar(&content, "content", "random", "what a layer holds: random (one file of random bytes) or rootfs (a Debian-like tree)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "mkimage: -o DIR is required")
		os.Exit(2)
	}
	n, err := parseSize(*size)
	if err == nil {
		err = run(*out, *name, *layers, *baseLayers, n, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// content is the -content flag.
var content string

func run(dir, name string, own, base int, size, seed int64) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	for i := 0; i < base+own; i++ {
		s, idx := int64(0), i
		if i >= base {
			s, idx = seed, i-base
		}
		d, diff, err := writeLayer(dir, s, idx, size)
		if err != nil {
			return err
		}
		descs = append(descs, d)
		diffIDs = append(diffIDs, diff)
	}
	cfg := ocispec.Image{
		Created:  &time.Time{},
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Cmd: []string{"/bin/sh"}, Labels: map[string]string{"ferry.sample": name}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	}
	*cfg.Created = time.Unix(0, 0).UTC()
	cfgDesc, err := writeJSON(dir, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return err
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfgDesc, Layers: descs}
	m.SchemaVersion = 2
	md, err := writeJSON(dir, ocispec.MediaTypeImageManifest, m)
	if err != nil {
		return err
	}
	return addToIndex(dir, name, md)
}

// writeLayer writes a gzip tar holding one file of size pseudo-random
// bytes from (seed, idx) and returns its descriptor and DiffID.
func writeLayer(dir string, seed int64, idx int, size int64) (ocispec.Descriptor, digest.Digest, error) {
	tmp, err := os.CreateTemp(dir, ".layer-*")
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	blobHash, diffHash := sha256.New(), sha256.New()
	counter := &countWriter{w: io.MultiWriter(tmp, blobHash)}
	gz, _ := gzip.NewWriterLevel(counter, gzip.BestSpeed)
	tw := tar.NewWriter(io.MultiWriter(gz, diffHash))
	if err := layerContent(tw, seed, idx, size); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	if err := tw.Close(); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	if err := gz.Close(); err != nil {
		return ocispec.Descriptor{}, "", err
	}
	d := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: sum(blobHash), Size: counter.n}
	if err := tmp.Close(); err != nil {
		return d, "", err
	}
	return d, sum(diffHash), os.Rename(tmp.Name(), blobPath(dir, d.Digest))
}

func layerContent(tw *tar.Writer, seed int64, idx int, size int64) error {
	rnd := rand.New(rand.NewSource(seed*1000 + int64(idx)))
	switch content {
	case "rootfs":
		return rootfs(tw, rnd, size)
	case "random":
		hdr := &tar.Header{Name: fmt.Sprintf("data/s%d-l%d.bin", seed, idx), Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.CopyN(tw, rnd, size)
		return err
	}
	return fmt.Errorf("-content %q: want random or rootfs", content)
}

func writeJSON(dir, mediaType string, v any) (ocispec.Descriptor, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
	return d, os.WriteFile(blobPath(dir, d.Digest), b, 0o644)
}

// addToIndex adds (or replaces) the image in index.json, named as skopeo
// (ref.name: the tag) and containerd (the full name) look names up.
func addToIndex(dir, name string, d ocispec.Descriptor) error {
	var ix ocispec.Index
	if b, err := os.ReadFile(filepath.Join(dir, "index.json")); err == nil {
		if err := json.Unmarshal(b, &ix); err != nil {
			return err
		}
	}
	ix.SchemaVersion, ix.MediaType = 2, ocispec.MediaTypeImageIndex
	tag := name[strings.LastIndexByte(name, ':')+1:]
	d.Annotations = map[string]string{ocispec.AnnotationRefName: tag, "io.containerd.image.name": name}
	kept := ix.Manifests[:0]
	for _, m := range ix.Manifests {
		if m.Annotations[ocispec.AnnotationRefName] != tag {
			kept = append(kept, m)
		}
	}
	ix.Manifests = append(kept, d)
	b, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644)
}

func blobPath(dir string, d digest.Digest) string {
	return filepath.Join(dir, "blobs", "sha256", d.Encoded())
}

func sum(h hash.Hash) digest.Digest { return digest.NewDigest(digest.SHA256, h) }

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suffix) {
			s, mult = strings.TrimSuffix(s, suffix), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional KiB, MiB or GiB suffix", s)
	}
	return n * mult, nil
}
