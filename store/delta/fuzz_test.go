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

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// fuzzTrip is one small trip, its delta in tr.delta, and the delta's
// records unframed, made once per process.
var fuzzTrip = sync.OnceValues(func() (*trip, []byte) {
	v1 := deltatest.App(5, 6, 3000)
	v2 := v1.Next(6, 2, 1, 1)
	var base, next bytes.Buffer
	if err := errors.Join(v1.Layer(&base, deltatest.GoGzip, t1), v2.Layer(&next, deltatest.GoGzip, t2)); err != nil {
		panic(err)
	}
	tr := &trip{next: next.Bytes()}
	dir, err := os.MkdirTemp("", "ferry-fuzz-delta-")
	if err != nil {
		panic(err)
	}
	tr.sender, tr.sendDir = openStore(dir + "/sender")
	tr.site, tr.siteDir = openStore(dir + "/site")
	tr.baseDesc = putBlob(tr.sender, base.Bytes())
	putBlob(tr.site, base.Bytes())
	tr.nextDesc = putBlob(nil, tr.next)
	var out bytes.Buffer
	res, err := Build(context.Background(), &out, Layer{Desc: tr.nextDesc, Blob: bytes.NewReader(tr.next)},
		tr.input(spec.Delta{}).Bases, tr.sender, Options{Scratch: tr.sendDir})
	if err != nil {
		panic(err)
	}
	tr.delta = res.Delta
	zr, err := zstd.NewReader(&out)
	if err != nil {
		panic(err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	return tr, plain
})

// FuzzApply feeds Apply deltas that are the fuzzer's bytes, zstd-framed
// for it (mode 1: so that the fuzzer reaches the records) or as they are
// (mode 0), with the index's digest and size set to theirs so that the
// parser, not the digest check, must refuse them. The property: Apply
// either fails with a typed error or writes exactly the layer.
func FuzzApply(f *testing.F) {
	tr, plain := fuzzTrip()
	f.Add(byte(1), plain)
	f.Add(byte(1), plain[:len(plain)/2])
	f.Add(byte(1), append(bytes.Clone(plain[:len(plain)-1]), 'R', 5, 'x'))
	f.Fuzz(func(t *testing.T, mode byte, data []byte) {
		if mode == 1 {
			data = frame(data)
		}
		if len(data) == 0 {
			return
		}
		d := tr.delta
		d.Digest, d.Size = digest.FromBytes(data), int64(len(data))
		var out bytes.Buffer
		err := Apply(context.Background(), &out, bytes.NewReader(data), tr.input(d))
		if err == nil {
			if digest.FromBytes(out.Bytes()) != tr.nextDesc.Digest {
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
