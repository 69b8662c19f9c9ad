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
// the registry host (runtime.SplitHost), and its tag or digest
// reference: "example.com:5000/ns/app:1.0" gives "ns/app" and ":1.0";
// "app@sha256:…" gives "app" and "@sha256:…"; a name with both gives its
// tag. A name with neither tag nor digest gets ":latest" (a name that is
// only a tag never comes here: see Target.destinations). Docker Hub's
// "library/" is not added: the path is the name as written.
func repositoryPath(imageName string) (path, ref string) {
	n := runtime.Normalize(imageName)
	_, path = runtime.SplitHost(runtime.Repository(n))
	if tag := runtime.TagOf(n); tag != "" {
		return path, ":" + tag
	}
	_, d, _ := strings.Cut(n, "@")
	return path, "@" + d
}
