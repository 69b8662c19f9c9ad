package dockerarchive_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestRepoTags: images are named as docker images shows them; two that
// Docker would name alike are refused, and so is a name that is only a
// tag.
func TestRepoTags(t *testing.T) {
	pinned := "example.com/app@" + string(digest.FromString("x"))
	imgs := []runtime.Image{runtimetest.Named("docker.io/library/app:1.0", "a"), runtimetest.Named("team/app", "b"), runtimetest.Named("example.com:5000/x:2", "c"),
		runtimetest.Named("", "d"), runtimetest.Named(pinned, "e")}
	got, err := dockerarchive.RepoTags("t", imgs)
	if want := []string{"app:1.0", "team/app:latest", "example.com:5000/x:2", "", ""}; err != nil || !slices.Equal(got, want) {
		t.Errorf("RepoTags = %q, %v, want %q", got, err, want)
	}
	_, err = dockerarchive.RepoTags("t", []runtime.Image{runtimetest.Named("app:1", "a"), runtimetest.Named("docker.io/library/app:1", "b")})
	if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), "docker.io/library/app:1 (") {
		t.Errorf("RepoTags(app:1, docker.io/library/app:1) = %v, want ErrBadInput naming both", err)
	}
	_, err = dockerarchive.RepoTags("docker-archive:x.tar", []runtime.Image{runtimetest.Named("v1", "a")})
	if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), "--repo") || !strings.Contains(err.Error(), "docker-archive:x.tar") {
		t.Errorf("RepoTags(v1) = %v, want ErrBadInput saying how to give a repository", err)
	}
}
