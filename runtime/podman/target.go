package podman

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/spec"
)

// Target writes images into podman's storage.
type Target struct {
	c *cli
}

var _ runtime.Target = (*Target)(nil)

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
	for _, img := range imgs {
		if img.Name == "" {
			return fmt.Errorf("%s: image %s has no name, and podman load needs one: %w",
				t.c.where(), img.Desc.Digest, spec.ErrBadInput)
		}
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

// Close does nothing: a Target holds nothing between writes.
func (t *Target) Close() error { return nil }
