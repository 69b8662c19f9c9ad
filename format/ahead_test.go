package format

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestAhead_SameFrames: blobs streamed one after another through Ahead
// (compressed, raw and empty, in turn, so that raw frames follow chunks
// still being compressed) land where Placed says, in the order given, as
// the very frames Encode makes of each, in either compression.
func TestAhead_SameFrames(t *testing.T) {
	gz := gzipped(t, randomBytes(21, 300<<10))
	blobs := [][]byte{compressible(22, 3*chunkSize+5), gz, {}, compressible(23, 700), gz[:1000], compressible(24, chunkSize)}
	for _, c := range []string{CompressionZstd, CompressionNone} {
		t.Run(c, func(t *testing.T) {
			enc, err := NewEncoder(WriterOptions{Compression: c})
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			var out bytes.Buffer
			a := enc.Ahead(&out)
			var placed []Placed
			for _, b := range blobs {
				d, n, err := a.Encode(bytes.NewReader(b), func(p Placed) { placed = append(placed, p) })
				if err != nil || n != int64(len(b)) || d == "" {
					t.Fatalf("Encode = %s %d %v, want %d bytes", d, n, err, len(b))
				}
			}
			if err := a.Wait(); err != nil {
				t.Fatal(err)
			}
			if len(placed) != len(blobs) {
				t.Fatalf("%d blobs placed, want %d", len(placed), len(blobs))
			}
			one, _ := NewEncoder(WriterOptions{Compression: c})
			defer one.Close()
			var off int64
			for i, b := range blobs {
				var want bytes.Buffer
				e, err := one.Encode(&want, bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				p := placed[i]
				if p.Err != nil || p.Off != off || p.Encoded != e {
					t.Fatalf("blob %d placed %+v, want %+v at %d", i, p, e, off)
				}
				if got := out.Bytes()[off : off+p.Frames]; !bytes.Equal(got, want.Bytes()) {
					t.Errorf("blob %d: its frames differ from Encode's", i)
				}
				off += p.Frames
			}
			if off != int64(out.Len()) {
				t.Errorf("%d bytes written, the blobs' frames are %d", out.Len(), off)
			}
		})
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct{ n int }

var errFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		f.n = 0
		return 0, errFull
	}
	f.n -= len(p)
	return len(p), nil
}

// TestAhead_WriteFails: a failure to write a blob's frames, which Encode
// has returned from already, is told to that blob, to every blob after
// it, and by Wait.
func TestAhead_WriteFails(t *testing.T) {
	enc, _ := NewEncoder(WriterOptions{})
	defer enc.Close()
	a := enc.Ahead(&failAfter{n: 100})
	var placed []Placed
	for _, b := range [][]byte{compressible(31, 2*chunkSize), compressible(32, 5000)} {
		if _, _, err := a.Encode(bytes.NewReader(b), func(p Placed) { placed = append(placed, p) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Wait(); !errors.Is(err, errFull) {
		t.Errorf("Wait = %v, want %v", err, errFull)
	}
	if len(placed) != 2 {
		t.Fatalf("%d blobs placed, want 2", len(placed))
	}
	for i, p := range placed {
		if !errors.Is(p.Err, errFull) {
			t.Errorf("blob %d placed with %v, want %v", i, p.Err, errFull)
		}
	}
}

// TestAhead_ReadFails: a blob whose reader fails, in its first buffer or
// after, is not placed, and Encode fails with the reader's error (a cut
// tar member fails with io.ErrUnexpectedEOF, which a short read must not
// be taken for); the next blob is placed after what was written.
func TestAhead_ReadFails(t *testing.T) {
	for _, n := range []int{0, 100, copyBuffer + 10} {
		enc, _ := NewEncoder(WriterOptions{})
		var out bytes.Buffer
		a := enc.Ahead(&out)
		cut := io.MultiReader(bytes.NewReader(compressible(33, n)), iotestErr{})
		var placed []Placed
		if _, _, err := a.Encode(cut, func(p Placed) { placed = append(placed, p) }); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Encode of a stream cut after %d bytes = %v, want %v", n, err, io.ErrUnexpectedEOF)
		}
		next := compressible(34, 3000)
		if _, _, err := a.Encode(bytes.NewReader(next), func(p Placed) { placed = append(placed, p) }); err != nil {
			t.Fatal(err)
		}
		if err := a.Wait(); err != nil || len(placed) != 1 {
			t.Fatalf("after a cut stream: Wait = %v, %d placed, want nil and 1", err, len(placed))
		}
		p := placed[0]
		rc, err := p.Decode(bytes.NewReader(out.Bytes()[p.Off : p.Off+p.Frames]))
		if err != nil {
			t.Fatal(err)
		}
		if back, _ := io.ReadAll(rc); !bytes.Equal(back, next) {
			t.Errorf("cut after %d: the blob after the cut one does not decode from where it was placed", n)
		}
		rc.Close()
		enc.Close()
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
