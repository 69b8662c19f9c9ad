package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// withExtra adds to the fixture's index an extra file named name and
// returns the index and the file.
func withExtra(f *fixture, name string, exe bool) (*Index, []byte) {
	data := randomBytes(77, 3000)
	ix := f.index()
	ix.Blobs = append(ix.Blobs, Blob{Digest: digest.FromBytes(data), Size: int64(len(data)), MediaType: spec.MediaTypeExecutable,
		Kind: spec.KindExtra, Status: spec.StatusShipped, Extra: &spec.Extra{Name: name, Executable: exe}})
	return ix, data
}

// TestExtra_RoundTrip: an extra is written under extras/NAME with its own
// bytes, read back as kind extra with its name, and verified like a blob.
func TestExtra_RoundTrip(t *testing.T) {
	f := newFixture(1, 200, 1200)
	_, s := testKey(t, 1)
	ix, data := withExtra(f, "ferry-linux-amd64", true)
	var buf bytes.Buffer
	w := NewWriter(&buf, WriterOptions{})
	if err := w.WriteHeader(ix, s); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		w.WriteFile(name, f.files[name])
	}
	for _, d := range f.order {
		w.WriteBlob(d, bytes.NewReader(f.blobs[d]))
	}
	if err := w.Close(); err == nil || !errors.Is(err, spec.ErrIncomplete) {
		t.Fatalf("Close without the extra = %v, want ErrIncomplete", err)
	}
	buf.Reset()
	w = NewWriter(&buf, WriterOptions{})
	w.WriteHeader(ix, s)
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		w.WriteFile(name, f.files[name])
	}
	for _, d := range f.order {
		w.WriteBlob(d, bytes.NewReader(f.blobs[d]))
	}
	if err := w.WriteBlob(digest.FromBytes(data), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got *Entry
	var gotData bytes.Buffer
	for {
		e, err := r.Next()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("Next = %v", err)
			}
			break
		}
		if e.Kind == spec.KindExtra {
			got = e
			if _, err := gotData.ReadFrom(r); err != nil {
				t.Fatalf("reading the extra: %v", err)
			}
		}
	}
	if got == nil || got.Name != "extras/ferry-linux-amd64" || got.Blob == nil || got.Blob.Extra.Name != "ferry-linux-amd64" ||
		!got.Blob.Extra.Executable || !bytes.Equal(gotData.Bytes(), data) {
		t.Errorf("extra entry = %+v, %d bytes, want extras/ferry-linux-amd64 with its bytes", got, gotData.Len())
	}
	if m := r.Missing(); len(m) != 0 {
		t.Errorf("Missing() = %v", m)
	}
}

// TestExtra_BadFields: an index with a bad extra is refused whole (it is
// the writer's fault, and the file name would become a path).
func TestExtra_BadFields(t *testing.T) {
	_, s := testKey(t, 1)
	for _, tc := range []struct {
		name string
		edit func(ix *Index)
		want string
	}{
		{"path in the name", func(ix *Index) { last(ix).Extra.Name = "../ferry" }, "file name"},
		{"hidden name", func(ix *Index) { last(ix).Extra.Name = ".bashrc" }, "file name"},
		{"windows device", func(ix *Index) { last(ix).Extra.Name = "con.txt" }, "Windows device"},
		{"no field", func(ix *Index) { last(ix).Extra = nil }, `without its "extra" field`},
		{"prerequisite", func(ix *Index) { last(ix).Status = spec.StatusPrerequisite }, "not shipped"},
		{"field on a blob", func(ix *Index) { ix.Blobs[0].Extra = &spec.Extra{Name: "x"} }, `has a "extra" field`},
		{"two of one name", func(ix *Index) {
			b := *last(ix)
			b.Digest, b.Extra = digest.FromString("other"), &spec.Extra{Name: b.Extra.Name}
			ix.Blobs = append(ix.Blobs, b)
		}, "listed twice"},
	} {
		ix, _ := withExtra(newFixture(1, 200, 1200), "ferry-linux-amd64", true)
		tc.edit(ix)
		refusesIndex(t, s, tc.name, ix, tc.want)
	}
}

func last(ix *Index) *Blob { return &ix.Blobs[len(ix.Blobs)-1] }

// TestUnknownKind_Field: a blob of a kind this ferry does not know may
// hold one field named after its kind, whatever it holds: the index
// parses and encodes again to the same bytes; the blob is Unsupported and
// its entry refused naming the kind; every other entry is read.
func TestUnknownKind_Field(t *testing.T) {
	f := newFixture(2, 200, 1200, 5000)
	_, s := testKey(t, 1)
	ix := f.index()
	stripe := ix.Blobs[2].Digest
	ix.Blobs[2].Kind, ix.Blobs[2].Unknown = "stripe", json.RawMessage(`{"offset":0,"parts":["a","b"],"volume":2}`)
	raw, head := signedHeader(t, ix, s, spec.SignatureNamespace)
	parsed, err := ParseIndex(raw)
	if err != nil {
		t.Fatalf("ParseIndex with an unknown kind's field = %v", err)
	}
	if again, err := Canonical(parsed); err != nil || !bytes.Equal(again, raw) {
		t.Errorf("Canonical(ParseIndex(raw)) differs from raw: %v\n%s\n%s", err, again, raw)
	}
	body := append(f.bodyEntries(), regular("stripes/0001", []byte("part")))
	r, err := NewReader(bytes.NewReader(buildTar(t, append(head, body...))), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := drain(r)
	if res.fatal != nil {
		t.Fatal(res.fatal)
	}
	if u := r.Unsupported(); len(u) != 1 || u[0].Digest != stripe {
		t.Errorf("Unsupported() = %v, want the stripe blob", u)
	}
	refusedKind := 0
	for _, e := range res.errs {
		if strings.Contains(e.Error(), `kind "stripe" unknown to this ferry`) {
			refusedKind++
		}
	}
	if refusedKind != 2 { // its entry under blobs/sha256/, and stripes/0001
		t.Errorf("entry errors = %v, want the two entries refused naming kind stripe", res.errs)
	}
	if len(res.good) != 4 || len(res.missing) != 0 {
		t.Errorf("read %d good entries, missing %v; want the 2 files and 2 other blobs, nothing missing", len(res.good), res.missing)
	}
	for _, bad := range []string{`{"kind":"stripe","stripe":1,"other":2}`, `{"kind":"blob","blob":{}}`} {
		var b Blob
		if err := json.Unmarshal([]byte(`{"digest":"sha256:`+strings.Repeat("a", 64)+`","size":1,"mediaType":"x","status":"shipped",`+bad[1:]), &b); err == nil {
			t.Errorf("Blob %s decoded, want an unknown field refused", bad)
		}
	}
}

// refusesIndex checks that both the reader and the writer refuse ix,
// signed by s, with spec.ErrCorrupt naming want.
func refusesIndex(t *testing.T, s ssh.Signer, name string, ix *Index, want string) {
	t.Helper()
	ix.SchemaVersion, ix.MediaType, ix.ID = spec.BundleSchemaVersion, spec.IndexMediaType, "0123456789abcdef0123456789abcdef"
	ix.From.Fingerprint = Fingerprint(s.PublicKey())
	raw, err := Canonical(ix)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseIndex(raw)
	if err == nil || !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: ParseIndex = %v, want ErrCorrupt containing %q", name, err, want)
	}
	if err := NewWriter(&bytes.Buffer{}, WriterOptions{}).WriteHeader(ix, s); err == nil {
		t.Errorf("%s: WriteHeader accepted the index", name)
	}
}
