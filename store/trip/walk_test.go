package trip

import (
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// counting counts the fetches of each blob of f.
type counting struct {
	f  runtime.Fetcher
	mu sync.Mutex
	n  map[digest.Digest]int
}

func (c *counting) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	c.mu.Lock()
	c.n[d.Digest]++
	c.mu.Unlock()
	return c.f.Fetch(ctx, d)
}

// twoPlatforms is an index of two images made in memory, as a registry
// serves a multi-platform image.
func twoPlatforms(blobs runtimetest.Blobs) ocispec.Descriptor {
	amd, arm := runtimetest.RandomImage(blobs, 1, 2, 500), runtimetest.RandomImage(blobs, 2, 2, 500)
	amd.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	arm.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	ix := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{amd, arm}}
	ix.SchemaVersion = 2
	return blobs.PutJSON(ocispec.MediaTypeImageIndex, ix)
}

// TestCopy_ReadsEachBlobOnce: a copy walks each image's graph once and
// keeps it, so the target writes the manifests and configs the walk read
// without reading them again: every blob of the source is fetched once,
// with --platform too.
func TestCopy_ReadsEachBlobOnce(t *testing.T) {
	for _, platforms := range [][]string{nil, {"linux/arm64"}, {"linux/arm64", "linux/amd64"}} {
		blobs := runtimetest.Blobs{}
		root := twoPlatforms(blobs)
		src := &counting{f: blobs, n: map[digest.Digest]int{}}
		out := filepath.Join(t.TempDir(), "out")
		w, err := Copy(context.Background(), []Input{{Image: runtime.Image{Name: "app:1", Desc: root}, From: src}}, platforms,
			ocilayout.NewTarget(out, ""))
		if err != nil || len(w.Names) != 1 {
			t.Fatalf("Copy(%v) = %v, %v", platforms, w, err)
		}
		for d, n := range src.n {
			if n != 1 {
				t.Errorf("Copy(%v) fetched %s %d times, want once", platforms, d, n)
			}
		}
		if len(platforms) == 1 && len(src.n) != 5 { // the index, and one image's manifest, config and two layers
			t.Errorf("Copy(%v) fetched %d blobs, want 5", platforms, len(src.n))
		}
	}
}

// graphTarget is a Target that records what it is given: whether each
// image carries its complete graph, and what collecting its blobs
// fetches from the source it is given.
type graphTarget struct {
	fetched map[digest.Digest]int
	nodes   int
}

func (g *graphTarget) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	c := &counting{f: src, n: map[digest.Digest]int{}}
	blobs, err := runtime.Collect(ctx, c, images)
	for _, b := range blobs {
		if b.Role.IsNode() {
			g.nodes++
		}
	}
	g.fetched = c.n
	return err
}

func (g *graphTarget) Close() error { return nil }

// TestLoad_GraphToTargets: a load walks each image's graph once, while it
// checks the image, and hands the graph on: a target that collects the
// images' blobs reads no manifest again.
func TestLoad_GraphToTargets(t *testing.T) {
	s := signer(t, 1)
	b := newBlobSet()
	m := b.image("app", nil)
	root := b.index(m)
	path := b.write(t, t.TempDir(), b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": root}), s)
	h := siteHome(t, s)
	tgt := &graphTarget{}
	rep, err := Load(context.Background(), h, path, LoadOptions{CheckOptions: CheckOptions{Trust: TrustCatalog(h.Catalog)},
		Into: []Destination{{Name: "graph", Target: tgt}}})
	if err != nil || rep.Err() != nil {
		t.Fatalf("Load = %v, %v", err, rep.Err())
	}
	if tgt.nodes != 2 || len(tgt.fetched) != 0 {
		t.Errorf("the target collected %d manifests after %d fetches (%v), want 2 and none", tgt.nodes, len(tgt.fetched), tgt.fetched)
	}
}
