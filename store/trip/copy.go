package trip

import (
	"context"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Copy writes every input image to t in one Write, each blob fetched from
// the source it came from. It returns how many images were written.
func Copy(ctx context.Context, inputs []Input, platforms []string, t runtime.Target) (int, error) {
	p, err := MakePlan(ctx, inputs, platforms)
	if err != nil {
		return 0, err
	}
	images := make([]runtime.Image, 0, len(p.Images))
	for _, im := range p.Images {
		images = append(images, runtime.Image{Name: im.Name,
			Desc: ocispec.Descriptor{MediaType: im.MediaType, Digest: im.Digest, Size: im.Size}})
	}
	if err := t.Write(ctx, images, p); err != nil {
		return 0, err
	}
	return len(images), nil
}

// Fetch serves a planned blob from the source it came from, so a Plan is
// a runtime.Fetcher.
func (p *Plan) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	src, ok := p.from[d.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: not in the plan: %w", d.Digest, spec.ErrNotFound)
	}
	return src.from.Fetch(ctx, src.desc)
}
