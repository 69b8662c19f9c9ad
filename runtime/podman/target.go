package podman

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/spec"
)

// Target writes images into podman's storage.
type Target struct {
	c *cli
}

var (
	_ runtime.Target = (*Target)(nil)
	_ runtime.Namer  = (*Target)(nil)
)

// NewTarget returns a Target for the storage opts names.
func NewTarget(opts Options) (*Target, error) {
	c, err := newCLI(opts)
	if err != nil {
		return nil, err
	}
	return &Target{c: c}, nil
}

// Write writes each image as an OCI archive in a temporary directory,
// every blob verified as it streams from src, its ref.name the image's
// name, and only when all are written loads them with `podman load`, so a
// missing or bad blob leaves podman's storage as it was. podman names
// each image as it normalises Image.Name ("app:1.0" becomes
// "localhost/app:1.0"); an image without a name is refused. podman keeps
// the manifest digest it was given (podman image inspect's Digest) but
// stores layers uncompressed: see the package comment.
func (t *Target) Write(ctx context.Context, imgs []runtime.Image, src runtime.Fetcher) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := runtime.TargetNames(t, imgs); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(t.c.opts.TmpDir, "ferry-podman-")
	if err != nil {
		return fmt.Errorf("%s: %w", t.c.where(), err)
	}
	defer os.RemoveAll(dir)
	files := make([]string, len(imgs))
	for i, img := range imgs {
		files[i] = filepath.Join(dir, fmt.Sprintf("%d.tar", i))
		if err := ociarchive.NewTarget(files[i], img.Name).Write(ctx, []runtime.Image{img}, src); err != nil {
			return fmt.Errorf("%s: image %s: %w", t.c.where(), img.Name, err)
		}
	}
	for i, img := range imgs {
		if _, err := t.c.run(ctx, "load", "--quiet", "-i", files[i]); err != nil {
			return fmt.Errorf("%s: image %s: %w", t.c.where(), img.Name, err)
		}
	}
	return nil
}

// Names returns the name podman gives each image (podmanName). An image
// without a name, or named only by a tag, is refused.
func (t *Target) Names(imgs []runtime.Image) ([]string, error) {
	names := make([]string, len(imgs))
	for i, img := range imgs {
		switch {
		case img.Name == "":
			return nil, fmt.Errorf("%s: image %s has no name, and podman load needs one: %w",
				t.c.where(), img.Desc.Digest, spec.ErrBadInput)
		case runtime.IsBareTag(img.Name):
			return nil, runtime.NeedRepository(t.c.where(), img.Name)
		}
		names[i] = podmanName(img.Name)
	}
	return names, nil
}

// podmanName is how podman names an image it loads as name: a short name
// goes under localhost/ ("app:1.0" is "localhost/app:1.0"), a Docker Hub
// name gets library/ ("docker.io/app:1.0" is "docker.io/library/app:1.0"),
// and a name with a registry host is kept.
func podmanName(name string) string {
	name = runtime.Normalize(name)
	first, rest, ok := strings.Cut(name, "/")
	switch {
	case !ok || !(strings.ContainsAny(first, ".:") || first == "localhost"):
		return "localhost/" + name
	case first == "docker.io" && !strings.Contains(rest, "/"):
		return "docker.io/library/" + rest
	}
	return name
}

// Close does nothing: a Target holds nothing between writes.
func (t *Target) Close() error { return nil }
