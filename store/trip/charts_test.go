package trip

import (
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
)

// TestTarget_Roots: a target that holds artifacts gets the charts, one
// that holds only container images (Docker, containerd, podman,
// docker-archive) gets the images alone, even an image that happens to
// share a chart's name but not its digest.
func TestTarget_Roots(t *testing.T) {
	chart := format.Chart{Name: "web", Version: "1.2.0", Digest: digest.FromString("chart"), Size: 5}
	images := []runtime.Image{
		{Name: "docker.io/library/busybox:latest", Desc: ocispec.Descriptor{Digest: digest.FromString("busybox")}},
		{Name: "charts/web:1.2.0", Desc: ocispec.Descriptor{Digest: chart.Digest}},
		{Name: "charts/web:1.2.0", Desc: ocispec.Descriptor{Digest: digest.FromString("an image so named")}},
	}
	names := func(imgs []runtime.Image) []digest.Digest {
		var out []digest.Digest
		for _, im := range imgs {
			out = append(out, im.Desc.Digest)
		}
		return out
	}
	if got := names(Destination{Charts: true}.roots(images, []format.Chart{chart})); len(got) != 3 {
		t.Errorf("roots for a registry = %v, want all three", got)
	}
	got := names(Destination{}.roots(images, []format.Chart{chart}))
	if want := []digest.Digest{images[0].Desc.Digest, images[2].Desc.Digest}; !slices.Equal(got, want) {
		t.Errorf("roots for docker-daemon = %v, want %v", got, want)
	}
}
