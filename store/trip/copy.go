package trip

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Copy writes every input image to t in one Write, each blob fetched from
// the source it came from. It returns what it wrote: each image and the
// name t gave it.
func Copy(ctx context.Context, inputs []Input, platforms []string, t runtime.Target) (Written, error) {
	p, err := MakePlan(ctx, inputs, platforms)
	if err != nil {
		return Written{}, err
	}
	images := p.images()
	names, err := runtime.TargetNames(t, images)
	if err != nil {
		return Written{}, err
	}
	if err := t.Write(ctx, images, p); err != nil {
		return Written{}, storeDamage(err, inputs)
	}
	return Written{Images: imageNames(images), Names: names}, nil
}

// storeDamage says how to repair the store when err is a blob that an
// input read from ferry's store did not verify: the store's copy of it
// is damaged.
func storeDamage(err error, inputs []Input) error {
	var ve *spec.VerifyError
	if !errors.As(err, &ve) {
		return err
	}
	for _, in := range inputs {
		if s, ok := in.From.(*store.Source); ok {
			if _, serr := s.Stat(ve.Want); serr == nil {
				return store.Damaged(err)
			}
		}
	}
	return err
}

// Fetch serves a planned blob, from the graph of the image that brought
// it (runtime.Graph.Fetcher), so a Plan is a runtime.Fetcher.
func (p *Plan) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	src, ok := p.from[d.Digest]
	if !ok {
		return nil, fmt.Errorf("blob %s: not in the plan: %w", d.Digest, spec.ErrNotFound)
	}
	return src.from.Fetch(ctx, src.desc)
}
