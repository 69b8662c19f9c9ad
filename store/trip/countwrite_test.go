package trip

import (
	"bytes"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/readahead"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// blobCatcher is a blobWriter that drains each blob as format.Writer
// does: through WriteTo when it is a format.BufferOwner, else Read.
type blobCatcher struct {
	owner bool
	got   bytes.Buffer
}

func (c *blobCatcher) WriteBlob(_ digest.Digest, r io.Reader) error {
	_, c.owner = r.(format.BufferOwner)
	_, err := io.Copy(&c.got, r)
	return err
}

func (c *blobCatcher) WriteEncoded(format.Encoded, io.Reader) error { return nil }

type addUp struct{ n int64 }

func (a *addUp) Blob(digest.Digest, int64) {}
func (a *addUp) Add(n int64)               { a.n += n }

// TestCountWrite_KeepsBufferOwner: with progress on, a blob read ahead in
// memory still reaches the bundle writer as a format.BufferOwner (written
// from its own buffers, not copied first), every byte counted.
func TestCountWrite_KeepsBufferOwner(t *testing.T) {
	data := runtimetest.RandomBytes(9, 3<<20)
	b := format.Blob{Digest: digest.FromBytes(data), Size: int64(len(data))}
	for _, tc := range []struct {
		name  string
		r     func() io.Reader
		owner bool
	}{
		{"read ahead", func() io.Reader {
			return readahead.New(bytes.NewReader(data), [][]byte{make([]byte, 1<<20), make([]byte, 1<<20)})
		}, true},
		{"plain", func() io.Reader { return bytes.NewReader(data) }, false},
	} {
		var c blobCatcher
		var prog addUp
		r := tc.r()
		if err := countWrite(&c, b, r, &prog); err != nil {
			t.Fatal(err)
		}
		if ra, ok := r.(*readahead.Reader); ok {
			ra.Close()
		}
		if c.owner != tc.owner {
			t.Errorf("%s: the writer got a BufferOwner: %v, want %v", tc.name, c.owner, tc.owner)
		}
		if !bytes.Equal(c.got.Bytes(), data) || prog.n != int64(len(data)) {
			t.Errorf("%s: %d bytes written, %d counted, want %d", tc.name, c.got.Len(), prog.n, len(data))
		}
	}
}
