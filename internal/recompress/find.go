package recompress

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ferryhq/ferry/spec"
)

// FindOptions tunes Find. The zero value checks every byte.
type FindOptions struct {
	// Prefix, when positive, accepts the first candidate whose output
	// equals the blob's first Prefix bytes (all of a shorter blob). A
	// caller that proves the recipe on the whole blob afterwards (as
	// store/delta does) saves a full compression this way.
	Prefix int64
}

// NotReproducibleError says that no encoder ferry carries writes the
// blob's bytes. It matches spec.ErrCannotReproduce.
type NotReproducibleError struct {
	Compression string
	Tried       int    // candidates tried
	Detail      string // what in the blob rules the encoders out, if known
}

func (e *NotReproducibleError) Error() string {
	s := fmt.Sprintf("written by an encoder ferry cannot reproduce (%s", e.Compression)
	if e.Detail != "" {
		s += ", " + e.Detail
	}
	return s + fmt.Sprintf("; %d candidates tried)", e.Tried)
}

func (e *NotReproducibleError) Is(target error) bool { return target == spec.ErrCannotReproduce }

// Find returns the recipe that compresses the blob's own content (the tar
// inside it) into exactly the blob's size bytes, read through blob. It
// tries the encoders ferry carries, most common first, each on a fresh
// decompression of the blob, comparing its output with the blob as it is
// produced and abandoning it at the first byte that differs: a wrong guess
// costs about one deflate block (tens of KiB). Memory does not depend on
// the blob's size. The error is a *NotReproducibleError when no candidate
// fits, spec.ErrCorrupt (wrapped) when the blob does not decompress.
func Find(ctx context.Context, blob io.ReaderAt, size int64, opts FindOptions) (spec.Recipe, error) {
	head := make([]byte, min(size, spec.MaxRecipeHeader+16))
	if _, err := blob.ReadAt(head, 0); err != nil && err != io.EOF {
		return spec.Recipe{}, err
	}
	cands, err := candidates(head)
	if err != nil || len(cands) == 0 {
		return spec.Recipe{Compression: spec.CompressionNone}, err
	}
	for i, r := range cands {
		if err := ctx.Err(); err != nil {
			return spec.Recipe{}, err
		}
		ok, err := trial(blob, size, r, opts.Prefix)
		if err != nil {
			return spec.Recipe{}, fmt.Errorf("after %d candidates: %w", i, err)
		}
		if ok {
			return r, nil
		}
	}
	nr := &NotReproducibleError{Compression: cands[0].Compression, Tried: len(cands)}
	if cands[0].Compression == spec.CompressionGzip && head[9] != 0xff {
		nr.Detail = fmt.Sprintf("header names OS %d, Go's encoders write 255", head[9])
	}
	return spec.Recipe{}, nr
}

// candidates lists, most likely first, the recipes that might have
// written a blob that starts with head. None for a blob that is neither
// gzip nor zstd.
func candidates(head []byte) ([]spec.Recipe, error) {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		n, err := gzipHeaderLen(head)
		if err != nil {
			return nil, err
		}
		return gzipCandidates(hex.EncodeToString(head[:n]), head[8]), nil
	case len(head) >= 4 && string(head[:4]) == zstdMagic:
		f, err := parseZstdFrame(head)
		if err != nil {
			return nil, err
		}
		return zstdCandidates(f), nil
	}
	return nil, nil
}

// gzipCandidates: Go's encoder (docker, buildkit, containerd, crane),
// pgzip in 1 MiB blocks (containers/image: podman, buildah, skopeo) and in
// 256 KiB blocks (umoci), then klauspost's gzip. The extra-flags byte says
// 2 for level 9 and 4 for level 1 with all of them, so those levels go
// first or last.
func gzipCandidates(header string, xfl byte) []spec.Recipe {
	type framing struct {
		encoder string
		block   int64
	}
	framings := []framing{{GoFlate, 0},
		{Klauspost118, 1 << 20}, {KlauspostFlate, 1 << 20},
		{Klauspost118, 256 << 10}, {KlauspostFlate, 256 << 10},
		{Klauspost118, 0}, {KlauspostFlate, 0}}
	var out []spec.Recipe
	for _, f := range framings {
		e := encoders[f.encoder]
		if e.selfCheck() != nil {
			continue
		}
		for _, l := range hinted(e.levels, xfl) {
			out = append(out, spec.Recipe{Compression: spec.CompressionGzip, Encoder: f.encoder,
				Level: l, BlockSize: f.block, Header: header})
		}
	}
	return out
}

// hinted orders levels by what the gzip extra-flags byte says.
func hinted(levels []int, xfl byte) []int {
	first := map[byte]int{2: 9, 4: 1}[xfl]
	out := make([]int, 0, len(levels))
	if first != 0 {
		out = append(out, first)
	}
	for _, l := range levels {
		if l != first && l != 1 && l != 9 {
			out = append(out, l)
		}
	}
	for _, l := range []int{1, 9} {
		if l != first && slices.Contains(levels, l) {
			out = append(out, l)
		}
	}
	return out
}

// zstdCandidates: klauspost's stream encoder at each level, with the
// window and checksum the frame header shows.
func zstdCandidates(f zstdFrame) []spec.Recipe {
	e := encoders[KlauspostZstd]
	if f.window < 1<<10 || f.window&(f.window-1) != 0 || f.window > spec.MaxRecipeWindow || e.selfCheck() != nil {
		return []spec.Recipe{} // not written by a stream encoder ferry carries
	}
	var out []spec.Recipe
	for _, l := range e.levels {
		out = append(out, spec.Recipe{Compression: spec.CompressionZstd, Encoder: KlauspostZstd,
			Level: l, WindowSize: f.window, Checksum: f.checksum})
	}
	return out
}

var (
	errDiffers = errors.New("output differs")
	errMatched = errors.New("prefix matched")
)

// trial compresses a fresh decompression of the blob with r, comparing as
// it goes. It reports whether r reproduces the blob (or its prefix); an
// error only when the blob itself is at fault.
func trial(blob io.ReaderAt, size int64, r spec.Recipe, prefix int64) (bool, error) {
	raw, _, err := Open(io.NewSectionReader(blob, 0, size))
	if err != nil {
		return false, err
	}
	defer raw.Close()
	cmp := &comparer{blob: blob, size: size, prefix: prefix}
	w, err := newUncheckedWriter(cmp, r)
	if err != nil {
		return false, nil
	}
	buf := make([]byte, 32<<10)
	for {
		n, rerr := raw.Read(buf)
		if _, werr := w.Write(buf[:n]); werr != nil {
			return werr == errMatched, nil
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return false, fmt.Errorf("decompress: %w: %v", spec.ErrCorrupt, rerr)
		}
	}
	if err := w.Close(); err != nil {
		return err == errMatched, nil
	}
	return cmp.off == size, nil
}

// comparer is the writer a trial compresses into: it compares what it is
// given with the blob at the same offset and fails at the first
// difference, or stops with errMatched once prefix bytes matched.
type comparer struct {
	blob   io.ReaderAt
	size   int64
	prefix int64
	off    int64
	buf    []byte
}

func (c *comparer) Write(p []byte) (int, error) {
	if c.off+int64(len(p)) > c.size {
		return 0, errDiffers
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	b := c.buf[:len(p)]
	if _, err := c.blob.ReadAt(b, c.off); err != nil && err != io.EOF {
		return 0, err
	}
	if !bytes.Equal(b, p) {
		return 0, errDiffers
	}
	c.off += int64(len(p))
	if c.prefix > 0 && c.off >= c.prefix {
		return len(p), errMatched
	}
	return len(p), nil
}
