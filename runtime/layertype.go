package runtime

import (
	"bytes"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MagicSize is how many leading bytes of a layer LayerMediaType reads.
const MagicSize = 4

// LayerMediaType is the OCI media type of a layer blob whose first bytes
// are head, from what the bytes are rather than what a manifest says:
// gzip (1f 8b), zstd (28 b5 2f fd), and otherwise an uncompressed tar.
// Where ferry makes a manifest (an image from Docker, which keeps none; an
// image from podman, which labels uncompressed layers as gzip) it types
// each layer by this.
func LayerMediaType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return ocispec.MediaTypeImageLayerGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return ocispec.MediaTypeImageLayerZstd
	}
	return ocispec.MediaTypeImageLayer
}
