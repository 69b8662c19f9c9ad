package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"strings"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// The platform rule is containerd's (github.com/containerd/platforms),
// everywhere: a platform is normalised as containerd normalises it
// (aarch64 is arm64, arm64/v8 is arm64, arm alone is arm/v7, x86_64 is
// amd64) and matches a manifest whose platform normalises to the same
// OS, architecture and variant. What a machine runs is containerd's
// platforms.Only of its platform: an amd64 machine runs amd64 and 386,
// an arm64 machine arm64 and arm up to v8. README (Platforms) and
// spec/bundle-v1.md state the same.
//
// PlatformMatcher, EnginePlatform, RunsOn, SelectPlatforms and
// SelectPlatform are the rule's only doors; nothing else compares
// platforms.

// PlatformMatcher matches the platforms a user names ("os/arch[/variant]",
// as --platform takes them), each parsed by containerd's parser; a name
// it cannot parse is refused with spec.ErrBadInput.
func PlatformMatcher(want []string) (platforms.Matcher, error) {
	ps := make([]ocispec.Platform, 0, len(want))
	for _, w := range want {
		p, err := platforms.Parse(w)
		if err != nil {
			return nil, fmt.Errorf("platform %s: %v (want os/arch[/variant], such as linux/arm64): %w", spec.Quote(w), err, spec.ErrBadInput)
		}
		ps = append(ps, p)
	}
	return platforms.Any(ps...), nil
}

// EnginePlatform is the platform of a Linux container engine on this
// machine's architecture: from an image index, the transports that hold
// one platform per image (docker-archive:, docker-daemon:) take
// the manifest platforms.Only(EnginePlatform()) ranks best.
func EnginePlatform() ocispec.Platform {
	p := platforms.DefaultSpec()
	return platforms.Normalize(ocispec.Platform{OS: "linux", Architecture: goruntime.GOARCH, Variant: p.Variant})
}

// RunsOn reports whether a machine of platform host runs one of the
// platforms named ("os/arch[/variant]", as Platforms returns them).
func RunsOn(host ocispec.Platform, named []string) bool {
	runs := platforms.Only(host)
	for _, s := range named {
		if p, err := platforms.Parse(s); err == nil && runs.Match(p) {
			return true
		}
	}
	return false
}

// FormatPlatform returns "os/arch[/variant]" (platforms.Format), or
// "unknown" for nil or a platform without an OS.
func FormatPlatform(p *ocispec.Platform) string {
	if p == nil {
		return "unknown"
	}
	return platforms.Format(*p)
}

// matches reports whether m matches the platform p ("unknown" for nil).
func matches(m platforms.Matcher, p *ocispec.Platform) bool {
	return p != nil && p.OS != "" && m.Match(*p)
}

// rootNode returns img's graph as far as it is known, holding at least
// its root node, and that node.
func rootNode(ctx context.Context, f Fetcher, img Image) (*Graph, *Node, error) {
	g := img.Graph
	if g == nil || g.root.Digest != img.Desc.Digest {
		g = &Graph{root: img.Desc, graphStore: newGraphStore(img.Graph)}
	}
	n, err := g.node(ctx, f, img.Desc)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", img, err)
	}
	g.root = n.Desc
	return g, n, nil
}

// SelectPlatforms narrows img to the platforms want names (the platform
// rule above). For an index: one matching manifest becomes the image's
// root; several become a new index of the same media type holding only
// them, made in memory. A single manifest is kept if the platform of its
// config is wanted. The image returned carries its graph as far as this
// read it (Image.Graph: the root, the new index, the config), so that a
// walk of it reads nothing twice. No match is an error naming the image,
// the wanted and the available platforms. An empty want returns img
// unchanged.
func SelectPlatforms(ctx context.Context, f Fetcher, img Image, want []string) (Image, error) {
	if len(want) == 0 {
		return img, nil
	}
	m, err := PlatformMatcher(want)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", img, err)
	}
	g, root, err := rootNode(ctx, f, img)
	if err != nil {
		return Image{}, err
	}
	if !root.IsIndex() {
		have, err := g.Platforms(ctx, f)
		if err != nil {
			return Image{}, fmt.Errorf("image %s: %w", img, err)
		}
		if p, err := platforms.Parse(have[0]); err != nil || !m.Match(p) {
			return Image{}, spec.Mark(fmt.Errorf("image %s: no manifest for platform %s; available: %s",
				img, strings.Join(want, ", "), have[0]), spec.ErrNotFound)
		}
		return Image{Name: img.Name, Desc: root.Desc, Graph: g}, nil
	}
	var keep []ocispec.Descriptor
	for _, k := range root.Manifests {
		if matches(m, k.Platform) {
			keep = append(keep, k)
		}
	}
	switch len(keep) {
	case 0:
		return Image{}, noPlatform(img, want, root.Manifests)
	case 1:
		return Image{Name: img.Name, Desc: keep[0], Graph: g.Sub(keep[0])}, nil
	}
	idx := ocispec.Index{MediaType: root.Desc.MediaType, Manifests: keep}
	idx.SchemaVersion = 2
	b, err := json.Marshal(idx)
	if err != nil {
		return Image{}, err
	}
	n, err := ParseNode(ocispec.Descriptor{MediaType: idx.MediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}, b)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", img, err)
	}
	return Image{Name: img.Name, Desc: n.Desc, Graph: g.With(n)}, nil
}

// SelectPlatform returns img, or for an index the one manifest of it that
// a machine of platform host runs and ranks best (platforms.Only; the
// first in the index among equals): what a transport that holds one
// platform per image writes. The image returned carries its graph as far
// as known (Image.Graph). No match is an error naming the image and the
// platforms available.
func SelectPlatform(ctx context.Context, f Fetcher, img Image, host ocispec.Platform) (Image, error) {
	g, root, err := rootNode(ctx, f, img)
	if err != nil {
		return Image{}, err
	}
	if !root.IsIndex() {
		return Image{Name: img.Name, Desc: root.Desc, Graph: g}, nil
	}
	runs := platforms.Only(host)
	best := -1
	for i, k := range root.Manifests {
		if matches(runs, k.Platform) && (best < 0 || runs.Less(*k.Platform, *root.Manifests[best].Platform)) {
			best = i
		}
	}
	if best < 0 {
		return Image{}, noPlatform(img, []string{platforms.Format(host)}, root.Manifests)
	}
	return Image{Name: img.Name, Desc: root.Manifests[best], Graph: g.Sub(root.Manifests[best])}, nil
}

func noPlatform(img Image, want []string, kids []ocispec.Descriptor) error {
	have := make([]string, len(kids))
	for i, k := range kids {
		have[i] = FormatPlatform(k.Platform)
	}
	return spec.Mark(fmt.Errorf("image %s: no manifest for platform %s; available: %s",
		img, strings.Join(want, ", "), strings.Join(have, ", ")), spec.ErrNotFound)
}
