package delta

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
)

// Input says what Apply rebuilds and from what.
type Input struct {
	// Blob is the layer: the result must have its digest and size.
	Blob ocispec.Descriptor
	// Delta is the index's description of the delta entry.
	Delta spec.Delta
	// Bases are Delta.Bases with their sizes, in the same order.
	Bases []ocispec.Descriptor
	// Store holds the bases; each is re-verified against its digest as it
	// is read.
	Store Fetcher
	// Scratch is a directory on the home's disk for the base files the
	// delta uses; Apply makes a directory in it and removes it after.
	Scratch string
}

// Apply rebuilds the layer in.Blob from the delta entry's bytes and the
// bases, writing the compressed blob to w as it is made. The bytes are the
// layer only if Apply returns nil: it checks the delta against its digest,
// every base against its digest, every base file against the delta's
// reference, the rebuilt tar against the DiffID, and the compressed result
// against the blob's digest, in that order, and returns the first fault —
// a *BaseError for a base, a *spec.VerifyError (wrapped) for a result,
// spec.ErrCorrupt for a malformed delta, spec.ErrCannotReproduce for a
// recipe this ferry cannot follow. Write to a temporary file and keep it
// only on nil (Open does that for an ingest).
func Apply(ctx context.Context, w io.Writer, delta io.Reader, in Input) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("delta for layer %s: %w", in.Blob.Digest, err)
		}
	}()
	if err := in.check(); err != nil {
		return err
	}
	vr := spec.NewVerifyingReader(delta, in.Delta.Digest, in.Delta.Size)
	zr, err := zstd.NewReader(vr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(outerWin), zstd.WithDecoderMaxMemory(4*outerWin))
	if err != nil {
		return err
	}
	defer zr.Close()
	wr := &wireReader{r: bufio.NewReaderSize(corruptReader{zr}, 64<<10)}
	if err := wr.header(len(in.Bases), in.Delta.TarSize); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(in.Scratch, "apply-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := extract(ctx, in.Store, in.Bases, wr.refs, dir); err != nil {
		return err
	}
	out, err := newRebuild(w, in)
	if err != nil {
		return err
	}
	if err := out.run(ctx, wr, dir); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, vr); err != nil { // the delta's digest, at its end
		return err
	}
	return out.finish()
}

// check validates the input before any byte is read.
func (in *Input) check() error {
	if err := spec.ValidateDigest(in.Blob.Digest); err != nil {
		return err
	}
	if err := in.Delta.Validate(); err != nil {
		return err
	}
	if len(in.Bases) != len(in.Delta.Bases) {
		return fmt.Errorf("%d bases given, the delta names %d: %w", len(in.Bases), len(in.Delta.Bases), spec.ErrBadInput)
	}
	for i, b := range in.Bases {
		if b.Digest != in.Delta.Bases[i] {
			return fmt.Errorf("base %d is %s, the delta names %s: %w", i, b.Digest, in.Delta.Bases[i], spec.ErrBadInput)
		}
	}
	return recompress.Check(in.Delta.Recipe)
}

// Open returns the rebuilt blob as a reader that fails, instead of ending,
// when any check of Apply fails: store.Blobs.Ingest of it keeps the blob
// only when it is exactly the layer. Close stops Apply if it is still
// running and returns once it has: delta is not read after Close, so
// the caller may go on reading the stream it came from.
func Open(ctx context.Context, delta io.Reader, in Input) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	o := &opened{PipeReader: pr, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		pw.CloseWithError(Apply(ctx, pw, delta, in))
	}()
	return o
}

// opened is Open's reader.
type opened struct {
	*io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

func (o *opened) Close() error {
	o.PipeReader.CloseWithError(errClosed)
	o.cancel()
	<-o.done
	return nil
}

var errClosed = errors.New("delta: rebuilt blob closed")

// rebuild is the tar being rebuilt: hashed and counted, then compressed
// by the recipe into the blob, hashed and counted too.
type rebuild struct {
	in      *Input
	enc     io.WriteCloser
	tarHash hash.Hash
	tarN    int64
	blob    *countingHash
	dict    []byte
	dec     *zstd.Decoder
}

func newRebuild(w io.Writer, in Input) (*rebuild, error) {
	blob := &countingHash{w: w, h: sha256.New(), want: in.Blob.Digest, max: in.Blob.Size}
	enc, err := recompress.NewWriter(blob, in.Delta.Recipe)
	if err != nil {
		return nil, err
	}
	return &rebuild{in: &in, enc: enc, tarHash: sha256.New(), blob: blob}, nil
}

// Write takes rebuilt tar bytes.
func (b *rebuild) Write(p []byte) (int, error) {
	if b.tarN+int64(len(p)) > b.in.Delta.TarSize {
		return 0, fmt.Errorf("rebuilt tar: %w", &spec.VerifyError{Want: b.in.Delta.DiffID, WantSize: b.in.Delta.TarSize, GotSize: b.tarN + int64(len(p))})
	}
	b.tarN += int64(len(p))
	b.tarHash.Write(p)
	return b.enc.Write(p)
}

func (b *rebuild) run(ctx context.Context, wr *wireReader, dir string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := wr.next()
		if err != nil {
			return err
		}
		switch o.kind {
		case opEnd:
			if _, err := wr.r.ReadByte(); err != io.EOF {
				return corrupt("data after the end")
			}
			return nil
		case opRaw:
			if _, err := io.CopyN(b, wr.r, o.n); err != nil {
				return rawError(err)
			}
		case opCopy:
			err = copyFile(b, refPath(dir, o.ref))
		case opPatch:
			err = b.patch(wr, o, refPath(dir, o.ref))
		}
		if err != nil {
			return err
		}
	}
}

func rawError(err error) error {
	if err == io.EOF {
		return corrupt("raw bytes cut")
	}
	return err
}

// patch decodes a patch's frame with the base file's bytes as dictionary.
func (b *rebuild) patch(wr *wireReader, o op, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if b.dict == nil {
		b.dict = make([]byte, maxDict)
	}
	dict := b.dict[:o.dictLen]
	if _, err := f.ReadAt(dict, o.dictOff); err != nil {
		return err
	}
	c := &chunks{r: wr}
	if b.dec == nil {
		b.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(patchWin), zstd.WithDecoderMaxMemory(2*patchWin))
		if err != nil {
			return err
		}
	}
	if err := b.dec.ResetWithOptions(c, zstd.WithDecoderDictRaw(dictID, dict)); err != nil {
		return corrupt("patch: %v", err)
	}
	n, err := io.Copy(b, io.LimitReader(b.dec, o.n+1))
	if err != nil {
		if errors.As(err, new(*spec.VerifyError)) {
			return err
		}
		return corrupt("patch: %v", err)
	}
	if n != o.n {
		return corrupt("patch gave %d bytes, it promised %d", n, o.n)
	}
	if rest, err := io.Copy(io.Discard, c); err != nil || rest != 0 {
		return corrupt("patch: bytes after its frame")
	}
	return nil
}

// finish checks the tar, then ends the compressed stream and checks the
// blob.
func (b *rebuild) finish() error {
	if b.dec != nil {
		b.dec.Close()
	}
	if got := digest.NewDigest(digest.SHA256, b.tarHash); b.tarN != b.in.Delta.TarSize || got != b.in.Delta.DiffID {
		return fmt.Errorf("rebuilt tar: %w", &spec.VerifyError{Want: b.in.Delta.DiffID, WantSize: b.in.Delta.TarSize, GotDigest: got, GotSize: b.tarN})
	}
	if err := b.enc.Close(); err != nil {
		return err
	}
	if got := digest.NewDigest(digest.SHA256, b.blob.h); b.blob.n != b.in.Blob.Size || got != b.in.Blob.Digest {
		return fmt.Errorf("recompressed with %s level %d: %w", b.in.Delta.Recipe.Encoder, b.in.Delta.Recipe.Level,
			&spec.VerifyError{Want: b.in.Blob.Digest, WantSize: b.in.Blob.Size, GotDigest: got, GotSize: b.blob.n})
	}
	return nil
}

// countingHash hashes and counts what it passes on, and refuses to pass
// on more than max bytes of what should be want.
type countingHash struct {
	w    io.Writer
	h    hash.Hash
	n    int64
	want digest.Digest
	max  int64
	err  error
}

func (c *countingHash) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.n+int64(len(p)) > c.max {
		c.err = fmt.Errorf("recompressed: %w", &spec.VerifyError{Want: c.want, WantSize: c.max, GotSize: c.n + int64(len(p))})
		return 0, c.err
	}
	c.n += int64(len(p))
	c.h.Write(p)
	n, err := c.w.Write(p)
	c.err = err
	return n, err
}

// corruptReader reports a decoder's errors as a corrupt delta, except the
// verifying reader's own (the delta's digest) and the end.
type corruptReader struct{ r io.Reader }

func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF && !errors.As(err, new(*spec.VerifyError)) {
		err = corrupt("%v", err)
	}
	return n, err
}
