package format

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// cycle gives n bytes cycling over src: random bytes that zstd cannot
// compress as long as src is larger than the encoder's window.
type cycle struct {
	src  []byte
	off  int
	left int64
}

func (c *cycle) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.left)]
	n := copy(p, c.src[c.off:])
	c.off = (c.off + n) % len(c.src)
	c.left -= int64(n)
	return n, nil
}

var benchSrc = sync.OnceValue(func() []byte { return randomBytes(99, 32<<20) })

// gzipSrc is benchSrc that starts as a gzip stream does, as a layer from
// a registry: the writer stores it in raw frames.
var gzipSrc = sync.OnceValue(func() []byte {
	b := randomBytes(99, 32<<20)
	copy(b, []byte{0x1f, 0x8b, 0x08})
	return b
})

// benchKind is the data a benchmark bundle carries and how it is written.
type benchKind struct {
	name, compression string
	src               func() []byte
}

var benchKinds = []benchKind{
	{"zstd-gzip-layer", CompressionZstd, gzipSrc},
	{"zstd-random", CompressionZstd, benchSrc},
	{"none", CompressionNone, benchSrc},
}

// benchDigest is the digest of n cycled bytes of k's source, computed
// once per size.
var benchDigests sync.Map

func benchDigest(k benchKind, n int64) digest.Digest {
	key := fmt.Sprint(k.name, n)
	if d, ok := benchDigests.Load(key); ok {
		return d.(digest.Digest)
	}
	h := sha256.New()
	io.Copy(h, &cycle{src: k.src(), left: n})
	d := digest.NewDigest(digest.SHA256, h)
	benchDigests.Store(key, d)
	return d
}

// writeBench writes a bundle of one blob of n cycled bytes to w.
func writeBench(b *testing.B, w io.Writer, n int64, k benchKind) {
	_, s := testKey(b, 1)
	d := benchDigest(k, n)
	ix := &Index{From: Party{Site: "hq"}, Sequence: 1, Blobs: []Blob{{Digest: d, Size: n, MediaType: spec.DockerLayerGzip, Kind: spec.KindBlob, Status: spec.StatusShipped}}}
	bw := NewWriter(w, WriterOptions{Compression: k.compression})
	if err := bw.WriteHeader(ix, s); err != nil {
		b.Fatal(err)
	}
	if err := bw.WriteBlob(d, &cycle{src: k.src(), left: n}); err != nil {
		b.Fatal(err)
	}
	if err := bw.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriter writes 1 GiB of incompressible bytes: sha256 of every
// byte, tar, zstd at the default level.
func BenchmarkWriter(b *testing.B) {
	const n = 1 << 30
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			benchDigest(k, n)
			b.SetBytes(n)
			b.ResetTimer()
			for range b.N {
				writeBench(b, io.Discard, n, k)
			}
		})
	}
}

// BenchmarkReader verifies a 256 MiB bundle held in memory, as verify
// does: every byte decompressed, hashed and compared.
func BenchmarkReader(b *testing.B) {
	const n = 256 << 20
	_, s := testKey(b, 1)
	for _, k := range benchKinds {
		b.Run(k.name, func(b *testing.B) {
			var buf bytes.Buffer
			writeBench(b, &buf, n, k)
			b.SetBytes(n)
			b.ResetTimer()
			for range b.N {
				r, err := NewReader(bytes.NewReader(buf.Bytes()), ReaderOptions{Trust: trustKey(s.PublicKey())})
				if err != nil {
					b.Fatal(err)
				}
				verifyAll(b, r)
				r.Close()
			}
		})
	}
}

// verifyAll reads every entry into io.Discard, as ferry verify does.
func verifyAll(b *testing.B, r *Reader) {
	for {
		_, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
