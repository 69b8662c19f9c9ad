package trip

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/store"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// fuzzMaxShipped bounds what one fuzz input may make Load write (the
// reader refuses a stream past what its index lists), so that an input
// costs bounded time and disk however it expands.
const fuzzMaxShipped = 16 << 20

// FuzzLoad: whatever bundle arrives (read without its signature, so that
// every mutation reaches the entries and the graph), Load leaves a store
// that passes check --read-data: every blob on disk verified and
// recorded, every record with its file, every image with all its blobs.
func FuzzLoad(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if !small(data) {
			return
		}
		path := filepath.Join(dir, "b.ferry")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		home := filepath.Join(dir, "home")
		os.RemoveAll(home)
		h, err := store.Init(home, "plant-7")
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		ctx := context.Background()
		Load(ctx, h, path, LoadOptions{CheckOptions: CheckOptions{InsecureSkipSignature: true}})
		if probs, err := h.Check(ctx, true, nil); err != nil || len(probs) > 0 {
			t.Fatalf("after Load, check --read-data = %v, %v", probs, err)
		}
	})
}

// small reports whether data is a bundle whose index ships at most
// fuzzMaxShipped bytes (or no bundle at all: Load refuses it at once).
func small(data []byte) bool {
	r, err := format.NewReader(bytes.NewReader(data), format.ReaderOptions{InsecureSkipSignature: true})
	if err != nil {
		return true
	}
	defer r.Close()
	var n int64
	for _, b := range r.Index().Shipped() {
		n += b.Size
	}
	return n <= fuzzMaxShipped
}

// fuzzSeeds are bundles of two images (one an index), good and hostile.
func fuzzSeeds(t testing.TB) map[string][]byte {
	s := signer(t, 1)
	dir := t.TempDir()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bundle := func(edit func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor, raw bool) []byte {
		b := newBlobSet()
		m := b.image("app", nil)
		root := edit(b, m)
		ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": root, "v1": m})
		if !raw {
			return read(b.write(t, dir, ix, s))
		}
		ix.SchemaVersion, ix.MediaType, ix.ID = 1, "application/vnd.ferry.bundle.index.v1+json", "0123456789abcdef0123456789abcdef"
		format.Order(ix.Blobs)
		return read(b.writeRaw(t, dir, ix, s))
	}
	seeds := map[string][]byte{
		"zstd":  bundle(func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor { return b.index(m) }, false),
		"plain": bundle(func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor { return b.index(m) }, true),
		"untyped-child": bundle(func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor {
			m.MediaType = ""
			return b.index(m)
		}, true),
		"child-as-layer": bundle(func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor {
			m.MediaType = ocispec.MediaTypeImageLayerGzip
			return b.index(m)
		}, true),
		"config-wrong-size": bundle(func(b *blobSet, m ocispec.Descriptor) ocispec.Descriptor {
			return b.image("bad", func(m *ocispec.Manifest) { m.Config.Size++ })
		}, true),
	}
	for i, v := range volumeSeeds(t, s) {
		seeds["volume-"+strconv.Itoa(i+1)] = v
	}
	// The stream breaks inside a part: what verified before is kept.
	seeds["volume-1-truncated"] = seeds["volume-1"][:len(seeds["volume-1"])*2/3]
	return seeds
}

// volumeSeeds are the volumes of a set whose image has a layer cut into
// parts (spec/bundle-v1.md section 8).
func volumeSeeds(t testing.TB, s ssh.Signer) [][]byte {
	b := newBlobSet()
	big := make([]byte, 300_000)
	rand.NewChaCha8([32]byte{1}).Read(big)
	m := b.image("app", func(m *ocispec.Manifest) {
		m.Layers = append(m.Layers, b.put(ocispec.MediaTypeImageLayerGzip, big))
	})
	ix := b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": m})
	opts := format.SetOptions{Size: 160_000}
	if err := format.PlanSet(ix, s, opts); err != nil {
		t.Fatal(err)
	}
	vols := &memVolumes{blobs: b}
	w, err := format.NewSetWriter(ix, s, opts, nil, vols)
	if err != nil {
		t.Fatal(err)
	}
	for _, bl := range w.Order() {
		if err := w.WriteBlob(bl.Digest, bytes.NewReader(b.Blobs[bl.Digest])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(vols.files))
	for i, f := range vols.files {
		out[i] = f.b
	}
	return out
}

// memVolumes is a set's volumes in memory (format.SetSource).
type memVolumes struct {
	blobs *blobSet
	files []*bytesAt
}

func (m *memVolumes) Repeat(d digest.Digest) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.blobs.Blobs[d])), nil
}

func (m *memVolumes) Volume(int) (io.WriterAt, error) {
	m.files = append(m.files, &bytesAt{})
	return m.files[len(m.files)-1], nil
}

// bytesAt is a byte slice written at offsets.
type bytesAt struct{ b []byte }

func (f *bytesAt) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(f.b) {
		f.b = append(f.b, make([]byte, need-len(f.b))...)
	}
	return copy(f.b[off:], p), nil
}

// TestWriteFuzzCorpus rewrites the committed seed corpus under -update.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	for name, data := range fuzzSeeds(t) {
		path := filepath.Join("testdata/fuzz/FuzzLoad", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
