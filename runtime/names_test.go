package runtime_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestNames: the grammar of an image's name is distribution/reference's;
// a name is kept as written, and spelled as Docker spells it only by
// Familiar and Qualified.
func TestNames(t *testing.T) {
	pin := "@" + string(digest.FromString("x"))
	for _, tc := range []struct{ name, normal, tag, repo, host, familiar, qualified string }{
		{"app", "app:latest", "", "app", "", "app", "docker.io/library/app"},
		{"example.com/app:1.0", "example.com/app:1.0", "1.0", "example.com/app", "example.com", "example.com/app:1.0", "example.com/app:1.0"},
		{"example.com:5000/app", "example.com:5000/app:latest", "", "example.com:5000/app", "example.com:5000", "example.com:5000/app", "example.com:5000/app"},
		{"app" + pin, "app" + pin, "", "app", "", "app" + pin, "docker.io/library/app" + pin},
		{"app:1" + pin, "app:1" + pin, "1", "app", "", "app:1" + pin, "docker.io/library/app:1" + pin},
		{"team/app:2", "team/app:2", "2", "team/app", "", "team/app:2", "docker.io/team/app:2"},
		{"docker.io/library/app:1.0", "docker.io/library/app:1.0", "1.0", "docker.io/library/app", "docker.io", "app:1.0", "docker.io/library/app:1.0"},
		{"index.docker.io/library/app:1.0", "index.docker.io/library/app:1.0", "1.0", "index.docker.io/library/app", "index.docker.io", "app:1.0", "docker.io/library/app:1.0"},
		{"docker.io/library/team/app", "docker.io/library/team/app:latest", "", "docker.io/library/team/app", "docker.io", "library/team/app", "docker.io/library/team/app"},
		{"localhost/app:3", "localhost/app:3", "3", "localhost/app", "localhost", "localhost/app:3", "localhost/app:3"},
		{"App:1", "App:1", "", "App:1", "", "App:1", "App:1"}, // no reference: kept as it is
	} {
		host, _ := runtime.SplitHost(tc.name)
		got := []string{runtime.Normalize(tc.name), runtime.TagOf(tc.name), runtime.Repository(tc.name), host,
			runtime.Familiar(tc.name), runtime.Qualified(tc.name)}
		want := []string{tc.normal, tc.tag, tc.repo, tc.host, tc.familiar, tc.qualified}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Normalize, TagOf, Repository, SplitHost, Familiar, Qualified = %q, want %q", tc.name, got, want)
		}
	}
}

// TestImage_String: an image is named by its name, or its digest.
func TestImage_String(t *testing.T) {
	app, bare := runtimetest.Named("app:1", "a"), runtimetest.Named("", "b")
	if app.String() != "app:1" || bare.String() != string(bare.Desc.Digest) {
		t.Errorf("String() = %q, %q, want the name, then the digest", app, bare)
	}
	if got := runtime.List([]runtime.Image{app, bare}); got != "app:1, "+string(bare.Desc.Digest) {
		t.Errorf("List = %q", got)
	}
}

func TestRefName(t *testing.T) {
	pinned := "example.com/app@" + string(digest.FromString("x"))
	for _, tc := range []struct{ name, want string }{
		{"example.com:5000/fid/app:v1", "example.com:5000/fid/app:v1"},
		{"fid/db:v1", "fid/db:v1"},
		{"app:1.0", "app:1.0"},
		{"example.com/app", "example.com/app:latest"},
		{pinned, pinned},
		{"v1", "v1"},
		{"1.0", "1.0"},
		{"", ""},
	} {
		if got := runtime.RefName(tc.name); got != tc.want {
			t.Errorf("RefName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestWithRepository(t *testing.T) {
	for _, tc := range []struct{ name, repo, want string }{
		{"v1", "example.com/fid/app", "example.com/fid/app:v1"},
		{"v1", "", "v1"},
		{"fid/app:v1", "other", "fid/app:v1"},
		{"", "other", ""},
	} {
		if got := runtime.WithRepository(tc.name, tc.repo); got != tc.want {
			t.Errorf("WithRepository(%q, %q) = %q, want %q", tc.name, tc.repo, got, tc.want)
		}
	}
}

func TestValidRepository(t *testing.T) {
	for _, ok := range []string{"", "app", "example.com:5000/fid/app", "localhost/x"} {
		if err := runtime.ValidRepository(ok); err != nil {
			t.Errorf("ValidRepository(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"app:1", "App", "example.com/app@sha256:" + strings.Repeat("0", 64), "a b", "/x"} {
		if err := runtime.ValidRepository(bad); !errors.Is(err, spec.ErrBadInput) {
			t.Errorf("ValidRepository(%q) = %v, want ErrBadInput", bad, err)
		}
	}
}

func TestDistinct(t *testing.T) {
	app, db, app2 := runtimetest.Named("fid/app:v1", "a"), runtimetest.Named("fid/db:v1", "b"), runtimetest.Named("v1", "a")
	if err := runtime.Distinct([]runtime.Image{app, db}, []string{"v1", "w1"}); err != nil {
		t.Errorf("Distinct(two names) = %v", err)
	}
	if err := runtime.Distinct([]runtime.Image{app, app2}, []string{"v1", "v1"}); err != nil {
		t.Errorf("Distinct(one image under one name twice) = %v", err)
	}
	if err := runtime.Distinct([]runtime.Image{app, db}, []string{"", ""}); err != nil {
		t.Errorf("Distinct(unnamed) = %v", err)
	}
	err := runtime.Distinct([]runtime.Image{app, db}, []string{"v1", "v1"})
	if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), "fid/app:v1 (") ||
		!strings.Contains(err.Error(), "fid/db:v1 (") || !strings.Contains(err.Error(), "named v1") {
		t.Errorf("Distinct(two images, one name) = %v, want ErrBadInput naming both and the name", err)
	}
}

// tagTarget names images by their tag alone, as a layout once did, and
// counts its writes.
type tagTarget struct{ writes [][]runtime.Image }

func (t *tagTarget) Names(images []runtime.Image) ([]string, error) {
	var out []string
	for _, img := range images {
		out = append(out, runtime.TagOf(img.Name))
	}
	return out, nil
}

func (t *tagTarget) Write(_ context.Context, images []runtime.Image, _ runtime.Fetcher) error {
	t.writes = append(t.writes, images)
	return nil
}

func (t *tagTarget) Close() error { return nil }

func TestTargetNames(t *testing.T) {
	app, db := runtimetest.Named("fid/app:v1", "a"), runtimetest.Named("fid/db:v1", "b")
	tgt := &tagTarget{}
	if _, err := runtime.TargetNames(tgt, []runtime.Image{app, db}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("TargetNames(app:v1, db:v1 by tag) = %v, want ErrBadInput", err)
	}
	names, err := runtime.TargetNames(runtime.Renamed(tgt, "", "x"), []runtime.Image{runtimetest.Named("v1", "a"), runtimetest.Named("v2", "b")})
	if err != nil || !slices.Equal(names, []string{"v1", "v2"}) {
		t.Errorf("TargetNames(renamed) = %v, %v", names, err)
	}
}

func TestRenamed(t *testing.T) {
	ctx := context.Background()
	tgt := &tagTarget{}
	v1, app := runtimetest.Named("v1", "a"), runtimetest.Named("fid/app:v2", "b")
	if err := runtime.Renamed(tgt, "", "example.com/fid/app").Write(ctx, []runtime.Image{v1, app}, nil); err != nil {
		t.Fatal(err)
	}
	if got := []string{tgt.writes[0][0].Name, tgt.writes[0][1].Name}; !slices.Equal(got, []string{"example.com/fid/app:v1", "fid/app:v2"}) {
		t.Errorf("Renamed(repo) wrote %v", got)
	}
	if err := runtime.Renamed(tgt, "mine:1", "x").Write(ctx, []runtime.Image{app}, nil); err != nil || tgt.writes[1][0].Name != "mine:1" {
		t.Errorf("Renamed(name) = %v, wrote %v", err, tgt.writes[1])
	}
	if err := runtime.Renamed(tgt, "mine:1", "").Write(ctx, []runtime.Image{v1, app}, nil); !errors.Is(err, spec.ErrBadInput) || len(tgt.writes) != 2 {
		t.Errorf("Renamed(name) of two images = %v, want ErrBadInput and no write", err)
	}
	if runtime.Renamed(tgt, "", "") != runtime.Target(tgt) {
		t.Errorf("Renamed with neither name nor repo is not the target itself")
	}
}

func TestCheckNamed(t *testing.T) {
	if err := runtime.CheckNamed("x", runtimetest.Named("example.com/app:1", "a")); err != nil {
		t.Errorf("CheckNamed(a reference) = %v", err)
	}
	for _, name := range []string{"", "v1"} {
		if err := runtime.CheckNamed("podman", runtimetest.Named(name, "a")); !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), "podman") {
			t.Errorf("CheckNamed(%q) = %v, want ErrBadInput naming the target", name, err)
		}
	}
}
