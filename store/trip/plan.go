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

// planned is a blob of the plan and where it is fetched: the graph of the
// image that brought it, which serves what it read (manifests, indexes,
// configs) from memory and the rest from the image's source.
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
// graphs, each once, and why any blob is omitted. It keeps each image's
// graph, walked once (runtime.Walk), for every later step: the bundle's
// writer, a target of Copy, the dry run's report.
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

	graphs []*runtime.Graph // of Images, in their order
	from   map[digest.Digest]planned
	role   map[digest.Digest]runtime.Role
	why    map[digest.Digest]string
	// What Deltas left for Save: the deltas by layer, the layers it
	// fetched from far sources (shipped from there if whole), and the
	// directory that holds them (removed by Close).
	deltas map[digest.Digest]layerDelta
	spools map[digest.Digest]string
	work   string
	note   func(string) // DeltaOptions.Note
}

// MakePlan walks every input's graph once, keeping each blob once; every
// blob is shipped until Omit says otherwise. platforms, when non-empty,
// keeps only those platforms of an image index (runtime.SelectPlatforms).
func MakePlan(ctx context.Context, inputs []Input, platforms []string) (*Plan, error) {
	p := &Plan{from: map[digest.Digest]planned{}, role: map[digest.Digest]runtime.Role{}, why: map[digest.Digest]string{},
		deltas: map[digest.Digest]layerDelta{}, spools: map[digest.Digest]string{}}
	seen := map[string]bool{}
	for _, in := range inputs {
		img, err := runtime.SelectPlatforms(ctx, in.From, in.Image, platforms)
		if err != nil {
			return nil, err
		}
		key := img.Name + "@" + string(img.Desc.Digest)
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := p.add(ctx, img, in.From); err != nil {
			return nil, err
		}
		if in.Chart != nil {
			c := *in.Chart
			c.Digest, c.Size = img.Desc.Digest, img.Desc.Size
			p.Charts = append(p.Charts, c)
		}
	}
	imgs := p.images()
	if err := runtime.Distinct(imgs, ocilayout.RefNames(imgs)); err != nil {
		return nil, fmt.Errorf("a bundle names each image once: %w", err)
	}
	format.Order(p.Blobs)
	return p, nil
}

func (p *Plan) add(ctx context.Context, img runtime.Image, f runtime.Fetcher) error {
	var mine []digest.Digest // the blobs this image brings to the plan
	g, err := runtime.Walk(ctx, f, img, func(b runtime.Blob) error {
		p.role[b.Desc.Digest] = max(p.role[b.Desc.Digest], b.Role)
		if old, ok := p.from[b.Desc.Digest]; ok {
			if b.Node != nil && old.desc.MediaType != b.Desc.MediaType {
				p.retype(b) // a layer of one image is another's manifest
			}
			return nil
		}
		p.from[b.Desc.Digest] = planned{desc: b.Desc}
		mine = append(mine, b.Desc.Digest)
		p.Blobs = append(p.Blobs, format.Blob{Digest: b.Desc.Digest, Size: b.Desc.Size, MediaType: b.Desc.MediaType,
			Kind: spec.KindBlob, Status: spec.StatusShipped})
		p.Bytes += b.Desc.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("image %s: %w", img, err)
	}
	plats, err := g.Platforms(ctx, f)
	if err != nil {
		return fmt.Errorf("image %s: %w", img, err)
	}
	from := g.Fetcher(f)
	for _, d := range mine {
		src := p.from[d]
		src.from = from
		p.from[d] = src
	}
	sort.Strings(plats)
	root := g.Root()
	p.Images = append(p.Images, format.Image{Name: img.Name, Digest: root.Digest,
		MediaType: root.MediaType, Size: root.Size, Platforms: plats})
	p.graphs = append(p.graphs, g)
	return nil
}

// retype lists a planned blob with the media type its bytes gave it as a
// manifest or index, so that the reader finds it listed as what it is.
func (p *Plan) retype(b runtime.Blob) {
	for i := range p.Blobs {
		if p.Blobs[i].Digest == b.Desc.Digest {
			p.Blobs[i].MediaType = b.Desc.MediaType
		}
	}
	src := p.from[b.Desc.Digest]
	src.desc = b.Desc
	p.from[b.Desc.Digest] = src
}

// Role says what a planned blob is: RoleManifest, RoleConfig or RoleLayer.
func (p *Plan) Role(d digest.Digest) string {
	switch r := p.role[d]; {
	case r.IsNode():
		return RoleManifest
	case r == runtime.RoleConfig:
		return RoleConfig
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

// images returns every root of the plan as an image that carries its
// graph.
func (p *Plan) images() []runtime.Image {
	out := make([]runtime.Image, len(p.Images))
	for i, im := range p.Images {
		out[i] = runtime.Image{Name: im.Name, Desc: p.graphs[i].Root(), Graph: p.graphs[i]}
	}
	return out
}

// indexImages returns the roots that are images, not charts: the index's
// images.
func (p *Plan) indexImages() []format.Image {
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
