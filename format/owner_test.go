package format

import (
	"bytes"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
)

// owner is a BufferOwner of data (as internal/readahead.Reader is): its
// WriteTo hands on 100 KiB slices of data itself; it promises data's
// digest, so that WriteBlob takes it as it is.
type owner struct {
	data    []byte
	off     int
	writeTo int // calls of WriteTo
}

func (o *owner) Read(p []byte) (int, error) {
	if o.off == len(o.data) {
		return 0, io.EOF
	}
	n := copy(p, o.data[o.off:])
	o.off += n
	return n, nil
}

func (o *owner) WriteTo(w io.Writer) (int64, error) {
	o.writeTo++
	var total int64
	for o.off < len(o.data) {
		n, err := w.Write(o.data[o.off:min(len(o.data), o.off+100<<10)])
		o.off += n
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (o *owner) OwnsBuffers() {}

func (o *owner) Promise() (digest.Digest, int64) { return digest.FromBytes(o.data), int64(len(o.data)) }

// TestWriter_BufferOwner: a blob from a BufferOwner is written from its
// own buffers (WriteTo, past the first buffer), and the bundle is byte
// for byte the one written from a plain reader, in either compression,
// for data that compresses and data already compressed.
func TestWriter_BufferOwner(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixtureData(12, compressible(13, 3*copyBuffer+7), gzipped(t, randomBytes(14, 3*copyBuffer)), randomBytes(15, 513))
	for _, c := range []string{CompressionZstd, CompressionNone} {
		opts := WriterOptions{Compression: c, ModTime: testTime}
		want := f.write(t, s, opts)
		var got bytes.Buffer
		w := NewWriter(&got, opts)
		if err := f.writeHead(w, s); err != nil {
			t.Fatal(err)
		}
		for _, d := range f.order {
			o := &owner{data: f.blobs[d]}
			if err := w.WriteBlob(d, o); err != nil {
				t.Fatal(err)
			}
			if len(o.data) > copyBuffer && o.writeTo != 1 {
				t.Errorf("%s: blob of %d bytes: WriteTo called %d times, want once", c, len(o.data), o.writeTo)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: bundle from BufferOwners (%d bytes) differs from plain readers' (%d bytes)", c, got.Len(), len(want))
		}
	}
}
