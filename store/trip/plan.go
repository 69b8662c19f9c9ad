package trip

import (
	"context"
	"fmt"
	"sort"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// Input is one image to save and where its blobs come from.
type Input struct {
	Image runtime.Image
	From  runtime.Fetcher
	// Chart, when set, says the image is a Helm chart's artifact, named
	// Chart.Ref(): the index lists it under charts, with this name,
	// version and images, not under images.
	Chart *format.Chart
}

// planned is a blob of the plan with the fetcher that serves it.
type planned struct {
	desc ocispec.Descriptor
	from runtime.Fetcher
}

// Blob roles in a plan.
const (
	RoleManifest = "manifest" // an image manifest or index
	RoleConfig   = "config"
	RoleLayer    = "layer"
)

// Plan is what a bundle will carry: its images and every blob of their
// graphs, each once, and why any blob is omitted.
type Plan struct {
	// Images are the roots of the plan, in input order: images and the
	// artifacts of the charts.
	Images []format.Image
	// Charts are the charts among Images, as the index lists them.
	Charts []format.Chart
	// Blobs lists every blob in the canonical entry order; omitted ones
	// have Status spec.StatusPrerequisite.
	Blobs []format.Blob
	// Bytes is the sum of the shipped blobs' sizes, Saved of the omitted.
	Bytes, Saved int64

	from     map[digest.Digest]planned
	role     map[digest.Digest]string
	why      map[digest.Digest]string
	perImage [][]digest.Digest
}

// MakePlan walks every input's graph, keeping each blob once; every blob
// is shipped until Omit says otherwise. platforms, when non-empty, keeps
// only those platforms of an image index.
func MakePlan(ctx context.Context, inputs []Input, platforms []string) (*Plan, error) {
	p := &Plan{from: map[digest.Digest]planned{}, role: map[digest.Digest]string{}, why: map[digest.Digest]string{}}
	seen := map[string]bool{}
	for _, in := range inputs {
		img, extra, err := runtime.SelectPlatforms(ctx, in.From, in.Image, platforms)
		if err != nil {
			return nil, err
		}
		f := in.From
		if len(extra) > 0 {
			f = runtime.Overlay(f, extra)
		}
		key := img.Name + "@" + string(img.Desc.Digest)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := p.add(ctx, img, f); err != nil {
			return nil, err
		}
		if in.Chart != nil {
			c := *in.Chart
			c.Digest, c.Size = img.Desc.Digest, img.Desc.Size
			p.Charts = append(p.Charts, c)
		}
	}
	imgs := runtimeImages(p.Images)
	if err := runtime.Distinct(imgs, ocilayout.RefNames(imgs)); err != nil {
		return nil, fmt.Errorf("a bundle names each image once: %w", err)
	}
	format.Order(p.Blobs)
	return p, nil
}

func (p *Plan) add(ctx context.Context, img runtime.Image, f runtime.Fetcher) error {
	var mine []digest.Digest
	err := runtime.Walk(ctx, f, img.Desc, func(d ocispec.Descriptor, data []byte) error {
		mine = append(mine, d.Digest)
		if data != nil {
			if len(mine) == 1 {
				img.Desc.MediaType = d.MediaType // the root, typed by its bytes
			}
			p.role[d.Digest] = RoleManifest
			if c := configDesc(data); c.Digest != "" {
				p.role[c.Digest] = RoleConfig
			}
		}
		if old, ok := p.from[d.Digest]; ok {
			if data != nil && old.desc.MediaType != d.MediaType {
				p.retype(d) // a layer of one image is another's manifest
			}
			return nil
		}
		from := f
		if data != nil {
			from = runtime.Overlay(f, map[digest.Digest][]byte{d.Digest: data})
		}
		p.from[d.Digest] = planned{desc: d, from: from}
		p.Blobs = append(p.Blobs, format.Blob{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType,
			Kind: spec.KindBlob, Status: spec.StatusShipped})
		p.Bytes += d.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("image %s: %w", img, err)
	}
	plats, err := runtime.Platforms(ctx, f, img.Desc)
	if err != nil {
		return fmt.Errorf("image %s: %w", img, err)
	}
	sort.Strings(plats)
	p.Images = append(p.Images, format.Image{Name: img.Name, Digest: img.Desc.Digest,
		MediaType: img.Desc.MediaType, Size: img.Desc.Size, Platforms: plats})
	p.perImage = append(p.perImage, mine)
	return nil
}

// retype lists a planned blob with the media type its bytes gave it as a
// manifest or index, so that the reader finds it listed as what it is.
func (p *Plan) retype(d ocispec.Descriptor) {
	for i := range p.Blobs {
		if p.Blobs[i].Digest == d.Digest {
			p.Blobs[i].MediaType = d.MediaType
		}
	}
	src := p.from[d.Digest]
	src.desc.MediaType = d.MediaType
	p.from[d.Digest] = src
}

// Role says what a planned blob is: RoleManifest, RoleConfig or RoleLayer.
func (p *Plan) Role(d digest.Digest) string {
	if r, ok := p.role[d]; ok {
		return r
	}
	return RoleLayer
}

// Layers returns the digests of every layer in the plan.
func (p *Plan) Layers() []digest.Digest {
	var out []digest.Digest
	for _, b := range p.Blobs {
		if p.Role(b.Digest) == RoleLayer {
			out = append(out, b.Digest)
		}
	}
	return out
}

// images returns the roots that are images, not charts: the index's
// images.
func (p *Plan) images() []format.Image {
	charts := chartRoots(p.Charts)
	var out []format.Image
	for _, im := range p.Images {
		if !charts[im.Name+"@"+string(im.Digest)] {
			out = append(out, im)
		}
	}
	return out
}

// chartRoots is the set of the roots of charts, as name@digest.
func chartRoots(charts []format.Chart) map[string]bool {
	out := make(map[string]bool, len(charts))
	for _, c := range charts {
		out[c.Ref()+"@"+string(c.Digest)] = true
	}
	return out
}
