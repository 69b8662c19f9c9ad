package podman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/runtime/ocilayout"
)

// Target writes images into podman's storage.
type Target struct {
	c    *cli
	mu   sync.Mutex
	last runtime.WriteStats
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
// each image as Names says; an image without a name, or with only a tag,
// is refused before podman is asked anything. podman keeps the manifest
// digest it was given (podman image inspect's Digest) but stores layers
// uncompressed: see the package comment.
//
// Each archive leaves out the layers whose DiffID podman already holds:
// podman load (containers/image) looks a layer up in its storage by the
// blob's digest, compressed or not, before it reads the blob, so it
// never opens those. A layer podman holds only under another encoding
// (the same DiffID from a blob it never saw) cannot be found that way,
// and podman load fails; Write then loads the whole archives, and
// LastWrite says so.
func (t *Target) Write(ctx context.Context, imgs []runtime.Image, src runtime.Fetcher) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := runtime.TargetNames(t, imgs); err != nil {
		return err
	}
	have, err := t.c.diffIDs(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", t.c.where(), err)
	}
	stats, err := t.load(ctx, imgs, src, have)
	var ee *exitError
	if err != nil && len(stats.Omitted) > 0 && errors.As(err, &ee) {
		stats, err = t.load(ctx, imgs, src, nil)
		stats.Retried = true
	}
	t.mu.Lock()
	t.last = stats
	t.mu.Unlock()
	return err
}

// LastWrite returns what the last Write handed podman.
func (t *Target) LastWrite() runtime.WriteStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// load writes one archive per image, leaving out the layers whose DiffID
// is in have, then loads them all.
func (t *Target) load(ctx context.Context, imgs []runtime.Image, src runtime.Fetcher, have map[digest.Digest]bool) (runtime.WriteStats, error) {
	var stats runtime.WriteStats
	dir, err := os.MkdirTemp(t.c.opts.TmpDir, "ferry-podman-")
	if err != nil {
		return stats, fmt.Errorf("%s: %w", t.c.where(), err)
	}
	defer os.RemoveAll(dir)
	files := make([]string, len(imgs))
	for i, img := range imgs {
		files[i] = filepath.Join(dir, fmt.Sprintf("%d.tar", i))
		omitted, err := writeArchive(ctx, files[i], img, src, have)
		if err != nil {
			return stats, fmt.Errorf("%s: image %s: %w", t.c.where(), img.Name, err)
		}
		stats.Omitted = append(stats.Omitted, omitted...)
		if st, err := os.Stat(files[i]); err == nil {
			stats.Bytes += st.Size()
		}
	}
	for i, img := range imgs {
		if _, err := t.c.run(ctx, "load", "--quiet", "-i", files[i]); err != nil {
			return stats, fmt.Errorf("%s: image %s: %w", t.c.where(), img.Name, err)
		}
	}
	return stats, nil
}

// writeArchive writes img as an OCI archive named by its name, leaving
// out the layers whose DiffID is in have, and returns those.
func writeArchive(ctx context.Context, file string, img runtime.Image, src runtime.Fetcher, have map[digest.Digest]bool) ([]ocispec.Descriptor, error) {
	index, err := ocilayout.IndexFile([]runtime.Image{img})
	if err != nil {
		return nil, err
	}
	blobs, err := runtime.Collect(ctx, src, []runtime.Image{img})
	if err != nil {
		return nil, err
	}
	var omit func(dockerarchive.Layer) bool
	if have != nil {
		omit = func(l dockerarchive.Layer) bool { return have[l.DiffID] }
	}
	keep, omitted, err := dockerarchive.OmitLayers(ctx, src, blobs, omit)
	if err != nil {
		return nil, err
	}
	return omitted, tarfile.WriteLayout(ctx, file, index, nil, keep, src)
}

// diffIDs returns the DiffID of every layer of every image podman holds.
func (c *cli) diffIDs(ctx context.Context) (map[digest.Digest]bool, error) {
	out, err := c.run(ctx, "images", "--all", "--quiet", "--no-trunc")
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(string(out))
	have := map[digest.Digest]bool{}
	if len(ids) == 0 {
		return have, nil
	}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), inspectBatch)]
		ids = ids[len(batch):]
		out, err = c.run(ctx, append([]string{"image", "inspect", "--format", "{{json .RootFS.Layers}}"}, batch...)...)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var layers []digest.Digest
			if err := json.Unmarshal([]byte(line), &layers); err != nil {
				return nil, fmt.Errorf("podman image inspect: %q: %w", line, err)
			}
			for _, l := range layers {
				have[l] = true
			}
		}
	}
	return have, nil
}

// inspectBatch is how many image IDs one podman image inspect is given,
// well under the kernel's limit on a command line.
const inspectBatch = 500

// Names returns the name podman gives each image (podmanName). An image
// without a name, or named only by a tag, is refused.
func (t *Target) Names(imgs []runtime.Image) ([]string, error) {
	names := make([]string, len(imgs))
	for i, img := range imgs {
		if err := runtime.CheckNamed(t.c.where(), img); err != nil {
			return nil, err
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
	host, rest := runtime.SplitHost(name)
	switch {
	case host == "":
		return "localhost/" + name
	case host == "docker.io" && !strings.Contains(rest, "/"):
		return "docker.io/library/" + rest
	}
	return name
}

// Close does nothing: a Target holds nothing between writes.
func (t *Target) Close() error { return nil }
