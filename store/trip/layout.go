package trip

import (
	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// layoutIndex is the index.json of a bundle, written as the store writes
// its own (ocilayout.IndexFile), so that an unpacked bundle is a layout in
// which `skopeo inspect oci:DIR:TAG` finds each image.
func layoutIndex(images []format.Image) ([]byte, error) {
	return ocilayout.IndexFile(runtimeImages(images))
}

func runtimeImages(images []format.Image) []runtime.Image {
	out := make([]runtime.Image, 0, len(images))
	for _, im := range images {
		out = append(out, runtime.Image{Name: im.Name,
			Desc: ocispec.Descriptor{MediaType: im.MediaType, Digest: im.Digest, Size: im.Size}})
	}
	return out
}
