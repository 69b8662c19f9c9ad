package spec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

// Names that come from outside (a bundle, a receipt, a source) are checked
// here, once, by every reader: the index and receipt parsers, the catalog,
// the command line. A name that passes is safe to print, to use as a
// catalog key and to hand to a target.

// MaxImageName caps an image name: a repository of 255 characters, a tag
// of 128 and a digest fit with room to spare.
const MaxImageName = 512

// Transport names, as skopeo spells them (package runtime parses them).
const (
	TransportOCI           = "oci"
	TransportOCIArchive    = "oci-archive"
	TransportDockerArchive = "docker-archive"
	TransportRegistry      = "docker" // written docker://, which no image name can start with
	TransportDockerDaemon  = "docker-daemon"
	TransportContainerd    = "containerd"
	TransportPodman        = "podman"
)

// Transports are the words the command line reads as a transport when a
// colon follows them (oci:DIR, podman:REF, …): no image may be named so
// that it reads as one.
var Transports = []string{TransportOCI, TransportOCIArchive, TransportDockerArchive,
	TransportDockerDaemon, TransportContainerd, TransportPodman}

// refName is image-spec's grammar of org.opencontainers.image.ref.name:
// components of alphanumerics joined by one of -._:@+ or "--", separated
// by "/".
var refName = regexp.MustCompile(`^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$`)

// ValidRefName reports whether s is a valid OCI ref.name.
func ValidRefName(s string) bool { return refName.MatchString(s) }

// ValidateImageName accepts the names ferry gives images: none (""), a
// distribution reference ([host[:port]/]path[:tag][@digest]), or an OCI
// ref.name (an image read from oci:DIR:v1 is named "v1"), of at most
// MaxImageName bytes, that the command line would not read as a
// transport ("oci:x:1", "podman:1"). The error wraps ErrBadInput and
// quotes the name.
func ValidateImageName(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > MaxImageName {
		return fmt.Errorf("image name %s…: %d bytes, at most %d: %w", Quote(name[:40]), len(name), MaxImageName, ErrBadInput)
	}
	if before, _, ok := strings.Cut(name, ":"); ok {
		for _, t := range Transports {
			if before == t {
				return Mark(fmt.Errorf("image name %s reads as the %s transport; name the registry host too", Quote(name), t), ErrBadInput)
			}
		}
	}
	if _, err := reference.Parse(name); err != nil && !ValidRefName(name) {
		return fmt.Errorf("image name %s is neither an image reference nor an OCI ref.name: %w", Quote(name), ErrBadInput)
	}
	return nil
}

// ValidateSiteName accepts ferry's site names: 1 to 64 of A–Z a–z 0–9
// '.' '_' '-', not starting with '.' or '-'. A site name appears in file
// names, ssh principals, receipts and messages. The error wraps
// ErrBadInput and quotes the name.
func ValidateSiteName(name string) error {
	ok := name != "" && len(name) <= 64 && name[0] != '.' && name[0] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return Mark(fmt.Errorf("site name %s: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
			Quote(clip(name))), ErrBadInput)
	}
	return nil
}

// ValidateBundleID accepts a bundle id: 1 to 64 of A–Z a–z 0–9 '.' '_'
// '-' (ferry derives 32 hex digits). An id is a catalog key and appears in
// messages and receipts.
func ValidateBundleID(id string) error {
	ok := id != "" && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return Mark(fmt.Errorf("bundle id %s: use 1 to 64 letters, digits, '.', '_' or '-'",
			Quote(clip(id))), ErrBadInput)
	}
	return nil
}

// Quote returns s as it may be printed: as it is when it holds only
// printable characters other than space and quotes, else quoted and
// escaped as strconv.Quote does, so that no untrusted string can forge a
// line of a report or a terminal escape.
func Quote(s string) string {
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\'' || r == '\\' || r >= 0x7f || r == 0xfffd {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// clip shortens a long string for a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
