package podman

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// Source reads images from podman's storage. Resolve exports them into a
// temporary directory, which Close removes. Lifecycle: Open, Resolve,
// Fetch any number of blobs (concurrently safe), Close.
type Source struct {
	c      *cli
	ref    string
	mu     sync.Mutex
	dir    string
	lays   []*ocilayout.Source
	synth  map[digest.Digest][]byte // manifests relabel rewrote
	images []runtime.Image
}

var _ runtime.Source = (*Source)(nil)

// Open returns a Source of the image ref (a name, a short name such as
// "app:1.0", an image ID) in the storage opts names; "" means every
// named image. Nothing is run until Resolve.
func Open(ref string, opts Options) (*Source, error) {
	if strings.ContainsAny(ref, " \t\n") || strings.HasPrefix(ref, "-") {
		return nil, fmt.Errorf("podman:%s: not an image reference: %w", ref, spec.ErrBadInput)
	}
	c, err := newCLI(opts)
	if err != nil {
		return nil, err
	}
	return &Source{c: c, ref: ref}, nil
}

// Resolve exports the images the first time it is called and returns
// them, each named as podman names it ("app:1.0" is found as
// "localhost/app:1.0" or "docker.io/library/app:1.0"). An image podman
// lacks gives an error wrapping spec.ErrNotFound naming it and the
// storage.
func (s *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" {
		return s.images, ctx.Err()
	}
	if err := s.export(ctx); err != nil {
		s.cleanLocked()
		return nil, fmt.Errorf("%s: %w", s.c.where(), err)
	}
	return s.images, nil
}

func (s *Source) export(ctx context.Context) error {
	refs := []string{s.ref}
	if s.ref == "" {
		var err error
		if refs, err = s.c.list(ctx); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp(s.c.opts.TmpDir, "ferry-podman-")
	if err != nil {
		return err
	}
	s.dir = dir
	s.synth = map[digest.Digest][]byte{}
	for i, ref := range refs {
		img, lay, err := s.exportOne(ctx, ref, filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			return fmt.Errorf("image %q: %w", ref, err)
		}
		s.images, s.lays = append(s.images, img), append(s.lays, lay)
	}
	return nil
}

// exportOne saves ref into the OCI layout out.
func (s *Source) exportOne(ctx context.Context, ref, out string) (runtime.Image, *ocilayout.Source, error) {
	name, err := s.c.name(ctx, ref)
	if err != nil {
		return runtime.Image{}, nil, err
	}
	if _, err := s.c.run(ctx, "save", "--quiet", "--format", "oci-dir", "--uncompressed", "-o", out, ref); err != nil {
		return runtime.Image{}, nil, err
	}
	lay, err := ocilayout.FromPath(out, "")
	if err != nil {
		return runtime.Image{}, nil, err
	}
	imgs, err := lay.Resolve(ctx)
	if err != nil {
		return runtime.Image{}, nil, err
	}
	if len(imgs) != 1 {
		return runtime.Image{}, nil, fmt.Errorf("podman save wrote %d images, want 1: %w", len(imgs), spec.ErrCorrupt)
	}
	desc := imgs[0].Desc
	desc.Annotations = nil // the ref.name podman save gave its layout
	fixed, err := relabel(ctx, lay, desc)
	if err != nil {
		return runtime.Image{}, nil, err
	}
	if fixed != nil {
		desc = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(fixed), Size: int64(len(fixed))}
		s.synth[desc.Digest] = fixed
	}
	return runtime.Image{Name: name, Desc: desc}, lay, nil
}

// name is the name podman knows ref by: ref itself if it is one of the
// image's names, else the first name that ref is short for, else the
// image's first name ("" for an image that has none).
func (c *cli) name(ctx context.Context, ref string) (string, error) {
	if _, err := c.run(ctx, "image", "exists", ref); err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.code == 1 {
			return "", fmt.Errorf("no such image: %w", spec.ErrNotFound)
		}
		return "", err
	}
	out, err := c.run(ctx, "image", "inspect", "--format", "{{json .RepoTags}}", ref)
	if err != nil {
		return "", err
	}
	var tags []string
	if err := json.Unmarshal(out, &tags); err != nil {
		return "", fmt.Errorf("podman image inspect: %w", err)
	}
	full := runtime.Normalize(ref)
	for _, want := range []string{ref, full, "localhost/" + full, "docker.io/library/" + full, "docker.io/" + full} {
		for _, t := range tags {
			if t == want {
				return t, nil
			}
		}
	}
	if len(tags) > 0 {
		return tags[0], nil
	}
	return "", nil
}

// Fetch opens a blob of the export.
func (s *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	s.mu.Lock()
	lays, fixed := s.lays, s.synth[desc.Digest]
	s.mu.Unlock()
	if fixed != nil {
		return io.NopCloser(bytes.NewReader(fixed)), nil
	}
	for _, lay := range lays {
		rc, err := lay.Fetch(ctx, desc)
		if !errors.Is(err, spec.ErrNotFound) {
			return rc, err
		}
	}
	return nil, fmt.Errorf("%s: blob %s: %w", s.c.where(), desc.Digest, spec.ErrNotFound)
}

// Close removes the export.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cleanLocked()
}

func (s *Source) cleanLocked() error {
	dir := s.dir
	s.dir, s.lays, s.synth, s.images = "", nil, nil, nil
	if dir == "" {
		return nil
	}
	return os.RemoveAll(dir)
}
