package ocilayout

import (
	"encoding/json"
	"fmt"
	"slices"
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
		ref := d.Annotations[ocispec.AnnotationRefName]
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
	return d.Annotations[ocispec.AnnotationRefName]
}

func listNames(idx ocispec.Index) string {
	var names []string
	for _, d := range idx.Manifests {
		if n := d.Annotations[ocispec.AnnotationRefName]; n != "" {
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

// Entry is the index.json descriptor of img: its ref.name is
// runtime.RefName(img.Name), the one naming rule, and its
// io.containerd.image.name is that same name when it is a reference
// rather than only a tag (ctr import names an image by it). An image
// without a name gets neither. Other annotations of img.Desc are kept.
func Entry(img runtime.Image) ocispec.Descriptor {
	d := img.Desc
	d.Annotations = map[string]string{}
	for k, v := range img.Desc.Annotations {
		d.Annotations[k] = v
	}
	delete(d.Annotations, ocispec.AnnotationRefName)
	delete(d.Annotations, spec.AnnotationImageName)
	if ref := runtime.RefName(img.Name); ref != "" {
		d.Annotations[ocispec.AnnotationRefName] = ref
		if !runtime.IsBareTag(ref) {
			d.Annotations[spec.AnnotationImageName] = ref
		}
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
	on := o.Annotations[ocispec.AnnotationRefName]
	for _, a := range add {
		an := a.Annotations[ocispec.AnnotationRefName]
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

// Named returns images under the names a layout gives them: with tag
// set, the one image named tag (oci:DIR:TAG as a target).
func Named(images []runtime.Image, tag string) ([]runtime.Image, error) {
	if tag == "" {
		return images, nil
	}
	if len(images) != 1 {
		return nil, fmt.Errorf("tag %q names one image, got %d: %w", tag, len(images), spec.ErrBadInput)
	}
	return []runtime.Image{{Name: tag, Desc: images[0].Desc}}, nil
}

// RefNames is the ref.name of each image (runtime.RefName).
func RefNames(images []runtime.Image) []string {
	names := make([]string, len(images))
	for i, img := range images {
		names[i] = runtime.RefName(img.Name)
	}
	return names
}

// Entries returns the index.json entries of images (see Named for tag),
// each image once. Two images that would share a ref.name are refused
// (runtime.Distinct), never merged.
func Entries(images []runtime.Image, tag string) ([]ocispec.Descriptor, error) {
	images, err := Named(images, tag)
	if err != nil {
		return nil, err
	}
	if err := runtime.Distinct(images, RefNames(images)); err != nil {
		return nil, err
	}
	out := make([]ocispec.Descriptor, 0, len(images))
	for _, img := range images {
		out = Merge(out, []ocispec.Descriptor{Entry(img)})
	}
	return out, nil
}

// LayoutFile is the oci-layout file every layout ferry writes holds
// (image-spec's ImageLayout at its version): the store's, a bundle's, an
// archive's.
func LayoutFile() []byte {
	b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	return b
}

// IndexFile is the index.json of a layout that lists images, sorted by
// name, each named as Entry names it, deterministically: the store's own,
// a bundle's, an archive's of one image. Two images that would share a
// ref.name are refused (Entries), and so is an invalid root digest.
func IndexFile(images []runtime.Image) ([]byte, error) {
	images = slices.Clone(images)
	slices.SortStableFunc(images, func(a, b runtime.Image) int { return strings.Compare(a.Name, b.Name) })
	for _, im := range images {
		if err := spec.ValidateDigest(im.Desc.Digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", im, err)
		}
	}
	entries, err := Entries(images, "")
	if err != nil {
		return nil, err
	}
	return EncodeIndex(entries)
}
