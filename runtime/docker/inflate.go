package docker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/spec"
)

// inflate returns the dockerarchive.Inflate of a load into the classic
// image store: a gzip or zstd layer is decompressed into an unlinked
// file in dir (the home's tmp/), its blob verified as it is read and its
// tar checked against its DiffID, so that the engine, which would gunzip
// it in one thread after the whole archive arrived, receives it ready.
func inflate(dir string, src runtime.Fetcher) dockerarchive.Inflate {
	return func(ctx context.Context, l dockerarchive.Layer) (io.ReadCloser, int64, error) {
		if l.Desc.Digest == l.DiffID {
			return nil, 0, nil // uncompressed already
		}
		rc, err := src.Fetch(ctx, l.Desc)
		if err != nil {
			return nil, 0, err
		}
		defer rc.Close()
		br := bufio.NewReaderSize(spec.Verify(runtime.ContextReader(ctx, rc), l.Desc.Digest, l.Desc.Size), 1<<20)
		head, _ := br.Peek(4)
		dec, err := decompressor(head, br)
		if err != nil || dec == nil {
			return nil, 0, err
		}
		defer dec.Close()
		f, err := os.CreateTemp(dir, ".ferry-inflate-*")
		if err != nil {
			return nil, 0, err
		}
		os.Remove(f.Name()) // the open file lives on; nothing is left behind
		n, err := inflateTo(f, dec, br, l)
		if err == nil {
			_, err = f.Seek(0, io.SeekStart)
		}
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, n, nil
	}
}

// decompressor reads the compressed stream r that begins with head; nil
// for a stream that is not gzip or zstd.
func decompressor(head []byte, r io.Reader) (io.ReadCloser, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzip.NewReader(r)
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(1<<30), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return nil, nil
}

// inflateTo writes the uncompressed tar to f, hashing it, then reads the
// blob to its end, so that the blob's own verification runs, and checks
// the tar against the DiffID.
func inflateTo(f *os.File, dec io.Reader, blob io.Reader, l dockerarchive.Layer) (int64, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(atomicfile.SmallWriter(f), h), dec, make([]byte, 1<<20))
	// The blob read to its end: bad bytes are named as such (a
	// *spec.VerifyError) before any fault of their decompression.
	if _, verr := io.Copy(io.Discard, blob); verr != nil {
		return 0, verr
	}
	if err != nil {
		return 0, fmt.Errorf("decompress: %w", err)
	}
	if got := digest.NewDigest(digest.SHA256, h); got != l.DiffID {
		return 0, fmt.Errorf("uncompressed, it is %s, not the DiffID %s its config gives: %w", got, l.DiffID, spec.ErrCorrupt)
	}
	return n, nil
}
