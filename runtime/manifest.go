package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// ReadBlob fetches a blob whole and verifies it. It refuses a descriptor
// that declares more than max bytes before fetching, and never allocates
// more than the declared size.
func ReadBlob(ctx context.Context, f Fetcher, desc ocispec.Descriptor, max int64) ([]byte, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return nil, err
	}
	if desc.Size < 0 || desc.Size > max {
		return nil, fmt.Errorf("blob %s: %d bytes, limit %d: %w", desc.Digest, desc.Size, max, spec.ErrTooLarge)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, desc.Size))
	if _, err := io.Copy(buf, spec.Verify(rc, desc.Digest, desc.Size)); err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return buf.Bytes(), nil
}

// graphDoc holds the fields of a manifest or index that name children.
type graphDoc struct {
	MediaType string               `json:"mediaType"`
	Config    *ocispec.Descriptor  `json:"config"`
	Layers    []ocispec.Descriptor `json:"layers"`
	Manifests []ocispec.Descriptor `json:"manifests"`
}

// Children returns the descriptors a manifest (config, then layers) or an
// index (its manifests) refers to. An empty mediaType is taken from the
// document's own mediaType field. The subject of a manifest is not a
// child. Unknown media types have no children. Every child digest is
// validated.
func Children(mediaType string, data []byte) ([]ocispec.Descriptor, error) {
	var doc graphDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %v: %w", orUnknown(mediaType), err, spec.ErrCorrupt)
	}
	if mediaType == "" {
		mediaType = doc.MediaType
	}
	var kids []ocispec.Descriptor
	switch {
	case spec.IsManifest(mediaType):
		if doc.Config == nil {
			return nil, fmt.Errorf("manifest has no config: %w", spec.ErrCorrupt)
		}
		kids = append([]ocispec.Descriptor{*doc.Config}, doc.Layers...)
	case spec.IsIndex(mediaType):
		kids = doc.Manifests
	}
	for _, k := range kids {
		if err := spec.ValidateDigest(k.Digest); err != nil {
			return nil, err
		}
		if k.Size < 0 {
			return nil, fmt.Errorf("blob %s: negative size: %w", k.Digest, spec.ErrCorrupt)
		}
	}
	return kids, nil
}

// NodeMediaType is the media type of a blob that must be an image
// manifest or an image index (an image's root, or a child of an index),
// checked against the blob's own bytes before anything trusts it: an
// empty descriptor type is taken from the blob's mediaType field; a
// descriptor and a blob that disagree, a blob whose mediaType and shape
// disagree (a manifest with no config, an index with one), neither naming
// a type, or a type that is neither manifest nor index is refused with
// an error wrapping spec.ErrCorrupt that names both types. So a manifest
// described as a layer, or with no type at all, never passes for a leaf
// and takes its config and layers with it.
func NodeMediaType(desc ocispec.Descriptor, data []byte) (string, error) {
	var doc struct {
		MediaType string          `json:"mediaType"`
		Config    json.RawMessage `json:"config"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("not a manifest or index: %v: %w", err, spec.ErrCorrupt)
	}
	mt := desc.MediaType
	switch {
	case mt == "" && doc.MediaType == "":
		return "", fmt.Errorf("neither its descriptor nor the blob names a media type: %w", spec.ErrCorrupt)
	case mt == "":
		mt = doc.MediaType
	case doc.MediaType != "" && doc.MediaType != mt:
		return "", fmt.Errorf("described as %q, but the blob is %q: %w", mt, doc.MediaType, spec.ErrCorrupt)
	}
	hasConfig := len(doc.Config) > 0 && string(doc.Config) != "null"
	hasManifests := len(doc.Manifests) > 0 && string(doc.Manifests) != "null"
	switch {
	case spec.IsManifest(mt) && (!hasConfig || hasManifests):
		return "", fmt.Errorf("typed %q, but the blob is not shaped as an image manifest: %w", mt, spec.ErrCorrupt)
	case spec.IsIndex(mt) && hasConfig:
		return "", fmt.Errorf("typed %q, but the blob has a config, as a manifest does: %w", mt, spec.ErrCorrupt)
	case !isGraphNode(mt):
		return "", fmt.Errorf("media type %q where an image manifest or index must be: %w", mt, spec.ErrCorrupt)
	}
	return mt, nil
}

func isGraphNode(mediaType string) bool {
	return spec.IsManifest(mediaType) || spec.IsIndex(mediaType)
}

// Walk visits every blob reachable from root depth first (a parent before
// its children), each digest once. A blob's place in the graph says what
// it must be: the root and every child of an index are manifests or
// indexes, read whole (at most spec.MaxManifestSize, verified), typed by
// NodeMediaType and passed to fn with their data; a manifest's config and
// layers are leaves, passed with nil data (fn fetches them if it wants
// the bytes). Errors name the blob.
func Walk(ctx context.Context, f Fetcher, root ocispec.Descriptor, fn func(desc ocispec.Descriptor, data []byte) error) error {
	return walk(ctx, f, root, map[digest.Digest]bool{}, fn, true)
}

// walk visits desc, a graph node when node is set, else a leaf. seen
// holds true for a digest walked as a node and false for one visited as
// a leaf: a blob met first as a layer and later where a manifest must be
// is still read and walked, so no image loses its children to another.
func walk(ctx context.Context, f Fetcher, desc ocispec.Descriptor, seen map[digest.Digest]bool,
	fn func(ocispec.Descriptor, []byte) error, node bool) error {
	if wasNode, ok := seen[desc.Digest]; ok && (wasNode || !node) {
		return nil
	}
	seen[desc.Digest] = node
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return err
	}
	if !node {
		return fn(desc, nil)
	}
	data, err := ReadBlob(ctx, f, desc, spec.MaxManifestSize)
	if err != nil {
		return err
	}
	if desc.MediaType, err = NodeMediaType(desc, data); err != nil {
		return fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	if err := fn(desc, data); err != nil {
		return err
	}
	kids, err := Children(desc.MediaType, data)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	for _, k := range kids {
		if err := walk(ctx, f, k, seen, fn, spec.IsIndex(desc.MediaType)); err != nil {
			return err
		}
	}
	return nil
}

// Blob is one blob of a manifest graph: Data holds the verified bytes of
// manifests and indexes and is nil for configs and layers.
type Blob struct {
	Desc ocispec.Descriptor
	Data []byte
}

// Collect walks every image and returns the blobs they need, each digest
// once, in Walk order (a blob first met as a leaf and later as a manifest
// keeps its place and gets its data).
func Collect(ctx context.Context, f Fetcher, images []Image) ([]Blob, error) {
	var out []Blob
	at := map[digest.Digest]int{}
	seen := map[digest.Digest]bool{}
	add := func(desc ocispec.Descriptor, data []byte) error {
		if i, ok := at[desc.Digest]; ok {
			out[i] = Blob{Desc: desc, Data: data}
			return nil
		}
		at[desc.Digest] = len(out)
		out = append(out, Blob{Desc: desc, Data: data})
		return nil
	}
	for _, img := range images {
		if err := walk(ctx, f, img.Desc, seen, add, true); err != nil {
			return nil, fmt.Errorf("image %s: %w", img, err)
		}
	}
	return out, nil
}

func orUnknown(mediaType string) string {
	if mediaType == "" {
		return "document"
	}
	return mediaType
}
