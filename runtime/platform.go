package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// Platforms returns "os/arch[/variant]" (platforms.Format) for each
// manifest of an index (from its descriptor's platform, "unknown" when
// absent), or for a single manifest (from its config).
func Platforms(ctx context.Context, f Fetcher, root ocispec.Descriptor) ([]string, error) {
	data, err := ReadBlob(ctx, f, root, spec.MaxManifestSize)
	if err != nil {
		return nil, err
	}
	mt, err := NodeMediaType(root, data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", root.Digest, err)
	}
	kids, err := Children(mt, data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", root.Digest, err)
	}
	if spec.IsIndex(mt) {
		out := make([]string, 0, len(kids))
		for _, k := range kids {
			out = append(out, FormatPlatform(k.Platform))
		}
		return out, nil
	}
	p, err := configPlatform(ctx, f, kids[0])
	if err != nil {
		return nil, err
	}
	return []string{FormatPlatform(p)}, nil
}

func configPlatform(ctx context.Context, f Fetcher, config ocispec.Descriptor) (*ocispec.Platform, error) {
	data, err := ReadBlob(ctx, f, config, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var p ocispec.Platform
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("config %s: %v: %w", config.Digest, err, spec.ErrCorrupt)
	}
	return &p, nil
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

// SelectPlatforms narrows img to the platforms want names (the platform
// rule above). For an index: one matching manifest becomes the image's
// root; several become a new index of the same media type holding only
// them, returned as an extra blob the caller must serve (see Overlay). A
// single manifest is kept if its platform is wanted. No match is an error
// naming the image, the wanted and the available platforms. An empty want
// returns img unchanged.
func SelectPlatforms(ctx context.Context, f Fetcher, img Image, want []string) (Image, map[digest.Digest][]byte, error) {
	if len(want) == 0 {
		return img, nil, nil
	}
	m, err := PlatformMatcher(want)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", img, err)
	}
	data, err := ReadBlob(ctx, f, img.Desc, spec.MaxManifestSize)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", img, err)
	}
	mt, err := NodeMediaType(img.Desc, data)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: manifest %s: %w", img, img.Desc.Digest, err)
	}
	if !spec.IsIndex(mt) {
		return keepSingle(ctx, f, img, m, want)
	}
	kids, err := Children(mt, data)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", img, err)
	}
	var keep []ocispec.Descriptor
	for _, k := range kids {
		if matches(m, k.Platform) {
			keep = append(keep, k)
		}
	}
	switch len(keep) {
	case 0:
		return Image{}, nil, noPlatform(img, want, kids)
	case 1:
		return Image{Name: img.Name, Desc: keep[0]}, nil, nil
	}
	idx := ocispec.Index{MediaType: mt, Manifests: keep}
	idx.SchemaVersion = 2
	b, err := json.Marshal(idx)
	if err != nil {
		return Image{}, nil, err
	}
	d := digest.FromBytes(b)
	desc := ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	return Image{Name: img.Name, Desc: desc}, map[digest.Digest][]byte{d: b}, nil
}

// keepSingle keeps the single-manifest image img if m matches the
// platform of its config.
func keepSingle(ctx context.Context, f Fetcher, img Image, m platforms.Matcher, want []string) (Image, map[digest.Digest][]byte, error) {
	have, err := Platforms(ctx, f, img.Desc)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", img, err)
	}
	if p, err := platforms.Parse(have[0]); err != nil || !m.Match(p) {
		return Image{}, nil, fmt.Errorf("image %s: no manifest for platform %s; available: %s: %w",
			img, strings.Join(want, ", "), have[0], spec.ErrNotFound)
	}
	return img, nil, nil
}

// SelectPlatform returns img, or for an index the one manifest of it that
// a machine of platform host runs and ranks best (platforms.Only; the
// first in the index among equals): what a transport that holds one
// platform per image writes. No match is an error naming the image and
// the platforms available.
func SelectPlatform(ctx context.Context, f Fetcher, img Image, host ocispec.Platform) (Image, error) {
	data, err := ReadBlob(ctx, f, img.Desc, spec.MaxManifestSize)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", img, err)
	}
	mt, err := NodeMediaType(img.Desc, data)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: manifest %s: %w", img, img.Desc.Digest, err)
	}
	img.Desc.MediaType = mt
	if !spec.IsIndex(mt) {
		return img, nil
	}
	kids, err := Children(mt, data)
	if err != nil {
		return Image{}, fmt.Errorf("image %s: %w", img, err)
	}
	runs := platforms.Only(host)
	best := -1
	for i, k := range kids {
		if matches(runs, k.Platform) && (best < 0 || runs.Less(*k.Platform, *kids[best].Platform)) {
			best = i
		}
	}
	if best < 0 {
		return Image{}, noPlatform(img, []string{platforms.Format(host)}, kids)
	}
	return Image{Name: img.Name, Desc: kids[best]}, nil
}

func noPlatform(img Image, want []string, kids []ocispec.Descriptor) error {
	have := make([]string, len(kids))
	for i, k := range kids {
		have[i] = FormatPlatform(k.Platform)
	}
	return fmt.Errorf("image %s: no manifest for platform %s; available: %s: %w",
		img, strings.Join(want, ", "), strings.Join(have, ", "), spec.ErrNotFound)
}

// Overlay serves the blobs in extra from memory and every other blob from f.
func Overlay(f Fetcher, extra map[digest.Digest][]byte) Fetcher {
	if len(extra) == 0 {
		return f
	}
	return overlay{f: f, extra: extra}
}

type overlay struct {
	f     Fetcher
	extra map[digest.Digest][]byte
}

// FetchAhead keeps the ability of the Fetcher it overlays (Distant).
func (o overlay) FetchAhead() int {
	if d, ok := o.f.(Distant); ok {
		return d.FetchAhead()
	}
	return 0
}

func (o overlay) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if b, ok := o.extra[desc.Digest]; ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return o.f.Fetch(ctx, desc)
}
