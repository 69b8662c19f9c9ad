package delta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// fuzzFixture is one small trip made once per fuzzing process, in memory
// (scratch directories come and go in the system's temp directory): what
// Apply needs, and the delta's records unframed.
type fuzzFixture struct {
	in    Input
	plain []byte
}

var fuzzTrip = sync.OnceValue(func() *fuzzFixture {
	v1 := deltatest.App(5, 6, 3000)
	v2 := v1.Next(6, 2, 1, 1)
	var base, next bytes.Buffer
	if err := errors.Join(v1.Layer(&base, deltatest.GoGzip, t1), v2.Layer(&next, deltatest.GoGzip, t2)); err != nil {
		panic(err)
	}
	baseDesc, nextDesc := putBlob(nil, base.Bytes()), putBlob(nil, next.Bytes())
	mem := memFetcher{baseDesc.Digest: base.Bytes()}
	bases := []ocispec.Descriptor{baseDesc}
	var out bytes.Buffer
	res, err := Build(context.Background(), &out, Layer{Desc: nextDesc, Blob: bytes.NewReader(next.Bytes())},
		bases, mem, Options{Scratch: os.TempDir()})
	if err != nil {
		panic(err)
	}
	zr, err := zstd.NewReader(&out)
	if err != nil {
		panic(err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	return &fuzzFixture{in: Input{Blob: nextDesc, Delta: res.Delta, Bases: bases, Store: mem, Scratch: os.TempDir()}, plain: plain}
})

// FuzzApply feeds Apply deltas that are the fuzzer's bytes, zstd-framed
// for it (mode 1: so that the fuzzer reaches the records) or as they are
// (mode 0), with the index's digest and size set to theirs so that the
// parser, not the digest check, must refuse them. The property: Apply
// either fails with a typed error or writes exactly the layer.
func FuzzApply(f *testing.F) {
	fx := fuzzTrip()
	f.Add(byte(1), fx.plain)
	f.Add(byte(1), fx.plain[:len(fx.plain)/2])
	f.Add(byte(1), append(bytes.Clone(fx.plain[:len(fx.plain)-1]), 'R', 5, 'x'))
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		if mode == 1 {
			data = frame(data)
		}
		if len(data) == 0 {
			return
		}
		in := fx.in
		in.Delta.Digest, in.Delta.Size = digest.FromBytes(data), int64(len(data))
		var out bytes.Buffer
		err := Apply(context.Background(), &out, bytes.NewReader(data), in)
		if err == nil {
			if digest.FromBytes(out.Bytes()) != in.Blob.Digest {
				t.Fatalf("Apply accepted a delta that rebuilt %d bytes of another digest", out.Len())
			}
			return
		}
		if !errors.Is(err, spec.ErrCorrupt) && !errors.As(err, new(*spec.VerifyError)) &&
			!errors.Is(err, spec.ErrUnsupportedVersion) && !errors.As(err, new(*BaseError)) {
			t.Fatalf("Apply = %v: not a typed error", err)
		}
	})
}

func frame(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := zstd.NewWriter(&out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// memFetcher holds blobs in memory.
type memFetcher map[digest.Digest][]byte

func (m memFetcher) Fetch(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	b, ok := m[desc.Digest]
	if !ok {
		return nil, spec.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
