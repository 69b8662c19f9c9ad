package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// largeFixture has three blobs big enough to be read ahead, one of them
// gzip (raw frames), so that every path of the read-ahead runs.
func largeFixture() *fixture {
	gz := randomBytes(21, 3*copyBuffer)
	copy(gz, []byte{0x1f, 0x8b, 0x08})
	return newFixtureData(20, randomBytes(20, 2*copyBuffer+1), gz, compressible(22, 5*copyBuffer))
}

// TestReader_ReadAhead reads large entries every way a caller may: whole
// through io.Copy (WriteTo), in small Reads, half then Next, half then
// Close; every good entry verifies, in either compression.
func TestReader_ReadAhead(t *testing.T) {
	_, s := testKey(t, 1)
	f := largeFixture()
	for _, c := range []string{CompressionZstd, CompressionNone} {
		t.Run(c, func(t *testing.T) {
			data := f.write(t, s, WriterOptions{Compression: c, ModTime: testTime})
			for _, how := range []string{"copy", "small", "half-next", "half-close"} {
				r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
				if err != nil {
					t.Fatal(err)
				}
				readEntries(t, r, f, how)
				r.Close()
				if _, err := r.Read(make([]byte, 10)); err == nil {
					t.Errorf("%s: Read after Close succeeded", how)
				}
			}
		})
	}
}

func readEntries(t *testing.T, r *Reader, f *fixture, how string) {
	t.Helper()
	for i := 0; ; i++ {
		e, err := r.Next()
		if err == io.EOF {
			if len(r.Missing()) != 0 && how == "copy" {
				t.Errorf("missing %v", r.Missing())
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: Next: %v", how, err)
		}
		if d, n := r.Promise(); d != e.Digest || n != e.Size {
			t.Errorf("%s: Promise = %s %d, want %s %d", how, d, n, e.Digest, e.Size)
		}
		var buf bytes.Buffer
		switch {
		case how == "copy":
			_, err = io.Copy(&buf, r)
		case how == "small":
			_, err = io.CopyBuffer(&buf, struct{ io.Reader }{r}, make([]byte, 777))
		case e.Size > readAheadMin:
			_, err = io.CopyN(&buf, r, e.Size/2)
			if how == "half-close" {
				return
			}
			continue
		default:
			_, err = io.Copy(&buf, r)
		}
		if err != nil {
			t.Fatalf("%s: entry %s: %v", how, e.Name, err)
		}
		if want, ok := f.blobs[e.Digest]; ok && !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: entry %s: %d bytes differ", how, e.Name, buf.Len())
		}
	}
}

// TestReader_ReadAheadFaults: a damaged large entry costs only itself; a
// stream cut inside one is fatal, read either way.
func TestReader_ReadAheadFaults(t *testing.T) {
	_, s := testKey(t, 1)
	f := largeFixture()
	plain := f.write(t, s, WriterOptions{Compression: CompressionNone, ModTime: testTime})
	damaged := bytes.Clone(plain)
	damaged[len(damaged)-1024-3*copyBuffer] ^= 1 // inside the last (largest) blob
	res := drainReader(t, damaged, s)
	if res.fatal != nil || len(res.errs) != 1 || len(res.good) != 4 {
		t.Fatalf("damaged: fatal %v, errs %v, %d good, want one entry's fault", res.fatal, res.errs, len(res.good))
	}
	var ve *spec.VerifyError
	if !errors.As(res.errs[0], &ve) {
		t.Errorf("damaged: %v, want a *spec.VerifyError", res.errs[0])
	}
	cut := plain[:len(plain)-1024-copyBuffer]
	res = drainReader(t, cut, s)
	if res.fatal == nil || !errors.Is(res.fatal, spec.ErrCorrupt) {
		t.Errorf("cut: fatal %v, want a truncation wrapping spec.ErrCorrupt", res.fatal)
	}
}

func drainReader(t *testing.T, data []byte, s ssh.Signer) result {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return drain(r)
}

// TestReader_ReadAheadBudget: a large entry is read ahead through two
// buffers of copyBuffer bytes, made once per Reader and reused by every
// entry after it: the memory a load or verify faults in for its
// read-ahead is 2 MiB whatever the bundle holds.
func TestReader_ReadAheadBudget(t *testing.T) {
	_, s := testKey(t, 1)
	f := largeFixture()
	data := f.write(t, s, WriterOptions{Compression: CompressionZstd, ModTime: testTime})
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var first *byte
	ahead := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatalf("%s: %v", e.Digest, err)
		}
		if e.Size < readAheadMin {
			continue
		}
		ahead++
		total := 0
		for _, b := range r.bufs {
			total += cap(b)
		}
		if len(r.bufs) != 2 || total != 2*copyBuffer {
			t.Fatalf("%s: read ahead through %d buffers of %d bytes in all, want 2 of %d", e.Digest, len(r.bufs), total, copyBuffer)
		}
		if first == nil {
			first = &r.bufs[0][:1][0]
		} else if &r.bufs[0][:1][0] != first {
			t.Errorf("%s: read ahead through new buffers; want the Reader's first ones again", e.Digest)
		}
	}
	if ahead < 2 {
		t.Fatalf("%d entries read ahead, want the fixture's large ones (at least 2)", ahead)
	}
}
