package helm

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
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
	if err := namedBy(c, repo, sep, id); err != nil {
		src.Close()
		return nil, fmt.Errorf("chart %s: %w", where, err)
	}
	c.pulled = &pulled{src: src, desc: imgs[0].Desc}
	return c, nil
}

// namedBy checks that a pulled chart is the one its reference names, as
// helm push names it (REPO/NAME:VERSION, "+" written "_"): its name is the
// repository's last element, and a tag that is a version is its version.
// A tag that is not a version ("stable") may name any. A registry that
// serves another chart under the name is refused, as a repository whose
// index.yaml names another archive is.
func namedBy(c *Chart, repo, sep, id string) error {
	name, version := path.Base(repo), ""
	if v := strings.ReplaceAll(id, "_", "+"); sep == ":" && isVersion(v) {
		version = v
	}
	if c.Name == name && (version == "" || c.Version == version) {
		return nil
	}
	return fmt.Errorf("the registry serves chart %s %s under the name of %s: %w",
		c.Name, c.Version, strings.TrimSpace(name+" "+version), spec.ErrCorrupt)
}

// isVersion says whether a tag is a semantic version (1.2.0, v1.2.0-rc.1),
// not a name such as "stable".
func isVersion(tag string) bool {
	_, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v"))
	return err == nil
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
