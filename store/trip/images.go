package trip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// checkImages holds every rule an image (or chart: ix.Roots) of a bundle must meet to be
// recorded, the same for Verify and Load so that the two agree on every
// bundle. An image's graph must walk (runtime.Walk types each manifest and
// index by its own bytes, and the status of an image that passes keeps
// the graph for the steps after); every blob of it must be listed in the index,
// with the size its parent gives it; every manifest and index must be
// listed as what it is; every config must be within spec.MaxManifestSize;
// and has must hold for every blob. A fault costs only that image: its
// status names the blob (Lacking, or Reason for a fault of the graph).
// f serves the manifests and indexes.
func checkImages(ctx context.Context, ix *format.Index, f runtime.Fetcher, has func(d digest.Digest) bool) []ImageStatus {
	listed := make(map[digest.Digest]format.Blob, len(ix.Blobs))
	for _, b := range ix.Blobs {
		listed[b.Digest] = b
	}
	roots := ix.Roots()
	out := make([]ImageStatus, 0, len(roots))
	for _, img := range roots {
		out = append(out, checkImage(ctx, img, listed, f, has))
	}
	return out
}

func checkImage(ctx context.Context, img format.Image, listed map[digest.Digest]format.Blob, f runtime.Fetcher, has func(digest.Digest) bool) ImageStatus {
	st := ImageStatus{Name: img.Name, Digest: img.Digest}
	lacking := map[digest.Digest]bool{}
	nodes := nodeFetcher{f: f, listed: listed}
	root := runtime.Image{Name: img.Name, Desc: ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Size: img.Size}}
	g, err := runtime.Walk(ctx, nodes, root, func(b runtime.Blob) error {
		d := b.Desc
		st.Blobs = append(st.Blobs, d.Digest)
		if err := checkListed(d, b.Node != nil, listed); err != nil {
			return err
		}
		if c := b.Node; c != nil && c.Config != nil && c.Config.Size > spec.MaxManifestSize {
			return fmt.Errorf("config %s of manifest %s is %d bytes, over the %d-byte limit: %w",
				c.Config.Digest, d.Digest, c.Config.Size, spec.MaxManifestSize, spec.ErrTooLarge)
		}
		if !has(d.Digest) {
			lacking[d.Digest] = true
		}
		return nil
	})
	var lack *lackError
	switch {
	case errors.As(err, &lack):
		lacking[lack.digest] = true
	case err != nil:
		st.Reason = err.Error()
	}
	for d := range lacking {
		st.Lacking = append(st.Lacking, d)
	}
	slices.Sort(st.Lacking)
	st.OK = len(st.Lacking) == 0 && st.Reason == ""
	if st.OK {
		st.graph = g
	}
	return st
}

// checkListed says whether d, met in an image's graph (as a manifest or
// index when node), is listed in the index as its parent describes it.
func checkListed(d ocispec.Descriptor, node bool, listed map[digest.Digest]format.Blob) error {
	b, ok := listed[d.Digest]
	switch {
	case !ok:
		return fmt.Errorf("blob %s is in the image but not listed in the bundle's index: %w", d.Digest, spec.ErrCorrupt)
	case b.Size != d.Size:
		return fmt.Errorf("blob %s: its parent gives it %d bytes, the bundle's index %d: %w", d.Digest, d.Size, b.Size, spec.ErrCorrupt)
	case node && b.MediaType != d.MediaType:
		return fmt.Errorf("blob %s is %q, but the bundle's index lists it as %q: %w", d.Digest, d.MediaType, b.MediaType, spec.ErrCorrupt)
	}
	return nil
}

// nodeFetcher serves the manifests and indexes of a walk (a walk fetches
// nothing else): a blob the index does not list as one, or at another
// size, is refused before it is read, and a blob f cannot serve is a
// *lackError: the image lacks it.
type nodeFetcher struct {
	f      runtime.Fetcher
	listed map[digest.Digest]format.Blob
}

func (n nodeFetcher) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	b, ok := n.listed[d.Digest]
	if ok && !spec.IsManifest(b.MediaType) && !spec.IsIndex(b.MediaType) {
		return nil, fmt.Errorf("blob %s is listed as %q where a manifest or index must be: %w", d.Digest, b.MediaType, spec.ErrCorrupt)
	}
	if err := checkListed(d, false, n.listed); err != nil {
		return nil, err
	}
	rc, err := n.f.Fetch(ctx, d)
	if err != nil {
		return nil, &lackError{digest: d.Digest, err: err}
	}
	return rc, nil
}

// lackError is a manifest or index that is listed but not at hand.
type lackError struct {
	digest digest.Digest
	err    error
}

func (e *lackError) Error() string { return e.err.Error() }
func (e *lackError) Unwrap() error { return e.err }

// memFetcher serves the manifests captured while scanning, and every
// other blob from held (the store) when it is set.
type memFetcher struct {
	blobs map[digest.Digest][]byte
	held  runtime.Fetcher
}

func (m memFetcher) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if b, ok := m.blobs[d.Digest]; ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	if m.held != nil {
		return m.held.Fetch(ctx, d)
	}
	return nil, fmt.Errorf("blob %s: %w", d.Digest, spec.ErrNotFound)
}

func isManifest(mediaType string) bool {
	return spec.IsManifest(mediaType) || spec.IsIndex(mediaType)
}
