package trip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta"
)

// DeltaError is a delta entry that did not rebuild its layer
// (spec/delta-v1.md section 2). Like a damaged blob entry, it costs that
// layer only: the images that need it are left out, and the site's
// receipt, which lists only what its store holds, makes the sender ship
// the layer again, whole.
type DeltaError struct {
	Layer digest.Digest
	Why   string // the cause, and what to do about it
	Err   error
}

func (e *DeltaError) Error() string {
	return fmt.Sprintf("layer %s not rebuilt from its delta: %s (%v); the receipt asks the sender for it again, whole", e.Layer, e.Why, e.Err)
}

func (e *DeltaError) Unwrap() error { return e.Err }

// deltaFault names why the delta of layer did not rebuild it, after
// reading what is left of its entry (rest): bytes that are not the signed
// index's are the cause whatever the rebuild said. An error that is no
// fault of the delta or the store's bases (the disk, a cancelled load) is
// returned as it is.
func deltaFault(layer digest.Digest, err error, rest io.Reader) error {
	var be *delta.BaseError
	why := ""
	switch {
	case errors.As(err, &be):
		why = fmt.Sprintf("base layer %s in this store is damaged, or is not the layer the delta was built on: run ferry check --read-data --repair", be.Base)
	case errors.Is(err, spec.ErrCannotReproduce):
		why = "this ferry cannot reproduce the layer's compression (a newer one may)"
	case errors.As(err, new(*spec.VerifyError)), errors.Is(err, spec.ErrCorrupt), errors.Is(err, spec.ErrBadInput):
		why = "the delta or its recipe does not give the layer's bytes"
	default:
		return err
	}
	if derr := discard(rest); errors.As(derr, new(*spec.VerifyError)) {
		return &DeltaError{Layer: layer, Why: "the delta entry is damaged: its bytes are not those the signed index lists", Err: derr}
	}
	return &DeltaError{Layer: layer, Why: why, Err: err}
}

// deltaInput describes the rebuild of e's layer from the bases in blobs'
// store, as the index lists them.
func deltaInput(e *format.Entry, ix *format.Index, blobs *store.Store, scratch string) delta.Input {
	listed := map[digest.Digest]format.Blob{}
	for _, b := range ix.Blobs {
		listed[b.Digest] = b
	}
	d := *e.Blob.Delta
	bases := make([]ocispec.Descriptor, len(d.Bases))
	for i, b := range d.Bases {
		bases[i] = ocispec.Descriptor{MediaType: listed[b].MediaType, Digest: b, Size: listed[b].Size}
	}
	return delta.Input{Blob: entryBlob(e), Delta: d, Bases: bases, Store: blobs, Scratch: scratch}
}

// entryBlob is the blob an entry carries (a delta's layer, not the delta).
func entryBlob(e *format.Entry) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: e.Blob.MediaType, Digest: e.Blob.Digest, Size: e.Blob.Size}
}

// delta rebuilds a delta's layer from the store's bases into the store,
// verified at every step (delta.Apply) before it gets its name.
func (l *loader) delta(ctx context.Context, e *format.Entry, src io.Reader) error {
	scratch, err := l.scratch()
	if err != nil {
		return err
	}
	desc := entryBlob(e)
	rc := delta.Open(ctx, src, deltaInput(e, l.ix, l.h.Store, scratch))
	got, err := l.batch.Ingest(ctx, desc, rc)
	rc.Close()
	if err != nil {
		l.arrived.arrived(desc.Digest, false)
		return deltaFault(desc.Digest, err, src)
	}
	l.rebuilt++
	l.count(got, desc.Digest)
	return nil
}

// scratch is the load's scratch directory in the home, made at the first
// delta and removed when the load ends (closeScratch).
func (l *loader) scratch() (string, error) {
	if l.scratchDir == "" {
		dir, err := l.h.Scratch()
		if err != nil {
			return "", err
		}
		l.scratchDir = dir
	}
	return l.scratchDir, nil
}

func (l *loader) closeScratch() {
	if l.scratchDir != "" {
		os.RemoveAll(l.scratchDir)
	}
}

// delta checks a delta entry for Verify: its bytes are hashed as any
// entry's; with a home, its recipe must be one this ferry follows, and
// with CheckOptions.RebuildDeltas its layer is rebuilt from the store's
// bases and checked against its digest, then dropped.
func (v *verifier) delta(ctx context.Context, e *format.Entry, src io.Reader) error {
	layer := e.Blob.Digest
	if v.h == nil {
		return discardBuf(src, v.buf)
	}
	if err := recompress.Check(e.Blob.Delta.Recipe); err != nil {
		return deltaFault(layer, err, src)
	}
	if !v.rebuild {
		return discardBuf(src, v.buf)
	}
	for _, b := range e.Blob.Delta.Bases {
		if _, err := v.h.Store.Stat(b); err != nil {
			return discardBuf(src, v.buf) // a missing prerequisite: Admission says so
		}
	}
	scratch, err := v.h.Scratch()
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := delta.Apply(ctx, io.Discard, src, deltaInput(e, v.ix, v.h.Store, scratch)); err != nil {
		return deltaFault(layer, err, src)
	}
	v.rebuilt++
	return nil
}
