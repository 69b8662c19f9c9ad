package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// Platforms returns "os/arch[/variant]" for each manifest of an index
// (from its descriptor's platform, "unknown" when absent), or for a single
// manifest (from its config).
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

// FormatPlatform returns "os/arch[/variant]", or "unknown" for nil.
func FormatPlatform(p *ocispec.Platform) string {
	if p == nil || p.OS == "" {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matchPlatform reports whether have ("os/arch[/variant]") is wanted. A
// wanted platform without variant matches every variant; arm64's v8 is
// the same as no variant.
func matchPlatform(want, have string) bool {
	w := strings.Split(strings.TrimSuffix(want, "/v8"), "/")
	h := strings.Split(strings.TrimSuffix(have, "/v8"), "/")
	if len(w) < 2 || len(h) < 2 || w[0] != h[0] || w[1] != h[1] {
		return false
	}
	return len(w) == 2 || (len(h) == 3 && w[2] == h[2])
}

func matchAny(want []string, have string) bool {
	for _, w := range want {
		if matchPlatform(w, have) {
			return true
		}
	}
	return false
}

// SelectPlatforms narrows img to the wanted platforms. For an index: one
// matching manifest becomes the image's root; several become a new index
// of the same media type holding only them, returned as an extra blob the
// caller must serve (see Overlay). A single manifest is kept if its
// platform is wanted. No match is an error naming the image, the wanted
// and the available platforms. An empty want returns img unchanged.
func SelectPlatforms(ctx context.Context, f Fetcher, img Image, want []string) (Image, map[digest.Digest][]byte, error) {
	if len(want) == 0 {
		return img, nil, nil
	}
	data, err := ReadBlob(ctx, f, img.Desc, spec.MaxManifestSize)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", imageLabel(img), err)
	}
	mt, err := NodeMediaType(img.Desc, data)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: manifest %s: %w", imageLabel(img), img.Desc.Digest, err)
	}
	if !spec.IsIndex(mt) {
		have, err := Platforms(ctx, f, img.Desc)
		if err != nil {
			return Image{}, nil, fmt.Errorf("image %s: %w", imageLabel(img), err)
		}
		if !matchAny(want, have[0]) {
			return Image{}, nil, noPlatform(img, want, have)
		}
		return img, nil, nil
	}
	return selectFromIndex(img, mt, data, want)
}

func selectFromIndex(img Image, mt string, data []byte, want []string) (Image, map[digest.Digest][]byte, error) {
	kids, err := Children(mt, data)
	if err != nil {
		return Image{}, nil, fmt.Errorf("image %s: %w", imageLabel(img), err)
	}
	var keep []ocispec.Descriptor
	var have []string
	for _, k := range kids {
		p := FormatPlatform(k.Platform)
		have = append(have, p)
		if matchAny(want, p) {
			keep = append(keep, k)
		}
	}
	switch len(keep) {
	case 0:
		return Image{}, nil, noPlatform(img, want, have)
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

func noPlatform(img Image, want, have []string) error {
	return fmt.Errorf("image %s: no manifest for platform %s; available: %s: %w",
		imageLabel(img), strings.Join(want, ", "), strings.Join(have, ", "), spec.ErrNotFound)
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
