package trip

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
	return map[string][]byte{
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
