package containerd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Source reads images from a containerd namespace. Lifecycle: Open,
// Resolve, Fetch any number of blobs (concurrently safe), Close.
type Source struct {
	c   *conn
	ref string
}

var _ runtime.Source = (*Source)(nil)

// Open returns a Source of the image ref in the containerd and namespace
// opts names; "" means every image of the namespace. Nothing is asked of
// containerd until Resolve.
func Open(ref string, opts Options) (*Source, error) {
	c, err := dial(opts)
	if err != nil {
		return nil, err
	}
	return &Source{c: c, ref: ref}, nil
}

// Resolve returns the image ref names, with the name containerd stores
// (ref as given if containerd has it, else its docker.io normalisation:
// "app:1.0" finds "docker.io/library/app:1.0") and the image's exact
// target descriptor. An image containerd lacks gives an error wrapping
// spec.ErrNotFound that names the image, the namespace and the socket.
// With ref "" it returns every image in the namespace, possibly none.
func (s *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	if s.ref == "" {
		return s.all(ctx)
	}
	is := s.c.c.ImageService()
	names := candidates(s.ref)
	for _, name := range names {
		img, err := is.Get(s.c.ctx(ctx), name)
		if err == nil {
			return []runtime.Image{{Name: img.Name, Desc: img.Target}}, nil
		}
		if !errdefs.IsNotFound(err) {
			return nil, s.c.wrap(ctx, fmt.Errorf("image %q: %w", s.ref, err))
		}
	}
	return nil, fmt.Errorf("%s: no image %s: %w", s.c.where(), strings.Join(quoted(names), " or "), spec.ErrNotFound)
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strconv.Quote(n)
	}
	return out
}

func (s *Source) all(ctx context.Context) ([]runtime.Image, error) {
	imgs, err := s.c.c.ImageService().List(s.c.ctx(ctx))
	if err != nil {
		return nil, s.c.wrap(ctx, err)
	}
	out := make([]runtime.Image, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, runtime.Image{Name: img.Name, Desc: img.Target})
	}
	return out, nil
}

// candidates are the names ref may be stored under: as given, then as
// docker normalises it (docker.io/library/…, ":latest" added).
func candidates(ref string) []string {
	out := []string{ref}
	if n, err := reference.ParseDockerRef(ref); err == nil && n.String() != ref {
		out = append(out, n.String())
	}
	return out
}

// Fetch streams a blob from the content store. The reader yields the
// stored bytes; the caller verifies them.
func (s *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return nil, err
	}
	ra, err := s.c.c.ContentStore().ReaderAt(s.c.ctx(ctx), desc)
	if err != nil {
		return nil, s.c.wrap(ctx, fmt.Errorf("blob %s: %w", desc.Digest, err))
	}
	return blobReader{Reader: content.NewReader(ra), Closer: ra}, nil
}

type blobReader struct {
	io.Reader
	io.Closer
}

// Close closes the connection to containerd.
func (s *Source) Close() error { return s.c.close() }
