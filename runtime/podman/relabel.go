package podman

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// relabel returns the manifest desc names with each layer typed by what
// its bytes are (runtime.LayerMediaType), or nil when every layer's type
// is right already. podman keeps layers uncompressed, and `podman save
// --uncompressed` labels them with the media types of the manifest podman
// was given, often tar+gzip; a manifest that says what is not so is a
// fault every target would inherit (umoci: "gzip: invalid header"). Only
// an OCI manifest's OCI layer types are changed; every other field is
// kept, and the encoding (encoding/json of ocispec.Manifest) is
// deterministic. spec/manifests.md says the same.
func relabel(ctx context.Context, f runtime.Fetcher, desc ocispec.Descriptor) ([]byte, error) {
	n, err := runtime.ReadNode(ctx, f, desc)
	if err != nil || n.Desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, err // a Docker manifest keeps its own types
	}
	var m ocispec.Manifest // every field, to write the manifest again
	if err := json.Unmarshal(n.Data, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, spec.ErrCorrupt)
	}
	changed := false
	for i, l := range m.Layers {
		if !ociLayerType[l.MediaType] {
			continue
		}
		head, err := readHead(ctx, f, l)
		if err != nil {
			return nil, err
		}
		if mt := runtime.LayerMediaType(head); mt != l.MediaType {
			m.Layers[i].MediaType, changed = mt, true
		}
	}
	if !changed {
		return nil, nil
	}
	return json.Marshal(m)
}

// ociLayerType are the layer media types LayerMediaType chooses among.
var ociLayerType = map[string]bool{
	ocispec.MediaTypeImageLayer:     true,
	ocispec.MediaTypeImageLayerGzip: true,
	ocispec.MediaTypeImageLayerZstd: true,
}

// readHead reads a layer's first runtime.MagicSize bytes (fewer for a
// shorter blob).
func readHead(ctx context.Context, f runtime.Fetcher, l ocispec.Descriptor) ([]byte, error) {
	rc, err := f.Fetch(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer rc.Close()
	head := make([]byte, runtime.MagicSize)
	n, err := io.ReadFull(rc, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	return head[:n], nil
}
