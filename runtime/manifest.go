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
	if _, err := io.Copy(buf, spec.NewVerifyingReader(rc, desc.Digest, desc.Size)); err != nil {
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

// MediaTypeOf returns desc.MediaType, or the document's own mediaType
// field when the descriptor has none.
func MediaTypeOf(desc ocispec.Descriptor, data []byte) string {
	if desc.MediaType != "" {
		return desc.MediaType
	}
	var doc struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(data, &doc)
	return doc.MediaType
}

func isGraphNode(mediaType string) bool {
	return spec.IsManifest(mediaType) || spec.IsIndex(mediaType)
}

// Walk visits every blob reachable from root depth first (a parent before
// its children), each digest once. Manifests and indexes are read whole
// (at most spec.MaxManifestSize, verified) and passed to fn as data; for
// every other blob data is nil and fn fetches it if it wants the bytes.
// A root with an empty media type is read, and given to fn typed from
// its content.
func Walk(ctx context.Context, f Fetcher, root ocispec.Descriptor, fn func(desc ocispec.Descriptor, data []byte) error) error {
	return walk(ctx, f, root, map[digest.Digest]bool{}, fn, true)
}

func walk(ctx context.Context, f Fetcher, desc ocispec.Descriptor, seen map[digest.Digest]bool,
	fn func(ocispec.Descriptor, []byte) error, root bool) error {
	if seen[desc.Digest] {
		return nil
	}
	seen[desc.Digest] = true
	if err := ctx.Err(); err != nil {
		return err
	}
	if !isGraphNode(desc.MediaType) && !(root && desc.MediaType == "") {
		if err := spec.ValidateDigest(desc.Digest); err != nil {
			return err
		}
		return fn(desc, nil)
	}
	data, err := ReadBlob(ctx, f, desc, spec.MaxManifestSize)
	if err != nil {
		return err
	}
	desc.MediaType = MediaTypeOf(desc, data)
	if err := fn(desc, data); err != nil {
		return err
	}
	kids, err := Children(MediaTypeOf(desc, data), data)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	for _, k := range kids {
		if err := walk(ctx, f, k, seen, fn, false); err != nil {
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
// once, in Walk order.
func Collect(ctx context.Context, f Fetcher, images []Image) ([]Blob, error) {
	var out []Blob
	seen := map[digest.Digest]bool{}
	add := func(desc ocispec.Descriptor, data []byte) error {
		out = append(out, Blob{Desc: desc, Data: data})
		return nil
	}
	for _, img := range images {
		if err := walk(ctx, f, img.Desc, seen, add, true); err != nil {
			return nil, fmt.Errorf("image %s: %w", imageLabel(img), err)
		}
	}
	return out, nil
}

func imageLabel(img Image) string {
	if img.Name != "" {
		return img.Name
	}
	return string(img.Desc.Digest)
}

func orUnknown(mediaType string) string {
	if mediaType == "" {
		return "document"
	}
	return mediaType
}
