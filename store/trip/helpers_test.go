package trip

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// signer is a deterministic ed25519 key: the sender "hq" of the tests.
func signer(t testing.TB, seed byte) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// blobSet is a source of test images held in memory: a runtime.Fetcher
// that also remembers each blob's media type.
type blobSet struct {
	runtimetest.Blobs
	mt map[digest.Digest]string
}

func newBlobSet() *blobSet {
	return &blobSet{Blobs: runtimetest.Blobs{}, mt: map[digest.Digest]string{}}
}

// put stores v (bytes as they are, anything else as JSON).
func (b *blobSet) put(mediaType string, v any) ocispec.Descriptor {
	var d ocispec.Descriptor
	if data, ok := v.([]byte); ok {
		d = b.Put(mediaType, data)
	} else {
		d = b.PutJSON(mediaType, v)
	}
	b.mt[d.Digest] = mediaType
	return d
}

// image stores a linux/amd64 image of two layers, distinct per seed, and
// returns its manifest's descriptor. edit, if set, changes the manifest
// before it is stored.
func (b *blobSet) image(seed string, edit func(m *ocispec.Manifest)) ocispec.Descriptor {
	l1 := b.put(ocispec.MediaTypeImageLayerGzip, []byte(seed+" layer 1"))
	l2 := b.put(ocispec.MediaTypeImageLayerGzip, []byte(seed+" layer 2"))
	cfg := b.put(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []digest.Digest{l1.Digest, l2.Digest}}})
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{l1, l2}}
	m.SchemaVersion = 2
	if edit != nil {
		edit(&m)
	}
	return b.put(ocispec.MediaTypeImageManifest, m)
}

// index stores an image index of kids.
func (b *blobSet) index(kids ...ocispec.Descriptor) ocispec.Descriptor {
	ix := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: kids}
	ix.SchemaVersion = 2
	return b.put(ocispec.MediaTypeImageIndex, ix)
}

// bundleIndex lists every blob of b, shipped, and the images named.
func (b *blobSet) bundleIndex(images map[string]ocispec.Descriptor) *format.Index {
	ix := &format.Index{From: format.Party{Site: "hq"}, To: "plant-7", Sequence: 1,
		Created: "2024-05-01T12:00:00Z"}
	for _, name := range slices.Sorted(maps.Keys(images)) {
		d := images[name]
		ix.Images = append(ix.Images, format.Image{Name: name, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size})
	}
	for d, data := range b.Blobs {
		ix.Blobs = append(ix.Blobs, format.Blob{Digest: d, Size: int64(len(data)), MediaType: b.mt[d],
			Kind: spec.KindBlob, Status: spec.StatusShipped})
	}
	return ix
}

// write writes ix, signed by s, with every shipped blob of b, to a file
// in dir.
func (b *blobSet) write(t testing.TB, dir string, ix *format.Index, s ssh.Signer) string {
	t.Helper()
	var buf bytes.Buffer
	w := format.NewWriter(&buf, format.WriterOptions{})
	if err := w.WriteHeader(ix, s); err != nil {
		t.Fatal(err)
	}
	for _, bl := range ix.Shipped() {
		if err := w.WriteBlob(bl.Digest, bytes.NewReader(b.Blobs[bl.Digest])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ix.ID+".ferry")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeRaw writes ix exactly as it is (no defaults, no validation),
// signed by s, and every shipped blob of b, as a plain tar in dir: a
// bundle only a hostile sender makes.
func (b *blobSet) writeRaw(t testing.TB, dir string, ix *format.Index, s ssh.Signer) string {
	t.Helper()
	return writeTar(t, filepath.Join(dir, "raw.ferry"), b.entries(t, ix, s))
}

// tarEntry is one member of a bundle as a test writes it, whatever its
// header says.
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

// entries are the members of the bundle of ix, signed by s, with every
// shipped blob of b: the index, its signature, then the blobs.
func (b *blobSet) entries(t testing.TB, ix *format.Index, s ssh.Signer) []tarEntry {
	t.Helper()
	ix.From.Fingerprint = format.Fingerprint(s.PublicKey())
	raw, err := format.Canonical(ix)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := format.Sign(s, spec.SignatureNamespace, raw)
	if err != nil {
		t.Fatal(err)
	}
	es := []tarEntry{fileEntry(spec.IndexEntry, raw), fileEntry(spec.SignatureEntry, sig)}
	for _, bl := range ix.Shipped() {
		es = append(es, fileEntry(spec.BlobPrefix+bl.Digest.Encoded(), b.Blobs[bl.Digest]))
	}
	return es
}

func fileEntry(name string, data []byte) tarEntry {
	return tarEntry{tar.Header{Name: name, Size: int64(len(data)), Mode: 0o644, Typeflag: tar.TypeReg}, data}
}

// writeTar writes es to path as a plain tar, each header as it is (a
// header that lies about its size ends the stream there).
func writeTar(t testing.TB, path string, es []tarEntry) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// siteHome is plant-7's home, which knows hq by the key s.
func siteHome(t testing.TB, s ssh.Signer) *store.Home {
	t.Helper()
	h, err := store.Init(filepath.Join(t.TempDir(), "plant-7"), "plant-7")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	key := string(ssh.MarshalAuthorizedKey(s.PublicKey()))
	if err := h.Catalog.PutSite(store.Site{Name: "hq", Key: key, Fingerprint: format.Fingerprint(s.PublicKey())}); err != nil {
		t.Fatal(err)
	}
	return h
}

// verifyAndLoad verifies the bundle at path at h, then loads it, as a
// site does, trusting h's catalog, and returns both reports.
func verifyAndLoad(t testing.TB, h *store.Home, path string) (verified, loaded *Report) {
	t.Helper()
	check := CheckOptions{Trust: TrustCatalog(h.Catalog)}
	verified, err := Verify(context.Background(), path, check, Admission{}, h)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	loaded, err = Load(context.Background(), h, path, LoadOptions{CheckOptions: check})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	return verified, loaded
}

// mustCheck fails the test unless the store passes check --read-data.
func mustCheck(t testing.TB, h *store.Home) {
	t.Helper()
	probs, err := h.Check(context.Background(), true, nil)
	if err != nil || len(probs) > 0 {
		t.Errorf("check --read-data = %v, %v; want clean", probs, err)
	}
}

// statuses maps each image of a report to whether it is OK, for
// comparing Verify with Load.
func statuses(r *Report) map[string]bool {
	out := map[string]bool{}
	for _, im := range r.Images {
		out[im.Name] = im.OK
	}
	return out
}

// recorded lists the names of the images h's catalog holds.
func recorded(t testing.TB, h *store.Home) []string {
	t.Helper()
	imgs, err := h.Catalog.Images()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, im := range imgs {
		out = append(out, im.Name)
	}
	return out
}
