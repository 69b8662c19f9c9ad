package runtime

import (
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// RefName is the org.opencontainers.image.ref.name ferry gives an image
// named name in an OCI image layout or archive (its own store, a bundle,
// oci:, oci-archive:, the index.json of docker-archive:): the name whole,
// as ferry ls shows it, so that two images never share one and skopeo's
// oci:DIR:NAME, umoci's --image DIR:NAME and ctr import find each image by
// that name. A reference with neither tag nor digest gets ":latest"
// ("example.com/app" is "example.com/app:latest"); a name that is only a
// tag (what oci:DIR:v1 names an image: "v1") stays that tag. This is the
// one rule; spec/catalog-v1.md §5 states it.
func RefName(name string) string {
	if name == "" || IsBareTag(name) {
		return name
	}
	return Normalize(name)
}

// WithRepository names an image whose name is only a tag REPO:TAG ("v1"
// becomes "example.com/app:v1" for repo "example.com/app"); other names
// are kept. repo "" changes nothing.
func WithRepository(name, repo string) string {
	if repo == "" || !IsBareTag(name) {
		return name
	}
	return repo + ":" + name
}

// ValidRepository refuses a repository (as --repo gives one) that is
// not [HOST[:PORT]/]PATH without a tag or digest.
func ValidRepository(repo string) error {
	if repo == "" || (imageName.MatchString(repo) && !strings.Contains(repo, "@") && TagOf(repo) == "") {
		return nil
	}
	return fmt.Errorf("repository %q: want [HOST[:PORT]/]PATH such as example.com/team/app, without a tag or digest: %w", repo, spec.ErrBadInput)
}

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
	return fmt.Errorf("%s: image %q is named only by a tag (as an OCI layout names it), and this target names "+
		"images REPOSITORY:TAG: give it a repository with --repo REPOSITORY (it becomes REPOSITORY:%s): %w",
		where, name, name, spec.ErrBadInput)
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
			return fmt.Errorf("images %s and %s would both be named %s, and one would be lost: "+
				"write them to separate targets or give one another name: %w",
				nameAndDigest(images[j]), nameAndDigest(images[i]), name, spec.ErrBadInput)
		}
	}
	return nil
}

// nameAndDigest names an image in messages: its name and root digest.
func nameAndDigest(img Image) string {
	if img.Name == "" {
		return string(img.Desc.Digest)
	}
	return fmt.Sprintf("%s (%s)", img.Name, shortDigest(img.Desc.Digest.String()))
}

func shortDigest(d string) string {
	_, hex, _ := strings.Cut(d, ":")
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}
