package ocilayout

import (
	"encoding/json"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// ParseIndex decodes an index.json (at most spec.MaxManifestSize bytes)
// and validates every entry's digest. where names the layout in errors.
func ParseIndex(where string, data []byte) (ocispec.Index, error) {
	var idx ocispec.Index
	if len(data) > spec.MaxManifestSize {
		return idx, fmt.Errorf("%s: index.json: %d bytes: %w", where, len(data), spec.ErrTooLarge)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("%s: index.json: %v: %w", where, err, spec.ErrCorrupt)
	}
	for _, d := range idx.Manifests {
		if err := spec.ValidateDigest(d.Digest); err != nil {
			return idx, fmt.Errorf("%s: index.json: %w", where, err)
		}
	}
	return idx, nil
}

// Resolve picks the images of an index.json. With a tag: the entry whose
// org.opencontainers.image.ref.name is tag. Without: the only entry, or
// every entry that has a ref.name; several entries none of which has a
// name are ambiguous. Image.Name is the io.containerd.image.name
// annotation if present, else the ref.name.
func Resolve(where string, idx ocispec.Index, tag string) ([]runtime.Image, error) {
	var out []runtime.Image
	for _, d := range idx.Manifests {
		ref := d.Annotations[spec.AnnotationRefName]
		if tag == "" && len(idx.Manifests) > 1 && ref == "" {
			continue
		}
		if tag == "" || ref == tag {
			out = append(out, runtime.Image{Name: ImageName(d), Desc: d})
		}
	}
	switch {
	case len(out) > 1 && tag != "":
		return nil, fmt.Errorf("%s: %d images are named %q: %w", where, len(out), tag, spec.ErrCorrupt)
	case len(out) == 0 && tag != "":
		return nil, fmt.Errorf("%s: no image named %q; names: %s: %w", where, tag, listNames(idx), spec.ErrNotFound)
	case len(out) == 0 && len(idx.Manifests) > 0:
		return nil, fmt.Errorf("%s: %d images and none has a name (%s); cannot choose: %w",
			where, len(idx.Manifests), listNames(idx), spec.ErrBadInput)
	case len(out) == 0:
		return nil, fmt.Errorf("%s: index.json lists no images: %w", where, spec.ErrNotFound)
	}
	return out, nil
}

// ImageName is the name an index.json entry gives its image.
func ImageName(d ocispec.Descriptor) string {
	if n := d.Annotations[spec.AnnotationImageName]; n != "" {
		return n
	}
	return d.Annotations[spec.AnnotationRefName]
}

func listNames(idx ocispec.Index) string {
	var names []string
	for _, d := range idx.Manifests {
		if n := d.Annotations[spec.AnnotationRefName]; n != "" {
			names = append(names, n)
		} else {
			names = append(names, string(d.Digest))
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// Entry is the index.json descriptor of img: ref.name is tag if given,
// else the tag part of img.Name ("example.com/app:1.0" gives "1.0"; a
// digest-only name gives none), and io.containerd.image.name is img.Name.
// A name with neither tag nor digest is a bare ref.name, as a layout
// without io.containerd.image.name names its images (see Resolve): it
// becomes the ref.name and no io.containerd.image.name, so an image read
// from oci:DIR:v1 is written as v1.
func Entry(img runtime.Image, tag string) ocispec.Descriptor {
	d := img.Desc
	d.Annotations = map[string]string{}
	for k, v := range img.Desc.Annotations {
		d.Annotations[k] = v
	}
	delete(d.Annotations, spec.AnnotationRefName)
	delete(d.Annotations, spec.AnnotationImageName)
	bare := img.Name != "" && runtime.Normalize(img.Name) != img.Name
	switch {
	case tag != "":
	case bare:
		tag = img.Name
	default:
		tag = runtime.TagOf(img.Name)
	}
	if tag != "" {
		d.Annotations[spec.AnnotationRefName] = tag
	}
	if img.Name != "" && !bare {
		d.Annotations[spec.AnnotationImageName] = img.Name
	}
	if len(d.Annotations) == 0 {
		d.Annotations = nil
	}
	return d
}

// Merge returns old with add merged in: an added entry replaces the old
// ones with the same ref.name, or (when it has none) the old unnamed ones
// with the same digest.
func Merge(old, add []ocispec.Descriptor) []ocispec.Descriptor {
	var out []ocispec.Descriptor
	for _, o := range old {
		if !replaced(o, add) {
			out = append(out, o)
		}
	}
	return append(out, add...)
}

func replaced(o ocispec.Descriptor, add []ocispec.Descriptor) bool {
	on := o.Annotations[spec.AnnotationRefName]
	for _, a := range add {
		an := a.Annotations[spec.AnnotationRefName]
		if an == on && (an != "" || a.Digest == o.Digest) {
			return true
		}
	}
	return false
}

// EncodeIndex returns the index.json bytes for entries.
func EncodeIndex(entries []ocispec.Descriptor) ([]byte, error) {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: entries}
	idx.SchemaVersion = 2
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{}
	}
	return json.Marshal(idx)
}

// Entries returns the index.json entries for images written with tag
// (which names at most one image).
func Entries(images []runtime.Image, tag string) ([]ocispec.Descriptor, error) {
	if tag != "" && len(images) > 1 {
		return nil, fmt.Errorf("tag %q names one image, got %d: %w", tag, len(images), spec.ErrBadInput)
	}
	out := make([]ocispec.Descriptor, 0, len(images))
	for _, img := range images {
		out = Merge(out, []ocispec.Descriptor{Entry(img, tag)})
	}
	return out, nil
}
