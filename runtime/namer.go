package runtime

import (
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// What a target names an image, asked before anything is written.

// CheckNamed refuses an image that a target naming images REPOSITORY:TAG
// cannot name: one without a name, or named only by a tag
// (NeedRepository). where names the target in the error.
func CheckNamed(where string, img Image) error {
	switch {
	case img.Name == "":
		return fmt.Errorf("%s: image %s has no name, and this target needs one: %w", where, img.Desc.Digest, spec.ErrBadInput)
	case IsBareTag(img.Name):
		return NeedRepository(where, img.Name)
	}
	return nil
}

// NeedRepository is the error of a target that cannot write the image
// named only by the tag name: it names the target, the image and how to
// give it a repository.
func NeedRepository(where, name string) error {
	return spec.Mark(fmt.Errorf("%s: image %q is named only by a tag (as an OCI layout names it), and this target names "+
		"images REPOSITORY:TAG: give it a repository with --repo REPOSITORY (it becomes REPOSITORY:%s)",
		where, name, name), spec.ErrBadInput)
}

// Namer is the optional ability of a Target to say, before it writes
// anything, the name it gives each image: a layout's ref.name, the tag
// Docker or podman shows, the reference a registry serves. "" means the
// image is written without a name. It fails for an image the target
// cannot name (NeedRepository).
type Namer interface {
	Names(images []Image) ([]string, error)
}

// TargetNames returns the names t gives images (their own names when t is
// not a Namer), checked by Distinct, before anything is written.
func TargetNames(t Target, images []Image) ([]string, error) {
	names := make([]string, len(images))
	for i, img := range images {
		names[i] = img.Name
	}
	if n, ok := t.(Namer); ok {
		var err error
		if names, err = n.Names(images); err != nil {
			return nil, err
		}
	}
	return names, Distinct(images, names)
}

// Distinct refuses two images with different roots that would get one
// name (names[i] is the name of images[i]; "" is no name), since one of
// them would be lost: the error names both and wraps spec.ErrBadInput.
// The same image twice under one name is no conflict.
func Distinct(images []Image, names []string) error {
	first := map[string]int{}
	for i, name := range names {
		if name == "" {
			continue
		}
		j, seen := first[name]
		if !seen {
			first[name] = i
			continue
		}
		if images[j].Desc.Digest != images[i].Desc.Digest {
			return spec.Mark(fmt.Errorf("images %s and %s would both be named %s, and one would be lost: "+
				"write them to separate targets or give one another name",
				nameAndDigest(images[j]), nameAndDigest(images[i]), name), spec.ErrBadInput)
		}
	}
	return nil
}

// nameAndDigest names an image in messages where two share a name: its
// name and the start of its root digest.
func nameAndDigest(img Image) string {
	if img.Name == "" {
		return img.String()
	}
	_, hex, _ := strings.Cut(string(img.Desc.Digest), ":")
	return fmt.Sprintf("%s (%.12s)", img, hex)
}
