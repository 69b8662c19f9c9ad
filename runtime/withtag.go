package runtime

import "strings"

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

// Repository is a reference without its tag and digest
// ("example.com:5000/app" of "example.com:5000/app:1.0@sha256:…").
func Repository(name string) string {
	name, _, _ = strings.Cut(name, "@")
	slash := strings.LastIndex(name, "/")
	if colon := strings.LastIndex(name, ":"); colon > slash {
		return name[:colon]
	}
	return name
}

// IsBareTag reports whether s can only be a tag: no transport, no
// repository path, no digest, nothing but tag characters. An image whose
// name is a bare tag ("v1", as oci:DIR:v1 names it) has no repository:
// it keeps the tag in a layout, and a target that names images
// REPOSITORY:TAG (Docker, podman, containerd, a docker archive, a
// registry) needs one for it (WithRepository).
func IsBareTag(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
