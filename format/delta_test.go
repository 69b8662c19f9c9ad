package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// withDelta adds to the fixture's index a layer shipped as a delta on the
// fixture's prerequisite, and returns the index and the delta's bytes
// (the format does not read them: store/delta does).
func withDelta(f *fixture) (*Index, []byte) {
	data := randomBytes(88, 700)
	ix := f.index()
	layer := randomBytes(89, 5000)
	ix.Blobs = append(ix.Blobs, Blob{Digest: digest.FromBytes(layer), Size: int64(len(layer)),
		MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Kind: spec.KindDelta, Status: spec.StatusShipped,
		Delta: &spec.Delta{Digest: digest.FromBytes(data), Size: int64(len(data)), Bases: []digest.Digest{f.prereq.Digest},
			DiffID: digest.FromString("tar"), TarSize: 10240,
			Recipe: spec.Recipe{Compression: spec.CompressionGzip, Encoder: "go-flate@go1.26", Header: "1f8b08000000000000ff", Level: 6}}})
	return ix, data
}

// TestDelta_RoundTrip: a delta is written under deltas/sha256/<the
// layer's hex> with the delta's bytes, and read back as kind delta: the
// entry's digest and size are the delta's, its blob the layer's.
func TestDelta_RoundTrip(t *testing.T) {
	f := newFixture(1, 200, 1200)
	_, s := testKey(t, 1)
	ix, data := withDelta(f)
	layer := last(ix)
	if _, err := writeDelta(f, ix, nil, s, WriterOptions{}); !errors.Is(err, spec.ErrIncomplete) {
		t.Fatalf("Close without the delta entry = %v, want ErrIncomplete", err)
	}
	bundle, err := writeDelta(f, ix, data, s, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(bundle), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got *Entry
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next = %v", err)
		}
		if e.Kind == spec.KindDelta {
			got = e
			if b, err := io.ReadAll(r); err != nil || !bytes.Equal(b, data) {
				t.Errorf("reading the delta entry = %d bytes, %v; want its %d bytes", len(b), err, len(data))
			}
		}
	}
	want := spec.DeltaPrefix + layer.Digest.Encoded()
	if got == nil || got.Name != want || got.Digest != layer.Delta.Digest || got.Size != layer.Delta.Size || got.Blob.Digest != layer.Digest {
		t.Errorf("delta entry = %+v, want %s with the delta's digest and size and the layer's blob", got, want)
	}
	if m := r.Missing(); len(m) != 0 {
		t.Errorf("Missing() = %v", m)
	}
}

// writeDelta writes the bundle of ix, the fixture's entries and the delta
// entry of data (none when nil).
func writeDelta(f *fixture, ix *Index, data []byte, s ssh.Signer, opts WriterOptions) ([]byte, error) {
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	w.WriteHeader(ix, s)
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		w.WriteFile(name, f.files[name])
	}
	for _, d := range f.order {
		w.WriteBlob(d, bytes.NewReader(f.blobs[d]))
	}
	if data != nil {
		w.WriteBlob(last(ix).Digest, bytes.NewReader(data))
	}
	err := w.Close()
	return buf.Bytes(), err
}

// TestDelta_WrongBytes: the writer refuses bytes that are not the listed
// delta, and the reader refuses an entry whose bytes differ, naming the
// layer, as a fault of that entry only.
func TestDelta_WrongBytes(t *testing.T) {
	f := newFixture(1, 200, 1200)
	_, s := testKey(t, 1)
	ix, data := withDelta(f)
	layer := *last(ix)
	w := NewWriter(&bytes.Buffer{}, WriterOptions{})
	w.WriteHeader(ix, s)
	if err := w.WriteBlob(layer.Digest, bytes.NewReader(append([]byte{1}, data[1:]...))); !errors.As(err, new(*spec.VerifyError)) {
		t.Errorf("WriteBlob of other bytes = %v, want a VerifyError", err)
	}
	_, head := signedHeader(t, ix, s, spec.SignatureNamespace)
	flipped := append([]byte{data[0] ^ 1}, data[1:]...)
	body := append(f.bodyEntries(), regular(spec.DeltaPrefix+layer.Digest.Encoded(), flipped))
	r, err := NewReader(bytes.NewReader(buildTar(t, append(head, body...))), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := drain(r)
	if res.fatal != nil || len(res.errs) != 1 || !errors.Is(res.errs[0], spec.ErrDigestMismatch) || len(res.good) != 4 {
		t.Errorf("reading a flipped delta: fatal %v, faults %v, %d good; want one digest mismatch and the 4 other entries", res.fatal, res.errs, len(res.good))
	}
}

// TestDelta_BadFields: an index whose delta a reader could not rely on is
// refused whole.
func TestDelta_BadFields(t *testing.T) {
	_, s := testKey(t, 1)
	for _, tc := range []struct {
		name string
		edit func(ix *Index)
		want string
	}{
		{"no field", func(ix *Index) { last(ix).Delta = nil }, `without its "delta" field`},
		{"prerequisite", func(ix *Index) { last(ix).Status = spec.StatusPrerequisite }, "not shipped"},
		{"field on a blob", func(ix *Index) { ix.Blobs[0].Delta = last(ix).Delta }, `has a "delta" field`},
		{"extra's field on a delta", func(ix *Index) { last(ix).Extra = &spec.Extra{Name: "x"} }, `has a "extra" field`},
		{"larger than its blob", func(ix *Index) { last(ix).Delta.Size = last(ix).Size + 1 }, "never larger than its blob"},
		{"no bases", func(ix *Index) { last(ix).Delta.Bases = nil }, "0 bases"},
		{"base not listed", func(ix *Index) { last(ix).Delta.Bases = []digest.Digest{digest.FromString("elsewhere")} }, "not a prerequisite"},
		{"base shipped", func(ix *Index) { last(ix).Delta.Bases = []digest.Digest{ix.Blobs[1].Digest} }, "not a prerequisite"},
		{"base itself", func(ix *Index) { last(ix).Delta.Bases = []digest.Digest{last(ix).Digest} }, "not a prerequisite"},
		{"bad diffID", func(ix *Index) { last(ix).Delta.DiffID = "sha256:xyz" }, "invalid digest"},
		{"bad recipe", func(ix *Index) { last(ix).Delta.Recipe.Compression = "brotli" }, "compression"},
		{"gzip header not hex", func(ix *Index) { last(ix).Delta.Recipe.Header = "../etc" }, "header"},
	} {
		ix, _ := withDelta(newFixture(1, 200, 1200))
		tc.edit(ix)
		refusesIndex(t, s, tc.name, ix, tc.want)
	}
}
