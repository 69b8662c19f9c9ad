package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// WriteIndex atomically rewrites index.json to list images, sorted by
// name. Each descriptor carries org.opencontainers.image.ref.name = the
// image's tag (so skopeo's oci:DIR:TAG finds it; images without a tag get
// the name itself) and io.containerd.image.name = the full name, as ctr export
// writes them. The output is deterministic. Two names with the same tag
// in different repositories share a ref.name, and skopeo then refuses
// oci:DIR:TAG as ambiguous; ferry itself goes by the full name.
func (b *Blobs) WriteIndex(images []runtime.Image) error {
	data, err := LayoutIndex(images)
	if err != nil {
		return fmt.Errorf("store %s: index.json: %w", b.dir, err)
	}
	if err := b.writeAtomic(ocispec.ImageIndexFile, data); err != nil {
		return fmt.Errorf("store %s: index.json: %w", b.dir, err)
	}
	return nil
}

// LayoutIndex is the index.json of an OCI image layout that lists images,
// sorted by name, named as WriteIndex names them. Bundles carry the same.
func LayoutIndex(images []runtime.Image) ([]byte, error) {
	images = slices.Clone(images)
	slices.SortStableFunc(images, func(a, b runtime.Image) int { return strings.Compare(a.Name, b.Name) })
	idx := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: make([]ocispec.Descriptor, 0, len(images)),
	}
	for _, im := range images {
		if err := spec.ValidateDigest(im.Desc.Digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", im.Name, err)
		}
		idx.Manifests = append(idx.Manifests, indexDescriptor(im))
	}
	return json.Marshal(idx)
}

// indexDescriptor is im's descriptor with its name annotations added.
func indexDescriptor(im runtime.Image) ocispec.Descriptor {
	d := im.Desc
	if im.Name == "" {
		return d
	}
	d.Annotations = maps.Clone(d.Annotations)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[spec.AnnotationImageName] = im.Name
	if tag := RefName(im.Name); tag != "" {
		d.Annotations[spec.AnnotationRefName] = tag
	}
	return d
}

// RefName is the org.opencontainers.image.ref.name an image named name
// gets in a layout: the tag of a reference ("1.0" of
// "example.com:5000/app:1.0"), the name itself when it has no tag (an image
// read from oci:DIR:v1 is named "v1" and is written back as "v1"), and ""
// for a name pinned by digest without a tag ("app@sha256:…").
func RefName(name string) string {
	pinned := false
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, pinned = name[:i], true
	}
	slash := strings.LastIndexByte(name, '/')
	if colon := strings.LastIndexByte(name, ':'); colon > slash {
		return name[colon+1:]
	}
	if pinned {
		return ""
	}
	return name
}
