package helm

import (
	"context"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
)

// pulled is a chart artifact as a registry served it: it travels as it
// is, so its digest is kept.
type pulled struct {
	src  *registry.Source
	desc ocispec.Descriptor
}

// fromOCI pulls oci://HOST/PATH/NAME[:TAG|@DIGEST] through ferry's
// registry transport (its credentials, TLS settings and mirrors). Without
// a tag or digest, the tag is opts.Version, or the newest tag that meets
// it as a constraint (the newest stable one without a version), "_" in a
// tag read as "+", as helm does.
func fromOCI(ctx context.Context, ref string, opts LoadOptions) (*Chart, error) {
	repo, sep, id := splitReference(strings.TrimPrefix(ref, "oci://"))
	if id == "" {
		v, err := ociVersion(ctx, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", ref, err)
		}
		sep, id = ":", spec.ChartTag(v)
	}
	src, err := registry.FromReference(repo+sep+id, opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ref, err)
	}
	where := "oci://" + repo + sep + id
	imgs, err := src.Resolve(ctx)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("chart %s: %w", where, err)
	}
	layer, err := chartLayer(ctx, src, imgs[0].Desc)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("chart %s: %w", where, err)
	}
	data, err := runtime.ReadBlob(ctx, src, layer, MaxArchiveSize)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("chart %s: %w", where, err)
	}
	c, err := loadArchive(data, where)
	if err != nil {
		src.Close()
		return nil, err
	}
	c.pulled = &pulled{src: src, desc: imgs[0].Desc}
	return c, nil
}

// ociVersion lists the repository's tags and picks one.
func ociVersion(ctx context.Context, repo string, opts LoadOptions) (string, error) {
	tags, err := registry.Tags(ctx, repo, opts.Registry)
	if err != nil {
		return "", err
	}
	versions := make([]string, len(tags))
	for i, t := range tags {
		versions[i] = strings.ReplaceAll(t, "_", "+")
	}
	return pickVersion(versions, opts.Version)
}

// chartLayer reads a chart artifact's manifest and returns the
// descriptor of its chart archive, refusing anything that is not a Helm
// chart.
func chartLayer(ctx context.Context, f runtime.Fetcher, root ocispec.Descriptor) (ocispec.Descriptor, error) {
	if root.MediaType != "" && root.MediaType != ocispec.MediaTypeImageManifest {
		return ocispec.Descriptor{}, fmt.Errorf("%s is not a Helm chart (an OCI manifest with config %s): %w",
			root.MediaType, spec.HelmConfigMediaType, spec.ErrBadInput)
	}
	m, err := runtime.ReadManifest(ctx, f, root)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if m.Config.MediaType != spec.HelmConfigMediaType {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s has config %q: not a Helm chart (want %s): %w",
			root.Digest, m.Config.MediaType, spec.HelmConfigMediaType, spec.ErrBadInput)
	}
	for _, l := range m.Layers {
		if l.MediaType == spec.HelmChartMediaType || l.MediaType == spec.HelmLegacyChartMediaType {
			return l, nil // its digest validated by ReadManifest
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("manifest %s has no layer of type %s: %w", root.Digest, spec.HelmChartMediaType, spec.ErrBadInput)
}

// splitReference splits "HOST/PATH/NAME:TAG" into the repository, the
// separator (":" or "@") and the tag or digest; "" when there is none.
func splitReference(s string) (repo, sep, id string) {
	if i := strings.Index(s, "@"); i >= 0 {
		return s[:i], "@", s[i+1:]
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash {
		return s[:i], ":", s[i+1:]
	}
	return s, "", ""
}
