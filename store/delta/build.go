package delta

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
)

// Layer is the layer to ship: its descriptor, and its blob, which Build
// reads several times (a file in the home: the sender spools a layer it
// may ship as a delta, and ships the spool whole if Build declines).
type Layer struct {
	Desc ocispec.Descriptor
	Blob io.ReaderAt
}

// Options tunes Build.
type Options struct {
	// Scratch is a directory on the home's disk for the base files the
	// delta uses and the delta itself while it is proved; Build makes a
	// directory in it and removes it after. Required.
	Scratch string
	// NoPatches sends changed files as they are instead of patching them
	// (to measure what patches save).
	NoPatches bool
}

// Result is a delta that Build proved: rebuilt from the bases and the
// delta alone, recompressed by the recipe, it hashes to the layer's
// digest.
type Result struct {
	// Delta is the index's description of the entry Build wrote.
	Delta spec.Delta
	Stats Stats
}

// Stats says where the rebuilt tar's file contents come from.
type Stats struct {
	Files                                   int   // regular files in the layer
	Copied, Patched                         int   // files taken whole from a base, or patched from one
	CopiedBytes, PatchedBytes, LiteralBytes int64 // their content bytes, and the bytes carried as they are
}

const (
	findPrefix = 8 << 20 // Find compares this much; the proof compares all
	minPatch   = 512     // smaller changed files travel as they are
)

// Build writes to w a delta that rebuilds layer from bases (layers the
// destination holds, which store holds too), after proving it: Apply runs
// on the delta and the bases as the destination will, and its result must
// hash to the layer's digest. Nothing is written to w unless Build returns
// nil. A *SkipError says why the layer should ship whole (no recipe, no
// shared content, not smaller, too many files, not a tar); any other error
// is a fault (a damaged base in store, the disk) and the layer ships whole
// too. Memory does not depend on the layers' sizes; the scratch directory
// holds at most the base files the delta refers to and the delta.
func Build(ctx context.Context, w io.Writer, layer Layer, bases []ocispec.Descriptor, store Fetcher, opts Options) (*Result, error) {
	skip := func(r Reason, err error) error { return &SkipError{Layer: layer.Desc.Digest, Reason: r, Err: err} }
	if len(bases) == 0 || len(bases) > spec.MaxDeltaBases {
		return nil, fmt.Errorf("layer %s: %d bases, want 1 to %d: %w", layer.Desc.Digest, len(bases), spec.MaxDeltaBases, spec.ErrBadInput)
	}
	recipe, err := recompress.Find(ctx, layer.Blob, layer.Desc.Size, recompress.FindOptions{Prefix: findPrefix})
	if errors.Is(err, spec.ErrCannotReproduce) {
		return nil, skip(NoRecipe, err)
	}
	if err != nil {
		return nil, skip(NotATar, err)
	}
	target, err := scanTarget(layer)
	if err != nil {
		return nil, skip(NotATar, err)
	}
	if len(target.files) > maxRefs {
		return nil, skip(TooManyFiles, fmt.Errorf("%d files, at most %d", len(target.files), maxRefs))
	}
	p, err := plan(ctx, store, bases, target, !opts.NoPatches)
	if err != nil {
		return nil, err
	}
	if len(p.refs) == 0 {
		return nil, skip(NoSharedContent, nil)
	}
	dir, err := os.MkdirTemp(opts.Scratch, "build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := extract(ctx, store, bases, p.refs, dir); err != nil {
		return nil, err
	}
	d := spec.Delta{Bases: digests(bases), DiffID: target.diffID, TarSize: target.size, Recipe: recipe}
	deltaPath := filepath.Join(dir, "delta")
	stats, err := writeDelta(layer, p, dir, deltaPath, &d)
	if err != nil {
		return nil, err
	}
	if d.Size >= layer.Desc.Size {
		return nil, skip(NotSmaller, fmt.Errorf("delta of %d bytes for a layer of %d", d.Size, layer.Desc.Size))
	}
	if err := prove(ctx, layer, d, bases, store, deltaPath, dir); err != nil {
		if errors.Is(err, errRecipe) {
			return nil, skip(NoRecipe, err)
		}
		return nil, err
	}
	if err := copyFile(w, deltaPath); err != nil {
		return nil, err
	}
	return &Result{Delta: d, Stats: stats}, nil
}

func digests(descs []ocispec.Descriptor) []digest.Digest {
	out := make([]digest.Digest, len(descs))
	for i, d := range descs {
		out[i] = d.Digest
	}
	return out
}

// target is the new layer's tar: its files, size and DiffID.
type target struct {
	files  []file
	size   int64
	diffID digest.Digest
}

// scanTarget reads the new layer once: every file's digest, and the tar's.
func scanTarget(layer Layer) (*target, error) {
	raw, _, err := recompress.Open(io.NewSectionReader(layer.Blob, 0, layer.Desc.Size))
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	tarball := &countingHash{w: io.Discard, h: sha256.New(), max: math.MaxInt64}
	t := &target{}
	err = walkTar(io.TeeReader(raw, tarball), nil, func(f *file, _ string, content io.Reader) error {
		if len(t.files) > maxRefs {
			return nil
		}
		err := hashFile(f, content)
		t.files = append(t.files, *f)
		return err
	})
	if err != nil {
		return nil, err
	}
	t.size, t.diffID = tarball.n, digest.NewDigest(digest.SHA256, tarball.h)
	return t, nil
}

// errRecipe marks a proof that rebuilt the tar but not the blob: the
// recipe matched the blob's beginning, not all of it.
var errRecipe = errors.New("the recipe does not reproduce the whole layer")

// prove applies the delta as the destination will, against the sender's
// copies of the bases.
func prove(ctx context.Context, layer Layer, d spec.Delta, bases []ocispec.Descriptor, store Fetcher, deltaPath, dir string) error {
	f, err := os.Open(deltaPath)
	if err != nil {
		return err
	}
	defer f.Close()
	in := Input{Blob: layer.Desc, Delta: d, Bases: bases, Store: store, Scratch: dir}
	err = Apply(ctx, io.Discard, f, in)
	var ve *spec.VerifyError
	if errors.As(err, &ve) && ve.Want == layer.Desc.Digest {
		return fmt.Errorf("%w: %w", errRecipe, err)
	}
	if err != nil {
		return fmt.Errorf("proof: %w", err)
	}
	return nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// newPatchEncoder is the encoder of patches: zstd with a window that
// holds a whole dictionary and the output, one goroutine.
func newPatchEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(patchWin),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithLowerEncoderMem(true))
}
