package runtime

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ferryhq/ferry/spec"
)

// Transport names, as skopeo spells them, plus "store" for ferry's own
// store (a bare image name).
const (
	TransportOCI           = spec.TransportOCI
	TransportOCIArchive    = spec.TransportOCIArchive
	TransportDockerArchive = spec.TransportDockerArchive
	TransportRegistry      = spec.TransportRegistry
	TransportDockerDaemon  = spec.TransportDockerDaemon
	TransportContainerd    = spec.TransportContainerd
	TransportPodman        = spec.TransportPodman
	TransportStore         = "store"
)

// SourceForms lists the forms of an image to read, for help and error
// messages.
const SourceForms = "oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF], " +
	"docker://REF, docker-daemon:REF, containerd:REF, podman:REF, or a bare NAME[:TAG][@DIGEST]"

// TargetForms lists the forms of a place to write images, for help and
// error messages: each file transport, a registry (a prefix for every
// image, or one image's exact reference), and each runtime (every image
// under its own name, or the one image as REF).
const TargetForms = "oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF], " +
	"docker://HOST[:PORT][/PREFIX] or docker://HOST/REPO:TAG, docker-daemon:[REF], containerd:[REF], podman:[REF]"

const validForms = SourceForms

// Ref is a parsed image location.
type Ref struct {
	// Transport is one of the Transport constants.
	Transport string
	// Path is the directory or file of oci, oci-archive and
	// docker-archive; "" for the others.
	Path string
	// Tag is the ref.name of oci and oci-archive, the image reference of
	// docker-archive (normalised: ":latest" added when it has no tag), the
	// reference of docker, docker-daemon, containerd and podman, and the
	// normalised name of store. "" when the string gave none.
	Tag string
}

// Parse reads an image location in skopeo's syntax:
//
//	oci:DIR[:NAME]  oci-archive:FILE[:NAME]  docker-archive:FILE[:REF]
//	docker://REF  docker-daemon:REF  containerd:REF  podman:REF
//	NAME[:TAG][@DIGEST]  (a bare name: ferry's store)
//
// For the three file transports the path ends at the FIRST colon after the
// transport name and everything after it is the tag or reference, so
// "docker-archive:/x/a.tar:example.com:5000/app:1.0" is the file /x/a.tar
// and the reference example.com:5000/app:1.0. Paths that contain a colon
// are therefore not supported, as in skopeo, except for a Windows drive
// letter: `oci:C:\images:v1` is the directory `C:\images` (a letter, a
// colon and a slash or backslash cannot start a tag, so this reads the
// same on every system).
//
// A bare name is normalised by adding ":latest" when it has neither tag
// nor digest; it is not expanded with docker.io. "docker:24-dind" is the
// bare name of the docker image (the registry transport always has "//"),
// but a bare image named oci, oci-archive, docker-archive, docker-daemon,
// containerd or podman must be written with a registry host, since
// "podman:1" is the podman transport.
//
// docker://REF is a registry: REF is an image reference for a source
// ("HOST[:PORT]/REPO:TAG", "REPO@DIGEST", "alpine:3.20") and
// "HOST[:PORT][/PREFIX]" for a target; Parse keeps it as written in Tag
// and leaves its meaning to the registry package.
//
// docker-daemon:REF, containerd:REF and podman:REF name an image in that
// runtime; REF may be empty ("docker-daemon:") where no image is named:
// a target, or every image of the runtime (receipt create --include).
func Parse(s string) (Ref, error) {
	transport, rest, ok := strings.Cut(s, ":")
	if ok {
		switch transport {
		case TransportOCI, TransportOCIArchive:
			return parsePathTag(s, transport, rest, validOCIName)
		case TransportDockerArchive:
			return parsePathTag(s, transport, rest, validArchiveRef)
		case TransportDockerDaemon, TransportContainerd, TransportPodman:
			return parseRuntime(s, transport, rest)
		}
		if r, found := strings.CutPrefix(s, TransportRegistry+"://"); found {
			return parseRegistry(s, r)
		}
	}
	if !validName(s) {
		if transport == TransportRegistry {
			return Ref{}, badRef(s, "the docker transport is written docker://REF")
		}
		if ok && transportWord.MatchString(transport) {
			return Ref{}, badRef(s, fmt.Sprintf("unknown transport %q", transport))
		}
		return Ref{}, badRef(s, "not a valid image name")
	}
	return Ref{Transport: TransportStore, Tag: Normalize(s)}, nil
}

// String returns the reference in the syntax Parse reads.
func (r Ref) String() string {
	switch r.Transport {
	case TransportStore:
		return r.Tag
	case TransportRegistry:
		return "docker://" + r.Tag
	case TransportOCI, TransportOCIArchive, TransportDockerArchive:
		if r.Tag == "" {
			return r.Transport + ":" + r.Path
		}
		return r.Transport + ":" + r.Path + ":" + r.Tag
	}
	return r.Transport + ":" + r.Tag
}

// WithTag is the same place with another tag: imgcd's short form of a
// base, where "--since 1.0" next to oci:DIR:2.0 means oci:DIR:1.0 and next
// to docker://example.com/app:2.0 means docker://example.com/app:1.0.
func (r Ref) WithTag(tag string) Ref {
	switch r.Transport {
	case TransportOCI, TransportOCIArchive:
		r.Tag = tag
	default:
		r.Tag = Repository(r.Tag) + ":" + tag
	}
	return r
}

func parsePathTag(s, transport, rest string, valid func(string) bool) (Ref, error) {
	drive := driveLetter(rest)
	path, tag, hasTag := strings.Cut(rest[len(drive):], ":")
	path = drive + path
	if path == "" {
		return Ref{}, badRef(s, transport+" needs a path")
	}
	if hasTag && !valid(tag) {
		return Ref{}, badRef(s, fmt.Sprintf("invalid %s reference %q", transport, tag))
	}
	if transport == TransportDockerArchive {
		tag = Normalize(tag)
	}
	return Ref{Transport: transport, Path: path, Tag: tag}, nil
}

// driveLetter returns the "C:" that starts a Windows path such as
// `C:\images` or "C:/images", or "".
func driveLetter(p string) string {
	if len(p) >= 3 && (p[0] >= 'A' && p[0] <= 'Z' || p[0] >= 'a' && p[0] <= 'z') && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		return p[:2]
	}
	return ""
}

func parseRegistry(s, ref string) (Ref, error) {
	if !validName(ref) {
		return Ref{}, badRef(s, fmt.Sprintf("invalid %s reference %q", TransportRegistry, ref))
	}
	return Ref{Transport: TransportRegistry, Tag: ref}, nil
}

func parseRuntime(s, transport, ref string) (Ref, error) {
	if ref != "" && !validName(ref) {
		return Ref{}, badRef(s, fmt.Sprintf("invalid %s reference %q", transport, ref))
	}
	return Ref{Transport: transport, Tag: ref}, nil
}

func badRef(s, why string) error {
	return spec.Mark(fmt.Errorf("image %q: %s; valid forms: %s", s, why, validForms), spec.ErrBadInput)
}

func validOCIName(s string) bool { return spec.ValidRefName(s) }

// validArchiveRef accepts a tagged or untagged name; like skopeo,
// docker-archive takes no digest.
func validArchiveRef(s string) bool { return validName(s) && !strings.Contains(s, "@") }

var transportWord = regexp.MustCompile(`^[a-z][a-z-]*$`)
