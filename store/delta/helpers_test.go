package delta

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

var (
	t1 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t2 = t1.Add(24 * time.Hour)
)

// newStore is a blob store in a temporary home-like directory, and a
// scratch directory beside it.
func newStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	return openStore(t.TempDir())
}

// openStore opens a store in dir/store with a scratch directory beside it.
func openStore(dir string) (*store.Store, string) {
	b, err := store.Open(filepath.Join(dir, "store"), filepath.Join(dir, "tmp"))
	if err != nil {
		panic(err)
	}
	scratch := filepath.Join(dir, "scratch")
	if err := os.Mkdir(scratch, 0o700); err != nil {
		panic(err)
	}
	return b, scratch
}

func put(t testing.TB, b *store.Store, blob []byte) ocispec.Descriptor {
	t.Helper()
	return putBlob(b, blob)
}

// putBlob describes a blob and, unless b is nil, ingests it.
func putBlob(b *store.Store, blob []byte) ocispec.Descriptor {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	if b == nil {
		return desc
	}
	if _, err := b.Ingest(context.Background(), desc, bytes.NewReader(blob)); err != nil {
		panic(err)
	}
	return desc
}

func layerOf(t testing.TB, tree deltatest.Tree, kind string, mtime time.Time) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tree.Layer(&b, kind, mtime); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// trip builds a delta of next against base on a sender's store, then
// rebuilds it into a site's store that holds base, through Ingest.
type trip struct {
	sender, site       *store.Store
	sendDir, siteDir   string
	baseDesc, nextDesc ocispec.Descriptor
	next               []byte
}

func newTrip(t testing.TB, base, next []byte) *trip {
	t.Helper()
	tr := &trip{next: next}
	tr.sender, tr.sendDir = newStore(t)
	tr.site, tr.siteDir = newStore(t)
	tr.baseDesc = put(t, tr.sender, base)
	put(t, tr.site, base)
	tr.nextDesc = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(next), Size: int64(len(next))}
	return tr
}

func (tr *trip) build(t testing.TB) (*Result, []byte, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := Build(context.Background(), &out, Layer{Desc: tr.nextDesc, Blob: bytes.NewReader(tr.next)},
		[]ocispec.Descriptor{tr.baseDesc}, tr.sender, Options{Scratch: tr.sendDir})
	if err != nil && out.Len() > 0 {
		t.Errorf("Build failed (%v) but wrote %d bytes", err, out.Len())
	}
	return res, out.Bytes(), err
}

func (tr *trip) input(d spec.Delta) Input {
	return Input{Blob: tr.nextDesc, Delta: d, Bases: []ocispec.Descriptor{tr.baseDesc}, Store: tr.site, Scratch: tr.siteDir}
}

// load ingests the rebuilt layer into the site's store.
func (tr *trip) load(d spec.Delta, deltaBytes []byte) error {
	rc := Open(context.Background(), bytes.NewReader(deltaBytes), tr.input(d))
	defer rc.Close()
	_, err := tr.site.Ingest(context.Background(), tr.nextDesc, rc)
	return err
}

// scratchEmpty fails the test if Build or Apply left files behind.
func scratchEmpty(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if e, _ := os.ReadDir(d); len(e) > 0 {
			t.Errorf("scratch %s holds %d entries after use", d, len(e))
		}
	}
}

// replaceFile overwrites a read-only store file, as a failing disk would.
func replaceFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

func digestOf(r io.Reader) (digest.Digest, error) { return digest.SHA256.FromReader(r) }
