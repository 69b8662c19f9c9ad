// Package delta ships a layer as what it does not share with layers the
// destination already holds, and rebuilds it there with its exact digest.
//
// A delta (spec/delta-v1.md) keeps the new layer's tar headers and padding
// as they are (as tar-split does), refers to every file whose content a
// base layer has (by entry and sha256), patches files changed since the
// base (zstd with the old file as raw dictionary), and carries the rest as
// literals, all in one zstd stream. The receiver rebuilds the tar, checks
// its DiffID, compresses it with the layer's recipe (internal/recompress)
// and checks the blob digest before anything is trusted.
//
// Both ends stream: base file contents go to a scratch directory on the
// home's disk, never whole into memory, and memory stays within a few tens
// of MiB whatever the layer's size.
//
// Lifecycle: the sender calls Build with the new layer and its bases (Rank
// chooses them) and ships the delta only if Build returns no error; a
// *SkipError says why the layer ships whole. The receiver calls Apply (or
// Open) with the delta entry's bytes and the same bases from its store.
package delta

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fetcher opens a blob a home holds. store.Blobs is one.
type Fetcher interface {
	Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Reason says why a layer ships whole.
type Reason string

const (
	// NoRecipe: ferry cannot compress the layer's tar back into its exact
	// bytes (an encoder it does not carry, such as zlib or libzstd).
	NoRecipe Reason = "no recipe"
	// NoSharedContent: no base holds any of its files, by content or path.
	NoSharedContent Reason = "no shared content"
	// NotSmaller: the delta would not be smaller than the layer.
	NotSmaller Reason = "not smaller"
	// TooManyFiles: more files than a delta may refer to in bounded memory.
	TooManyFiles Reason = "too many files"
	// NotATar: the layer's content is not a tar ferry reads.
	NotATar Reason = "not a tar"
)

// SkipError is Build's answer when a delta is not worth shipping or not
// possible: the layer ships whole, and --dry-run says why.
type SkipError struct {
	Layer  digest.Digest
	Reason Reason
	Err    error // the detail, if any
}

func (e *SkipError) Error() string {
	s := fmt.Sprintf("layer %s ships whole: %s", e.Layer, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SkipError) Unwrap() error { return e.Err }

// BaseError is a base layer that is not what its digest promises, or that
// lacks a file the delta refers to: the home's copy is damaged (run ferry
// check), or the delta was built on other content. Nothing is delivered.
type BaseError struct {
	Base digest.Digest
	Err  error
}

func (e *BaseError) Error() string { return fmt.Sprintf("base layer %s: %v", e.Base, e.Err) }
func (e *BaseError) Unwrap() error { return e.Err }

// IsSkip reports whether err is a *SkipError, and its reason.
func IsSkip(err error) (Reason, bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}
