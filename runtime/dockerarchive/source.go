// Package dockerarchive reads and writes `docker save` tar files: the
// docker-archive:FILE[:REF] transport. It reads both the legacy layout
// (manifest.json, <id>/layer.tar, <hex>.json) and the OCI layout that
// Docker 25 and later write into the same tar, preferring the latter so
// manifest digests are kept. It writes both in one tar, as Docker 25 does.
package dockerarchive

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// ManifestEntry is the name of the legacy manifest member.
const ManifestEntry = "manifest.json"

// ManifestItem is one image of manifest.json.
type ManifestItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Source reads images from a docker archive (a runtime.Source).
type Source struct {
	where  string
	tr     tarfile.Members
	images []runtime.Image
	// legacy only: synthetic manifests, and config/layer members by digest.
	synth   map[digest.Digest][]byte
	members map[digest.Digest]string
}

var _ runtime.Source = (*Source)(nil)

// FromPath scans the archive at file and reads its images. ref, if set,
// selects the images whose name (RepoTags, io.containerd.image.name or
// ref.name) matches; "app" matches "app:latest" and "docker.io/library/app:latest".
// Legacy layers are hashed once here.
func FromPath(file, ref string) (*Source, error) {
	a := &Source{where: "docker-archive:" + file}
	tr, err := tarfile.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.where, err)
	}
	a.tr = tr
	if err := a.load(ref); err != nil {
		tr.Close()
		return nil, err
	}
	return a, nil
}

// FromMembers reads the docker archive whose files m serves (a tar read
// once from a stream: tarfile.ReadStream), as FromPath reads a file;
// where names it in errors. Close closes m.
func FromMembers(where string, m tarfile.Members, ref string) (*Source, error) {
	a := &Source{where: where, tr: m}
	if err := a.load(ref); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Source) load(ref string) error {
	var all []runtime.Image
	var err error
	switch {
	case a.tr.Has(spec.LayoutIndexEntry) && a.tr.Has(spec.LayoutEntry):
		all, err = a.loadOCI()
	case a.tr.Has(ManifestEntry):
		all, err = a.loadLegacy()
	default:
		err = fmt.Errorf("%s: not a docker archive (no manifest.json or index.json): %w", a.where, spec.ErrBadInput)
	}
	if err != nil {
		return err
	}
	a.images, err = selectImages(a.where, all, ref)
	return err
}

func (a *Source) loadOCI() ([]runtime.Image, error) {
	data, err := a.tr.ReadFile(spec.LayoutIndexEntry, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.where, err)
	}
	idx, err := ocilayout.ParseIndex(a.where, data)
	if err != nil {
		return nil, err
	}
	var out []runtime.Image
	for _, d := range idx.Manifests {
		out = append(out, runtime.Image{Name: runtime.Familiar(ocilayout.ImageName(d)), Desc: d})
	}
	return out, nil
}

// selectImages keeps the images matching ref, or all when ref is "".
func selectImages(where string, all []runtime.Image, ref string) ([]runtime.Image, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: holds no images: %w", where, spec.ErrNotFound)
	}
	if ref == "" {
		return all, nil
	}
	var names []string
	var keep []runtime.Image
	for _, img := range all {
		names = append(names, img.Name)
		if sameName(img.Name, ref) || img.Desc.Annotations[ocispec.AnnotationRefName] == ref {
			keep = append(keep, img)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("%s: no image named %q; names: %s: %w", where, ref, strings.Join(names, ", "), spec.ErrNotFound)
	}
	return keep, nil
}

func sameName(a, b string) bool {
	return a != "" && runtime.Normalize(runtime.Familiar(a)) == runtime.Normalize(runtime.Familiar(b))
}

// Resolve returns the images selected at open.
func (a *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	return a.images, ctx.Err()
}

// Fetch serves a synthetic legacy manifest from memory and every other
// blob from the tar.
func (a *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if a.members == nil {
		return ociarchive.FetchMember(a.tr, a.where, desc.Digest)
	}
	if b, ok := a.synth[desc.Digest]; ok {
		return io.NopCloser(strings.NewReader(string(b))), nil
	}
	name, ok := a.members[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("%s: blob %s: %w", a.where, desc.Digest, spec.ErrNotFound)
	}
	return a.tr.OpenMember(name)
}

// Close closes the file.
func (a *Source) Close() error { return a.tr.Close() }
