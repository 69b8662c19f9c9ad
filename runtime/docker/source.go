package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/spec"
)

// Source reads images from a Docker Engine. Resolve exports them (GET
// /images/get) and reads the export once as it streams: each layer goes
// to a spool (Options.Spool, or a file in Options.TmpDir), hashed on the
// way, and the export is read as a docker archive: the engine's legacy
// export is uncompressed layers, so each layer's digest is its DiffID and
// the manifest is the same deterministic synthesis docker-archive makes.
// Saving the same image twice gives the same manifest digest. Close
// removes the spool it made.
type Source struct {
	c      *client
	opts   Options
	refs   []string
	mu     sync.Mutex
	spool  runtime.Spool // the one it made, to remove
	a      *dockerarchive.Source
	images []runtime.Image
}

var _ runtime.Source = (*Source)(nil)

// FromDaemon returns a Source of the image ref (a name such as "app:1.0"
// or "example.com/team/app", an image ID, or NAME@DIGEST) in the engine
// opts names. Nothing is read until Resolve.
func FromDaemon(ref string, opts Options) (*Source, error) {
	return FromDaemonImages([]string{ref}, opts)
}

// FromDaemonImages returns a Source of several images, exported together
// so that layers they share are read once. No refs gives no images.
func FromDaemonImages(refs []string, opts Options) (*Source, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if r == "" || strings.ContainsAny(r, " \t\n") {
			return nil, fmt.Errorf("docker-daemon:%s: not an image reference: %w", r, spec.ErrBadInput)
		}
	}
	return &Source{c: c, opts: opts, refs: refs}, nil
}

func (s *Source) where() string {
	return fmt.Sprintf("docker-daemon:%s (engine %s)", strings.Join(s.refs, ","), s.c.host)
}

// Resolve exports the images the first time it is called and returns
// them, named as Docker shows them ("app:1.0"). An image the engine lacks
// gives an error wrapping spec.ErrNotFound.
func (s *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.a != nil || len(s.refs) == 0 {
		return s.images, ctx.Err()
	}
	if err := s.resolve(ctx); err != nil {
		s.closeLocked()
		return nil, fmt.Errorf("%s: %w", s.where(), err)
	}
	return s.images, nil
}

func (s *Source) resolve(ctx context.Context) error {
	infos := make([]imageInfo, len(s.refs))
	for i, ref := range s.refs {
		info, err := inspect(ctx, s.c, ref)
		if err != nil {
			return err
		}
		infos[i] = info
	}
	a, err := s.export(ctx, infos)
	if err != nil {
		return err
	}
	s.a = a
	imgs, _ := a.Resolve(ctx)
	for i, ref := range s.refs {
		img, err := s.find(ctx, imgs, infos[i])
		if err != nil {
			return fmt.Errorf("image %s: %w", ref, err)
		}
		img.Name = displayName(ref, infos[i])
		s.images = append(s.images, img)
	}
	return nil
}

// find returns the exported image whose config is the image info.ID
// (the engine writes its export in no particular order), or whose root
// is (Docker's containerd image store names images by their index).
func (s *Source) find(ctx context.Context, imgs []runtime.Image, info imageInfo) (runtime.Image, error) {
	for _, img := range imgs {
		if string(img.Desc.Digest) == info.ID {
			return img, nil
		}
		b, err := runtime.ReadBlob(ctx, s.a, img.Desc, spec.MaxManifestSize)
		if err != nil {
			return img, err
		}
		var m ocispec.Manifest
		if json.Unmarshal(b, &m) == nil && string(m.Config.Digest) == info.ID {
			return img, nil
		}
	}
	return runtime.Image{}, fmt.Errorf("image ID %s not in the engine's export: %w", info.ID, spec.ErrCorrupt)
}

// export streams GET /images/get of the images inspected, by ID (so a
// tag moved meanwhile changes nothing), into the spool, and reads it.
func (s *Source) export(ctx context.Context, infos []imageInfo) (*dockerarchive.Source, error) {
	q := url.Values{}
	for _, info := range infos {
		if !slices.Contains(q["names"], info.ID) {
			q.Add("names", info.ID)
		}
	}
	sp := s.opts.Spool
	if sp == nil {
		fs, err := tarfile.NewFileSpool(s.opts.TmpDir)
		if err != nil {
			return nil, err
		}
		s.spool, sp = fs, fs
	}
	resp, err := s.c.do(ctx, http.MethodGet, "/images/get", q, nil)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer resp.Body.Close()
	st, err := tarfile.ReadStream("the export", runtime.ContextReader(ctx, resp.Body), sp)
	if err != nil {
		return nil, fmt.Errorf("export: %w", orCtx(ctx, err))
	}
	return dockerarchive.FromMembers(s.where(), st, "")
}

func orCtx(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Fetch serves a blob of the exported images.
func (s *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	s.mu.Lock()
	a := s.a
	s.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("%s: blob %s: not resolved yet: %w", s.where(), desc.Digest, spec.ErrNotFound)
	}
	return a.Fetch(ctx, desc)
}

// Close closes and removes the spool file.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Source) closeLocked() error {
	s.images = nil
	var err error
	if s.a != nil {
		err = s.a.Close()
		s.a = nil
	}
	if s.spool != nil {
		if serr := s.spool.Close(); serr != nil && err == nil {
			err = serr
		}
		s.spool = nil
	}
	return err
}
