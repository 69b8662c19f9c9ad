package registry

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// mirrored returns where ref is read, given opts.Mirrors, and the host
// for messages ("MIRROR (mirror of HOST)" when a mirror is used).
func mirrored(ref name.Reference, opts Options) (name.Reference, string, error) {
	from := ref.Context().RegistryStr()
	for key, to := range opts.Mirrors {
		if !sameRegistry(key, from) {
			continue
		}
		s := strings.TrimSuffix(to, "/") + "/" + ref.Context().RepositoryStr() + separator(ref) + ref.Identifier()
		r, err := name.ParseReference(s, opts.nameOptions()...)
		if err != nil {
			return nil, "", fmt.Errorf("registry mirror %s=%s: %v: %w", key, to, err, spec.ErrBadInput)
		}
		return r, r.Context().RegistryStr() + " (mirror of " + from + ")", nil
	}
	return ref, from, nil
}

func separator(ref name.Reference) string {
	if _, ok := ref.(name.Digest); ok {
		return "@"
	}
	return ":"
}

// sameRegistry compares registry hosts, taking Docker Hub's names as one.
func sameRegistry(a, b string) bool {
	hub := func(s string) bool {
		return s == "docker.io" || s == name.DefaultRegistry || s == "registry-1.docker.io"
	}
	return a == b || (hub(a) && hub(b))
}

// repositoryPath splits an image name into its repository path without
// the registry host, and its tag or digest reference: "example.com:5000/
// ns/app:1.0" gives "ns/app" and ":1.0"; "app@sha256:…" gives "app" and
// "@sha256:…". The first path component is a registry host when it has a
// "." or ":" or is "localhost", as in Docker. A name with neither tag nor
// digest gets ":latest" (a name that is only a tag never comes here: see
// Target.destinations). Docker Hub's "library/" is not added: the path is
// the name as written.
func repositoryPath(imageName string) (path, ref string) {
	n := runtime.Normalize(imageName)
	if first, rest, ok := strings.Cut(n, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		n = rest
	}
	if i := strings.Index(n, "@"); i >= 0 {
		if tag := runtime.TagOf(n); tag != "" {
			return strings.TrimSuffix(n[:i], ":"+tag), ":" + tag
		}
		return n[:i], n[i:]
	}
	i := strings.LastIndex(n, ":")
	return n[:i], n[i:]
}
