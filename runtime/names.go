package runtime

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/distribution/reference"

	"github.com/ferryhq/ferry/spec"
)

// Every rule for an image's name is here, on distribution/reference's
// grammar ([host[:port]/]path[:tag][@digest]): ferry keeps a name as it
// was written (a catalog key, what ls shows), and spells it otherwise only
// where a place does (Familiar for Docker, Qualified for Docker's archive
// index, RefName for a layout). The transport grammar around a name is
// parse.go's.

// validName reports whether s is an image reference in
// distribution/reference's grammar.
func validName(s string) bool {
	_, err := reference.Parse(s)
	return err == nil
}

// parseName parses a reference, nil when name is none.
func parseName(name string) reference.Reference {
	ref, err := reference.Parse(name)
	if err != nil {
		return nil
	}
	return ref
}

// Normalize adds ":latest" to a reference that has neither tag nor
// digest ("app" is "app:latest"); it does not add docker.io. Anything
// else, a name that is no reference included, is returned as it is.
func Normalize(name string) string {
	if n, ok := parseName(name).(reference.Named); ok && reference.IsNameOnly(n) {
		return name + ":latest"
	}
	return name
}

// TagOf returns the tag of a reference ("1.0" of
// "example.com:5000/app:1.0"), or "" when it has none.
func TagOf(name string) string {
	if t, ok := parseName(name).(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

// Repository returns a reference without its tag and digest
// ("example.com:5000/app" of "example.com:5000/app:1.0@sha256:…"), or
// name as it is when it is no reference.
func Repository(name string) string {
	if n, ok := parseName(name).(reference.Named); ok {
		return n.Name()
	}
	return name
}

// SplitHost splits a name into the registry host it is written with and
// the rest: "example.com:5000" and "team/app:1.0" of
// "example.com:5000/team/app:1.0"; "" and the name when it has none
// ("team/app:1.0"). The first component is a host when it has a "." or
// a ":", is "localhost" or has an upper-case letter, as distribution/
// reference decides (its splitDockerDomain, which it does not export).
func SplitHost(name string) (host, rest string) {
	first, rest, ok := strings.Cut(name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		return first, rest
	}
	return "", name
}

// Familiar is a name as Docker shows it (reference.FamiliarString):
// Docker Hub's implied host and library/ left out, so that
// "docker.io/library/app:1.0" and "index.docker.io/library/app:1.0" are
// "app:1.0" and "docker.io/team/app" is "team/app".
func Familiar(name string) string {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return reference.FamiliarString(n)
}

// Qualified is a name with Docker Hub's implied host and library/ written
// out, as Docker 25 writes io.containerd.image.name: "app:1.0" is
// "docker.io/library/app:1.0"; a name with a host is kept.
func Qualified(name string) string {
	n, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name
	}
	return n.String()
}

// bareTag is the grammar of a tag alone.
var bareTag = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)

// IsBareTag reports whether s can only be a tag: no transport, no
// repository path, no digest, a tag in distribution/reference's grammar.
// An image whose name is a bare tag ("v1", as oci:DIR:v1 names it) has
// no repository: it keeps the tag in a layout, and a target that names
// images REPOSITORY:TAG (Docker, podman, containerd, a docker archive, a
// registry) needs one for it (WithRepository).
func IsBareTag(s string) bool { return bareTag.MatchString(s) }

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
	if n, ok := parseName(repo).(reference.Named); repo == "" || ok && reference.IsNameOnly(n) {
		return nil
	}
	return fmt.Errorf("repository %q: want [HOST[:PORT]/]PATH such as example.com/team/app, without a tag or digest: %w", repo, spec.ErrBadInput)
}
