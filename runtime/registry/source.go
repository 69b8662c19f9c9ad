package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Source is one image in a registry, read as a runtime.Source.
type Source struct {
	name  string         // Image.Name: the reference as given, with a tag
	ref   name.Reference // where it is read: after Options.Mirrors
	host  string         // the registry read, for messages
	c     *client
	blobs *blobs // of ref's repository

	mu   sync.Mutex
	root map[digest.Digest][]byte // the manifest Resolve read
}

var (
	_ runtime.Source  = (*Source)(nil)
	_ runtime.Distant = (*Source)(nil)
)

// FromReference opens the image ref ("[docker://]HOST[:PORT]/REPO:TAG",
// "REPO@DIGEST", or "alpine:3.20", which means Docker Hub's
// library/alpine). The image is named as given, with ":latest" added when
// ref has neither tag nor digest; a mirror in opts changes where it is
// read, not its name. Nothing is requested before Resolve.
func FromReference(ref string, opts Options) (*Source, error) {
	given := strings.TrimPrefix(ref, runtime.TransportRegistry+"://")
	r, err := name.ParseReference(given, opts.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("docker://%s: %v: %w", given, err, spec.ErrBadInput)
	}
	read, host, err := mirrored(r, opts)
	if err != nil {
		return nil, err
	}
	c, err := newClient(opts, read.Context().Registry)
	if err != nil {
		return nil, err
	}
	return &Source{name: runtime.Normalize(given), ref: read, host: host, c: c, blobs: newBlobs(c, read.Context())}, nil
}

// Resolve reads the manifest or index the reference names and returns it
// as the one image of this source.
func (s *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	rc, err := s.c.repo(ctx, s.ref.Context(), false)
	if err != nil {
		return nil, s.c.explain(err, s.host, s.name)
	}
	d, err := rc.puller.Get(ctx, s.ref)
	if err != nil {
		return nil, s.c.explain(err, s.host, s.name)
	}
	mt := string(d.MediaType)
	if !spec.IsManifest(mt) && !spec.IsIndex(mt) {
		return nil, explained(fmt.Errorf("registry %s: image %s: media type %q is not an image manifest or index "+
			"(Docker schema 1 is not supported): %w", s.host, s.name, mt, spec.ErrBadInput))
	}
	if len(d.Manifest) > spec.MaxManifestSize {
		return nil, fmt.Errorf("registry %s: image %s: manifest of %d bytes, limit %d: %w",
			s.host, s.name, len(d.Manifest), spec.MaxManifestSize, spec.ErrTooLarge)
	}
	desc := ocispec.Descriptor{MediaType: mt, Digest: digest.FromBytes(d.Manifest), Size: int64(len(d.Manifest))}
	s.mu.Lock()
	s.root = map[digest.Digest][]byte{desc.Digest: d.Manifest}
	s.mu.Unlock()
	return []runtime.Image{{Name: s.name, Desc: desc}}, nil
}

// Fetch opens a blob of the image's repository: manifests and indexes
// from the manifest endpoint, every other blob streamed from the blob
// endpoint and resumed when the connection is cut (up to Options.Retries
// times). A blob stream is hashed as it is read and fails at EOF unless
// it is desc's bytes (spec.SelfVerifying: spec.Verify does not hash it
// again). At most Options.Jobs blob streams are open at once; Fetch waits
// for one to be closed.
func (s *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return nil, err
	}
	what := s.name + " blob " + string(desc.Digest)
	if spec.IsManifest(desc.MediaType) || spec.IsIndex(desc.MediaType) {
		b, err := s.manifest(ctx, desc)
		if err != nil {
			return nil, s.c.explain(err, s.host, what)
		}
		return io.NopCloser(spec.NewVerifyingReader(bytes.NewReader(b), desc.Digest, desc.Size)), nil
	}
	open := func() (io.ReadCloser, error) { return s.blobs.open(ctx, desc.Digest) }
	rr := &resumingReader{ctx: ctx, open: open, opts: s.c.opts}
	if err := rr.reopen(); err != nil {
		return nil, s.c.explain(err, s.host, what)
	}
	return &blobReader{rr: rr, vr: spec.NewVerifyingReader(rr, desc.Digest, desc.Size),
		explain: func(err error) error { return s.c.explain(err, s.host, what) }}, nil
}

// FetchAhead says a reader of this image's blobs one after another
// should fetch the next Options.Jobs-1 ahead, so that Jobs stream at once.
func (s *Source) FetchAhead() int { return s.c.opts.jobs() - 1 }

func (s *Source) manifest(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	s.mu.Lock()
	b, ok := s.root[desc.Digest]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	if desc.Size > spec.MaxManifestSize {
		return nil, fmt.Errorf("%d bytes, limit %d: %w", desc.Size, spec.MaxManifestSize, spec.ErrTooLarge)
	}
	rc, err := s.c.repo(ctx, s.ref.Context(), false)
	if err != nil {
		return nil, err
	}
	d, err := rc.puller.Get(ctx, s.ref.Context().Digest(desc.Digest.String()))
	if err != nil {
		return nil, err
	}
	return d.Manifest, nil
}

// Close releases idle connections.
func (s *Source) Close() error {
	if tr, ok := s.c.tr.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	return nil
}

// blobReader is a blob stream whose errors name the registry, the image
// and the blob. It hashes every byte it delivers, across resumed
// connections, and fails at EOF on a mismatch (spec.SelfVerifying), so
// that the caller need not hash them again.
type blobReader struct {
	rr      *resumingReader
	vr      *spec.VerifyingReader // over rr
	explain func(error) error
}

var _ spec.SelfVerifying = (*blobReader)(nil)

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.vr.Read(p)
	if err != nil && err != io.EOF {
		if _, ok := err.(*spec.VerifyError); !ok {
			err = b.explain(err)
		}
	}
	return n, err
}

func (b *blobReader) Promise() (digest.Digest, int64) { return b.vr.Promise() }

func (b *blobReader) Close() error { return b.rr.Close() }
