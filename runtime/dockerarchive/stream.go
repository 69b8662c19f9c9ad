package dockerarchive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/spec"
)

// Layer is one layer of an image as docker load sees it: the blob, its
// DiffID (the digest of its uncompressed tar, from the config) and its
// ChainID (which names the layer with all below it in Docker's layer
// store).
type Layer struct {
	Desc    ocispec.Descriptor
	DiffID  digest.Digest
	ChainID digest.Digest
}

// Stream streams to w the archive a Target writes (names as
// RepoTags gives them, an index replaced by its engine platform manifest),
// leaving out each layer blob for which omit returns true at every place
// it is used. manifest.json still names the omitted members: docker load
// opens a layer member only when its layer store lacks that ChainID. omit
// may be nil. It returns the layers left out. The same arguments give the
// same bytes. where names the target in errors.
func Stream(ctx context.Context, w io.Writer, where string, images []runtime.Image, src runtime.Fetcher, omit func(Layer) bool) ([]ocispec.Descriptor, error) {
	a, keep, omitted, err := buildOmitting(ctx, where, images, src, omit)
	if err != nil {
		return nil, err
	}
	return omitted, tarfile.WriteLayoutTo(ctx, w, a.index, a.files, keep, src)
}

// buildOmitting builds the archive of images and splits its blobs into
// those to write and the layers omit leaves out (OmitLayers).
func buildOmitting(ctx context.Context, where string, images []runtime.Image, src runtime.Fetcher,
	omit func(Layer) bool) (archive, []runtime.Blob, []ocispec.Descriptor, error) {
	a, err := build(ctx, where, images, src)
	if err != nil {
		return a, nil, nil, err
	}
	keep, omitted, err := OmitLayers(ctx, src, a.blobs, omit)
	return a, keep, omitted, err
}

// OmitLayers splits blobs (runtime.Collect's output) into those to write
// and the layers omit leaves out at every place they are used; the
// Docker and podman targets use it to send only what their destination
// lacks. omit nil keeps every blob.
func OmitLayers(ctx context.Context, src runtime.Fetcher, blobs []runtime.Blob, omit func(Layer) bool) ([]runtime.Blob, []ocispec.Descriptor, error) {
	if omit == nil {
		return blobs, nil, nil
	}
	need, skip := map[digest.Digest]bool{}, map[digest.Digest]bool{}
	for _, b := range blobs {
		if b.Data == nil || !spec.IsManifest(b.Desc.MediaType) {
			continue
		}
		layers, err := Layers(ctx, src, b.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("manifest %s: %w", b.Desc.Digest, err)
		}
		for _, l := range layers {
			if omit(l) {
				skip[l.Desc.Digest] = true
			} else {
				need[l.Desc.Digest] = true
			}
		}
	}
	var keep []runtime.Blob
	var omitted []ocispec.Descriptor
	for _, b := range blobs {
		if skip[b.Desc.Digest] && !need[b.Desc.Digest] {
			omitted = append(omitted, b.Desc)
			continue
		}
		keep = append(keep, b)
	}
	return keep, omitted, nil
}

// Layers returns the layers of an image manifest with the DiffIDs and
// ChainIDs its config gives them.
func Layers(ctx context.Context, src runtime.Fetcher, manifest []byte) ([]Layer, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%v: %w", err, spec.ErrCorrupt)
	}
	b, err := runtime.ReadBlob(ctx, src, m.Config, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var config ocispec.Image
	if err := json.Unmarshal(b, &config); err != nil {
		return nil, fmt.Errorf("config %s: %v: %w", m.Config.Digest, err, spec.ErrCorrupt)
	}
	diffIDs := config.RootFS.DiffIDs
	if len(diffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config %s: %d diff_ids for %d layers: %w", m.Config.Digest, len(diffIDs), len(m.Layers), spec.ErrCorrupt)
	}
	chains := identity.ChainIDs(slices.Clone(diffIDs))
	out := make([]Layer, len(m.Layers))
	for i, l := range m.Layers {
		out[i] = Layer{Desc: l, DiffID: diffIDs[i], ChainID: chains[i]}
	}
	return out, nil
}
