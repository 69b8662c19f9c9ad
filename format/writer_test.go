package format

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

func TestWriter_RoundTrip(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(1, 10, 3000, 70000, 1<<20)
	for _, c := range []string{"", CompressionZstd, CompressionNone} {
		t.Run("compression="+c, func(t *testing.T) {
			data := f.write(t, s, WriterOptions{Compression: c, ModTime: testTime})
			r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
			if err != nil {
				t.Fatalf("NewReader = %v", err)
			}
			defer r.Close()
			res := drain(r)
			if res.fatal != nil || len(res.errs) > 0 || len(res.missing) > 0 {
				t.Fatalf("drain: fatal %v, errs %v, missing %v", res.fatal, res.errs, res.missing)
			}
			for d, want := range f.blobs {
				if got := res.good[spec.BlobPrefix+d.Encoded()]; !bytes.Equal(got, want) {
					t.Errorf("blob %s: got %d bytes, want %d", d, len(got), len(want))
				}
			}
			for name, want := range f.files {
				if got := res.good[name]; !bytes.Equal(got, want) {
					t.Errorf("file %s = %q, want %q", name, got, want)
				}
			}
			if got := r.Index().From.Fingerprint; got != Fingerprint(s.PublicKey()) {
				t.Errorf("From.Fingerprint = %s, want %s", got, Fingerprint(s.PublicKey()))
			}
			if r.Key() == nil || r.Signature() == nil || r.RawIndex() == nil {
				t.Errorf("Key, Signature, RawIndex = %v, %d bytes, %d bytes", r.Key(), len(r.Signature()), len(r.RawIndex()))
			}
		})
	}
}

// TestWriter_Layout reads a bundle back with archive/tar: entry order and
// every header field the spec fixes.
func TestWriter_Layout(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(2, 500, 20, 9000)
	data := f.write(t, s, WriterOptions{Compression: CompressionNone, ModTime: testTime.Add(300 * time.Millisecond)})
	want := []string{spec.IndexEntry, spec.SignatureEntry, spec.LayoutEntry, spec.LayoutIndexEntry}
	for _, d := range f.order {
		want = append(want, spec.BlobPrefix+d.Encoded())
	}
	var got []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: type %q mode %o uid %d gid %d uname %q gname %q", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(testTime) || h.Format != tar.FormatUSTAR {
			t.Errorf("%s: mtime %v format %v, want %v USTAR", h.Name, h.ModTime, h.Format, testTime)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

// TestWriter_Deterministic: same input, same bytes, whatever GOMAXPROCS.
func TestWriter_Deterministic(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixtureData(3, randomBytes(3, 100), randomBytes(4, 3<<20), compressible(5, 9<<20))
	var outs [][]byte
	for _, procs := range []int{1, 2, 8, 1} {
		prev := runtime.GOMAXPROCS(procs)
		outs = append(outs, f.write(t, s, WriterOptions{ModTime: testTime}))
		runtime.GOMAXPROCS(prev)
	}
	for i := 1; i < len(outs); i++ {
		if !bytes.Equal(outs[0], outs[i]) {
			t.Errorf("run %d: %d bytes differ from run 0 (%d bytes)", i, len(outs[i]), len(outs[0]))
		}
	}
	if len(outs[0]) > 7<<20 {
		t.Errorf("bundle of %d bytes: the compressible blob did not compress", len(outs[0]))
	}
}

func TestWriter_WriteHeader(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(4, 10, 20)
	ix := f.index()
	ix.Blobs[0], ix.Blobs[1] = ix.Blobs[1], ix.Blobs[0]
	w := NewWriter(io.Discard, WriterOptions{})
	if err := w.WriteHeader(ix, s); err != nil {
		t.Fatal(err)
	}
	if ix.SchemaVersion != spec.BundleSchemaVersion || ix.MediaType != spec.IndexMediaType {
		t.Errorf("schemaVersion, mediaType = %d, %q", ix.SchemaVersion, ix.MediaType)
	}
	if len(ix.ID) != 32 {
		t.Errorf("ID = %q, want 32 hex digits", ix.ID)
	}
	if !slices.IsSortedFunc(ix.Blobs, func(a, b Blob) int { return int(a.Size - b.Size) }) {
		t.Errorf("blobs not in canonical order: %v", ix.Blobs)
	}
	ix2 := f.index()
	NewWriter(io.Discard, WriterOptions{}).WriteHeader(ix2, s)
	if ix2.ID != ix.ID {
		t.Errorf("ID = %s then %s, want the same", ix.ID, ix2.ID)
	}
}

func TestWriter_Errors(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(5, 10, 20)
	other := randomBytes(77, 10)
	tests := []struct {
		name    string
		do      func(w *Writer) error
		wantErr string
	}{
		{"no header", func(w *Writer) error { return w.WriteFile(spec.LayoutEntry, nil) }, "WriteHeader was not called"},
		{"no signer", func(w *Writer) error { return w.WriteHeader(f.index(), nil) }, "no signer"},
		{"invalid index", func(w *Writer) error {
			ix := f.index()
			ix.Blobs[0].Size = -1
			return w.WriteHeader(ix, s)
		}, "blobs[0].size: -1 is negative"},
		{"unlisted blob", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteBlob(digest.FromBytes(other), bytes.NewReader(other))
		}, "not listed as shipped"},
		{"prerequisite blob", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteBlob(f.prereq.Digest, bytes.NewReader(other))
		}, "not listed as shipped"},
		{"wrong bytes", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteBlob(f.order[0], bytes.NewReader(other))
		}, "digest mismatch"},
		{"short blob", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteBlob(f.order[0], bytes.NewReader(other[:3]))
		}, "size mismatch"},
		{"blob twice", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			w.WriteBlob(f.order[0], bytes.NewReader(f.blobs[f.order[0]]))
			return w.WriteBlob(f.order[0], bytes.NewReader(f.blobs[f.order[0]]))
		}, "written twice"},
		{"wrong file", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteFile(spec.LayoutEntry, []byte("{}"))
		}, `file "oci-layout": blob sha256:`},
		{"unlisted file", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			return w.WriteFile("etc/passwd", nil)
		}, "not listed"},
		{"missing at close", func(w *Writer) error {
			w.WriteHeader(f.index(), s)
			w.WriteBlob(f.order[0], bytes.NewReader(f.blobs[f.order[0]]))
			return w.Close()
		}, "3 listed entries not written: [index.json oci-layout " + string(f.order[1]) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(io.Discard, WriterOptions{})
			err := tt.do(w)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if again := w.Close(); !errors.Is(again, err) && again != err {
				t.Errorf("Close after %v = %v, want the same (sticky)", err, again)
			}
		})
	}
}

func TestNewWriter_UnknownCompression(t *testing.T) {
	_, s := testKey(t, 1)
	w := NewWriter(io.Discard, WriterOptions{Compression: "gzip"})
	if err := w.WriteHeader(newFixture(6, 1).index(), s); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("WriteHeader = %v, want ErrBadInput", err)
	}
}
