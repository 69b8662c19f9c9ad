// Package recompress reproduces the exact bytes of a compressed layer from
// its uncompressed tar. A layer's blob digest covers its compressed bytes,
// so a layer rebuilt from a delta (package store/delta) is the original
// only if it is compressed exactly as the original was: by the same
// encoder, at the same level, with the same framing and gzip header.
// A spec.Recipe names all of that; Find discovers it from a blob, and
// NewWriter follows it.
//
// Gzip layers are written by a few deterministic encoders: Go's
// compress/flate (docker, buildkit, containerd, crane, ko),
// github.com/klauspost/compress/flate alone or cut into blocks by
// github.com/klauspost/pgzip (umoci, podman, buildah, skopeo). Their output
// depends on the encoder's version, so each encoder is named with the
// version whose behaviour it is, and checked against golden output before
// it is used (see Check). zlib (the gzip command, Python) and libzstd are
// not reproducible: Find says so and the layer ships whole.
//
// It lives in internal/ because it is a mechanism, not a place where bytes
// live: store/delta uses it today, and any code that must re-create a
// layer's exact bytes (a copy from an uncompressed runtime back to its
// registry form) can use it tomorrow.
package recompress

import (
	"bufio"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/spec"
)

// NewWriter returns a writer that compresses what is written to it into w
// exactly as r says; Close ends the stream (trailer, checksum) but does not
// close w. The error wraps spec.ErrCannotReproduce when this ferry cannot
// run the recipe, spec.ErrCorrupt when the recipe is malformed.
func NewWriter(w io.Writer, r spec.Recipe) (io.WriteCloser, error) {
	if err := Check(r); err != nil {
		return nil, err
	}
	switch r.Compression {
	case spec.CompressionNone:
		return nopCloser{w}, nil
	case spec.CompressionGzip:
		return newGzipWriter(w, r)
	default:
		return newZstdWriter(w, r)
	}
}

// Check reports whether this ferry can follow r: a well-formed recipe
// whose encoder it carries, at a level that encoder has, and whose
// encoder's output here is the golden output of the version the recipe
// names. It returns an error wrapping spec.ErrCannotReproduce (naming what
// is missing) or spec.ErrCorrupt.
func Check(r spec.Recipe) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Compression == spec.CompressionNone {
		return nil
	}
	e, ok := encoders[r.Encoder]
	if !ok || e.compression != r.Compression {
		return fmt.Errorf("recipe needs %s encoder %q, which this ferry lacks: %w",
			r.Compression, r.Encoder, spec.ErrCannotReproduce)
	}
	if !e.hasLevel(r.Level) {
		return fmt.Errorf("recipe needs %s at level %d, which it lacks: %w", r.Encoder, r.Level, spec.ErrCannotReproduce)
	}
	if r.Compression == spec.CompressionGzip {
		if _, err := parseGzipHeader(r.Header); err != nil {
			return err
		}
		if r.BlockSize != 0 && (!e.blocks || r.BlockSize <= tailSize) {
			return fmt.Errorf("recipe needs %s in blocks of %d bytes, which it cannot write: %w",
				r.Encoder, r.BlockSize, spec.ErrCannotReproduce)
		}
	}
	return e.selfCheck()
}

// Open returns the tar inside a layer blob, telling gzip and zstd from an
// uncompressed tar by their magic numbers, and the compression it found.
// A zstd frame whose window is over spec.MaxDecoderMemory is refused.
// Closing the result releases the decoder, not r.
func Open(r io.Reader) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := newGzipReader(br)
		return zr, spec.CompressionGzip, err
	case len(magic) == 4 && string(magic) == zstdMagic:
		zr, err := newZstdReader(br)
		return zr, spec.CompressionZstd, err
	default:
		return io.NopCloser(br), spec.CompressionNone, nil
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
