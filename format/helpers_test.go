package format

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// testTime is the ModTime and created time of every fixture.
var testTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// testKey returns the ed25519 key made from a seed of 32 copies of seed.
func testKey(t testing.TB, seed byte) (ed25519.PrivateKey, ssh.Signer) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, s
}

// randomBytes returns n bytes from a ChaCha8 stream seeded with seed.
func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	key[1] = byte(seed >> 8)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// fixture is the content of a small bundle: shipped blobs, one
// prerequisite, the OCI layout files and an image.
type fixture struct {
	files  map[string][]byte
	blobs  map[digest.Digest][]byte
	order  []digest.Digest // shipped blobs in canonical order
	prereq Blob
}

// newFixture makes one shipped blob of random bytes of each size, from
// seed.
func newFixture(seed uint64, sizes ...int) *fixture {
	var blobs [][]byte
	for i, n := range sizes {
		blobs = append(blobs, randomBytes(seed*1000+uint64(i), n))
	}
	return newFixtureData(seed, blobs...)
}

// compressible returns n bytes of text that zstd finds matches in.
func compressible(seed uint64, n int) []byte {
	var b bytes.Buffer
	r := randomBytes(seed, 4096)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d %x\n", i%977, r[i%4000:i%4000+12])
	}
	return b.Bytes()[:n]
}

// newFixtureData makes one shipped blob of each data.
func newFixtureData(seed uint64, blobs ...[]byte) *fixture {
	f := &fixture{files: map[string][]byte{}, blobs: map[digest.Digest][]byte{}}
	var list []Blob
	for _, data := range blobs {
		n := len(data)
		d := digest.FromBytes(data)
		f.blobs[d] = data
		list = append(list, Blob{Digest: d, Size: int64(n)})
	}
	Order(list)
	for _, b := range list {
		f.order = append(f.order, b.Digest)
	}
	pre := randomBytes(seed*1000+999, 64)
	f.prereq = Blob{Digest: digest.FromBytes(pre), Size: 64, MediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
		Kind: spec.KindBlob, Status: spec.StatusPrerequisite, Bundle: "0123456789abcdef0123456789abcdef", Sequence: 11}
	f.files[spec.LayoutEntry] = []byte(`{"imageLayoutVersion":"1.0.0"}`)
	f.files[spec.LayoutIndexEntry] = []byte(fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		ocispec.MediaTypeImageManifest, f.order[0], len(f.blobs[f.order[0]])))
	return f
}

// index returns a fresh index of the fixture, as a caller fills it.
func (f *fixture) index() *Index {
	ix := &Index{
		From:     Party{Site: "hq"},
		To:       "plant-7",
		Sequence: 12,
		Created:  testTime.Format(time.RFC3339),
	}
	for i, d := range f.order {
		mt := "application/vnd.oci.image.layer.v1.tar+gzip"
		if i == 0 {
			mt = ocispec.MediaTypeImageManifest
		}
		ix.Blobs = append(ix.Blobs, Blob{Digest: d, Size: int64(len(f.blobs[d])), MediaType: mt, Kind: spec.KindBlob, Status: spec.StatusShipped})
	}
	ix.Blobs = append(ix.Blobs, f.prereq)
	first := ix.Blobs[0]
	ix.Images = []Image{{Name: "registry.example/app:2.0", Digest: first.Digest, MediaType: ocispec.MediaTypeImageManifest, Size: first.Size, Platforms: []string{"linux/amd64"}}}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		ix.Files = append(ix.Files, File{Name: name, Digest: digest.FromBytes(f.files[name]), Size: int64(len(f.files[name]))})
	}
	return ix
}

// write writes the fixture's bundle with the Writer.
func (f *fixture) write(t testing.TB, s ssh.Signer, opts WriterOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	if err := f.writeTo(w, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *fixture) writeTo(w *Writer, s ssh.Signer) error {
	if err := f.writeHead(w, s); err != nil {
		return err
	}
	for _, d := range f.order {
		if err := w.WriteBlob(d, bytes.NewReader(f.blobs[d])); err != nil {
			return err
		}
	}
	return w.Close()
}

// writeHead writes what comes before the blobs: the signed index and the
// layout files.
func (f *fixture) writeHead(w *Writer, s ssh.Signer) error {
	if err := w.WriteHeader(f.index(), s); err != nil {
		return err
	}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		if err := w.WriteFile(name, f.files[name]); err != nil {
			return err
		}
	}
	return nil
}

// trustKey trusts only k.
func trustKey(k ssh.PublicKey) func(*Index, ssh.PublicKey) error {
	return func(ix *Index, key ssh.PublicKey) error {
		if !bytes.Equal(key.Marshal(), k.Marshal()) {
			return fmt.Errorf("site %s: key %s not trusted: %w", ix.From.Site, Fingerprint(key), spec.ErrUnknownSite)
		}
		return nil
	}
}

// result is what reading a whole bundle gave.
type result struct {
	good    map[string][]byte // entries read and verified
	errs    []error           // faults of single entries
	fatal   error
	missing []string
}

// drain reads every entry of r as a caller would.
func drain(r *Reader) result {
	res := result{good: map[string][]byte{}}
	for {
		e, err := r.Next()
		if err == io.EOF {
			res.missing = r.Missing()
			return res
		}
		var ee *EntryError
		if errors.As(err, &ee) {
			res.errs = append(res.errs, err)
			continue
		}
		if err != nil {
			res.fatal = err
			return res
		}
		var buf bytes.Buffer
		_, err = io.Copy(&buf, r)
		var ve *spec.VerifyError
		switch {
		case errors.As(err, &ve):
			res.errs = append(res.errs, err)
		case err != nil:
			res.fatal = err
			return res
		default:
			res.good[e.Name] = buf.Bytes()
		}
	}
}

// tarEntry is one entry of a hand-built stream.
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

func regular(name string, data []byte) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644}, data: data}
}

// buildTar writes entries with archive/tar, honest sizes or not: a header
// whose size exceeds its data ends the stream there.
func buildTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
		if int64(len(e.data)) < h.Size {
			return buf.Bytes() // truncated on purpose
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signedHeader returns the index and signature entries of ix, completed
// and signed by s with namespace ns, without the Writer's checks beyond
// completeIndex.
func signedHeader(t testing.TB, ix *Index, s ssh.Signer, ns string) (raw []byte, entries []tarEntry) {
	t.Helper()
	raw, err := completeIndex(ix, s, testTime)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(s, ns, raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, []tarEntry{regular(spec.IndexEntry, raw), regular(spec.SignatureEntry, sig)}
}

// bodyEntries returns the fixture's files and blobs as entries.
func (f *fixture) bodyEntries() []tarEntry {
	var out []tarEntry
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		out = append(out, regular(name, f.files[name]))
	}
	for _, d := range f.order {
		out = append(out, regular(spec.BlobPrefix+d.Encoded(), f.blobs[d]))
	}
	return out
}
