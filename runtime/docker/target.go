package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
)

// Target writes images into a Docker Engine through its image load.
type Target struct {
	c    *client
	opts Options
	mu   sync.Mutex
	last runtime.WriteStats
}

var (
	_ runtime.Target = (*Target)(nil)
	_ runtime.Namer  = (*Target)(nil)
)

// NewTarget returns a Target for the engine opts names.
func NewTarget(opts Options) (*Target, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	return &Target{c: c, opts: opts}, nil
}

// Write streams one docker archive of images (an index replaced by the
// manifest of runtime.EnginePlatform, as docker-archive does) into POST /images/load,
// through a pipe: no temporary file, no whole archive in memory. Each
// blob is verified as it streams; a missing or bad blob aborts the
// upload, so the engine loads nothing. Layers whose ChainID the engine
// already has are left out: its loader opens a layer member only when it
// lacks the chain. If the engine refuses that archive, Write sends the
// whole one. Images keep their image ID (the config digest) and are
// tagged with their names (Names); images that would share a name, or
// that have only a tag, are refused before the engine is asked anything.
func (t *Target) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	if err := ctx.Err(); err != nil || len(images) == 0 {
		return err
	}
	if _, err := t.Names(images); err != nil {
		return err
	}
	have, err := t.present(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", t.where(), err)
	}
	stats, err := t.load(ctx, images, src, have)
	var ee *engineError
	if err != nil && len(stats.Omitted) > 0 && errors.As(err, &ee) {
		stats, err = t.load(ctx, images, src, nil)
		stats.Retried = true
	}
	t.mu.Lock()
	t.last = stats
	t.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: load %s: %w", t.where(), runtime.List(images), err)
	}
	return nil
}

// Names returns the name Docker gives each image (dockerarchive.RepoTag):
// "app:1.0" for "docker.io/library/app:1.0", "" for an image loaded
// untagged. An image named only by a tag is refused.
func (t *Target) Names(images []runtime.Image) ([]string, error) {
	return dockerarchive.RepoTags(t.where(), images)
}

func (t *Target) where() string { return "docker-daemon (engine " + t.c.host + ")" }

// LastWrite returns what the last Write sent.
func (t *Target) LastWrite() runtime.WriteStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// present returns the ChainIDs the engine has, or nil when the engine
// keeps images in containerd (Docker's containerd image store imports
// the OCI layout and wants every blob).
func (t *Target) present(ctx context.Context) (map[digest.Digest]bool, error) {
	var info struct {
		DriverStatus [][2]string
	}
	if err := t.c.getJSON(ctx, "/info", nil, &info); err != nil {
		return nil, err
	}
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" && strings.Contains(kv[1], "snapshotter") {
			return nil, nil
		}
	}
	return chains(ctx, t.c)
}

// engineError is a load the engine refused.
type engineError struct{ err error }

func (e *engineError) Error() string { return "the engine refused the archive: " + e.err.Error() }
func (e *engineError) Unwrap() error { return e.err }

// load streams the archive, leaving out layers whose chain is in have.
func (t *Target) load(ctx context.Context, images []runtime.Image, src runtime.Fetcher, have map[digest.Digest]bool) (runtime.WriteStats, error) {
	var stats runtime.WriteStats
	pr, pw := io.Pipe()
	cw := &countWriter{w: pw}
	werr := make(chan error, 1)
	go func() {
		var omit func(dockerarchive.Layer) bool
		if have != nil {
			omit = func(l dockerarchive.Layer) bool { return have[l.ChainID] }
		}
		var omitted []ocispec.Descriptor
		var err error
		if have != nil { // the classic image store: layers sent uncompressed
			omitted, err = dockerarchive.StreamInflated(ctx, cw, t.where(), images, src, omit, inflate(t.opts.TmpDir, src))
		} else {
			omitted, err = dockerarchive.Stream(ctx, cw, t.where(), images, src, omit)
		}
		stats.Omitted = omitted
		pw.CloseWithError(err)
		werr <- err
	}()
	err := t.post(ctx, pr)
	pr.CloseWithError(errLoadEnded)
	if e := <-werr; e != nil && !errors.Is(e, errLoadEnded) && !errors.Is(e, io.ErrClosedPipe) {
		err = e // the source's fault comes first: it is why the upload stopped
	}
	stats.Bytes = cw.n
	return stats, err
}

var errLoadEnded = errors.New("the engine ended the load")

func (t *Target) post(ctx context.Context, body io.Reader) error {
	resp, err := t.c.do(ctx, http.MethodPost, "/images/load", url.Values{"quiet": {"1"}}, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := streamError(resp.Body); err != nil {
		return &engineError{err}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Close does nothing.
func (t *Target) Close() error { return nil }
