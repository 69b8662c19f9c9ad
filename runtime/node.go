package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

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

// Node is an image manifest or an image index, read whole (at most
// spec.MaxManifestSize), verified, typed by its own bytes (NodeMediaType)
// and parsed once: what every walk of a graph keeps instead of reading
// and parsing the blob again.
type Node struct {
	// Desc is the node's descriptor, its MediaType the one its bytes
	// gave it.
	Desc ocispec.Descriptor
	// Data holds the verified bytes.
	Data []byte
	// Config and Layers are an image manifest's; Config is nil for an
	// index.
	Config *ocispec.Descriptor
	Layers []ocispec.Descriptor
	// Manifests are an index's children.
	Manifests []ocispec.Descriptor
}

// IsIndex reports whether the node is an image index (or manifest list).
func (n *Node) IsIndex() bool { return spec.IsIndex(n.Desc.MediaType) }

// Children returns what the node refers to: a manifest's config, then
// its layers; an index's manifests. The subject of a manifest is not a
// child.
func (n *Node) Children() []ocispec.Descriptor {
	if n.IsIndex() {
		return n.Manifests
	}
	return append([]ocispec.Descriptor{*n.Config}, n.Layers...)
}

// ReadNode reads the blob desc names where a manifest or an index must be
// (an image's root, a child of an index): whole, refused over
// spec.MaxManifestSize before it is fetched, verified, then ParseNode.
// Errors name the blob.
func ReadNode(ctx context.Context, f Fetcher, desc ocispec.Descriptor) (*Node, error) {
	data, err := ReadBlob(ctx, f, desc, spec.MaxManifestSize)
	if err != nil {
		return nil, err
	}
	n, err := ParseNode(desc, data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	return n, nil
}

// ReadManifest is ReadNode for a blob that must be an image manifest.
func ReadManifest(ctx context.Context, f Fetcher, desc ocispec.Descriptor) (*Node, error) {
	n, err := ReadNode(ctx, f, desc)
	if err == nil && n.IsIndex() {
		return nil, fmt.Errorf("manifest %s: an image index, where an image manifest must be: %w", desc.Digest, spec.ErrCorrupt)
	}
	return n, err
}

// nodeDoc holds the fields of a manifest or an index that type it and
// name its children.
type nodeDoc struct {
	MediaType string               `json:"mediaType"`
	Config    *ocispec.Descriptor  `json:"config"`
	Layers    []ocispec.Descriptor `json:"layers"`
	Manifests []ocispec.Descriptor `json:"manifests"`
}

// ParseNode types and parses data, the verified bytes of the blob desc
// names where a manifest or index must be. Its media type is checked
// against its own bytes before anything trusts it: an empty descriptor
// type is taken from the blob's mediaType field; a descriptor and a blob
// that disagree, a blob whose mediaType and shape disagree (a manifest
// with no config, an index with one), neither naming a type, or a type
// that is neither manifest nor index is refused with an error wrapping
// spec.ErrCorrupt that names both types. So a manifest described as a
// layer, or with no type at all, never passes for a leaf and takes its
// config and layers with it. Every child's digest is validated.
func ParseNode(desc ocispec.Descriptor, data []byte) (*Node, error) {
	var doc nodeDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a manifest or index: %v: %w", err, spec.ErrCorrupt)
	}
	mt := desc.MediaType
	switch {
	case mt == "" && doc.MediaType == "":
		return nil, fmt.Errorf("neither its descriptor nor the blob names a media type: %w", spec.ErrCorrupt)
	case mt == "":
		mt = doc.MediaType
	case doc.MediaType != "" && doc.MediaType != mt:
		return nil, fmt.Errorf("described as %q, but the blob is %q: %w", mt, doc.MediaType, spec.ErrCorrupt)
	}
	switch {
	case spec.IsManifest(mt) && (doc.Config == nil || doc.Manifests != nil):
		return nil, fmt.Errorf("typed %q, but the blob is not shaped as an image manifest: %w", mt, spec.ErrCorrupt)
	case spec.IsIndex(mt) && doc.Config != nil:
		return nil, fmt.Errorf("typed %q, but the blob has a config, as a manifest does: %w", mt, spec.ErrCorrupt)
	case !spec.IsManifest(mt) && !spec.IsIndex(mt):
		return nil, fmt.Errorf("media type %q where an image manifest or index must be: %w", mt, spec.ErrCorrupt)
	}
	desc.MediaType = mt
	n := &Node{Desc: desc, Data: data, Config: doc.Config, Layers: doc.Layers, Manifests: doc.Manifests}
	if n.IsIndex() {
		n.Layers = nil
	} else {
		n.Manifests = nil
	}
	if err := validChildren(n.Children()); err != nil {
		return nil, err
	}
	return n, nil
}

// NodeMediaType is the media type ParseNode gives the blob desc names.
func NodeMediaType(desc ocispec.Descriptor, data []byte) (string, error) {
	n, err := ParseNode(desc, data)
	if err != nil {
		return "", err
	}
	return n.Desc.MediaType, nil
}

// Children returns the descriptors a manifest (config, then layers) or an
// index (its manifests) refers to. An empty mediaType is taken from the
// document's own mediaType field. Unknown media types have no children.
// Every child digest is validated.
func Children(mediaType string, data []byte) ([]ocispec.Descriptor, error) {
	var doc nodeDoc
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
	if err := validChildren(kids); err != nil {
		return nil, err
	}
	return kids, nil
}

func validChildren(kids []ocispec.Descriptor) error {
	for _, k := range kids {
		if err := spec.ValidateDigest(k.Digest); err != nil {
			return err
		}
		if k.Size < 0 {
			return fmt.Errorf("blob %s: negative size: %w", k.Digest, spec.ErrCorrupt)
		}
	}
	return nil
}

func orUnknown(mediaType string) string {
	if mediaType == "" {
		return "document"
	}
	return mediaType
}
