package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// TestEncoder_SameBundle: a bundle whose blobs were encoded ahead and
// copied in (WriteEncoded) is byte for byte the one WriteBlob writes, in
// either compression, and each blob's frames decode to its bytes.
func TestEncoder_SameBundle(t *testing.T) {
	_, s := testKey(t, 1)
	gz := gzipped(t, randomBytes(9, 200<<10))
	f := newFixtureData(9, compressible(10, 3*copyBuffer+7), gz, []byte{}, randomBytes(11, 513))
	for _, c := range []string{CompressionZstd, CompressionNone} {
		t.Run(c, func(t *testing.T) {
			opts := WriterOptions{Compression: c, ModTime: testTime}
			want := f.write(t, s, opts)
			enc, err := NewEncoder(opts)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			w := NewWriter(&got, opts)
			if err := f.writeHead(w, s); err != nil {
				t.Fatal(err)
			}
			for _, d := range f.order {
				var frames bytes.Buffer
				e, err := enc.Encode(&frames, bytes.NewReader(f.blobs[d]))
				if err != nil {
					t.Fatal(err)
				}
				if e.Digest != d || e.Size != int64(len(f.blobs[d])) || e.Frames != int64(frames.Len()) {
					t.Fatalf("Encode = %s %d %d, want %s %d %d", e.Digest, e.Size, e.Frames, d, len(f.blobs[d]), frames.Len())
				}
				rc, err := e.Decode(bytes.NewReader(frames.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if back, err := io.ReadAll(rc); err != nil || !bytes.Equal(back, f.blobs[d]) {
					t.Errorf("Decode of %s: %d bytes, %v", d, len(back), err)
				}
				rc.Close()
				if err := w.WriteEncoded(e, &frames); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("bundle from encoded blobs (%d bytes) differs from WriteBlob's (%d bytes)", got.Len(), len(want))
			}
		})
	}
}

// TestWriter_WriteEncodedRefuses frames made for another compression and
// a blob of another size than the index lists.
func TestWriter_WriteEncodedRefuses(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(12, 1000)
	d := f.order[0]
	for _, c := range []struct {
		name  string
		opts  WriterOptions
		data  []byte
		isErr func(error) bool
	}{
		{"other compression", WriterOptions{Compression: CompressionNone}, f.blobs[d], func(err error) bool { return errors.Is(err, spec.ErrBadInput) }},
		{"other size", WriterOptions{}, f.blobs[d][:999], func(err error) bool { var ve *spec.VerifyError; return errors.As(err, &ve) }},
	} {
		enc, _ := NewEncoder(c.opts)
		var frames bytes.Buffer
		e, err := enc.Encode(&frames, bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		e.Digest = d
		w := NewWriter(io.Discard, WriterOptions{})
		if err := w.WriteHeader(f.index(), s); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteEncoded(e, &frames); !c.isErr(err) {
			t.Errorf("%s: WriteEncoded = %v", c.name, err)
		}
	}
}
