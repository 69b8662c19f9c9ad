package runtimetest

import (
	"context"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
)

// RunImageIDs is Run for a runtime that stores images its own way and
// gives them back with manifests of its own (Docker's engine: legacy
// images, uncompressed layers), so a round trip keeps each image's name
// and ID (its config digest) rather than its manifest digest. The other
// subtests are Run's.
func RunImageIDs(t *testing.T, name string, h Harness) {
	runSuite(t, name, h, "RoundTripImageID", testRoundTripIDs, nil)
}

func testRoundTripIDs(t *testing.T, h Harness, fx fixture) {
	ctx := context.Background()
	tgt, reopen := h.NewTarget(t, t.TempDir())
	defer tgt.Close()
	if err := tgt.Write(ctx, fx.images, fx.src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	want := imageIDs(t, fx.src, fx.images)
	src, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err := src.Resolve(ctx)
	if err != nil {
		t.Fatalf("Resolve after Write = %v", err)
	}
	if g := imageIDs(t, src, got); !slices.Equal(g, want) {
		t.Fatalf("images after Write = %v, want %v", g, want)
	}
	for _, img := range got {
		verifyAll(t, src, img)
	}
}

// imageIDs returns "name@configdigest" of each image, sorted.
func imageIDs(t *testing.T, f runtime.Fetcher, imgs []runtime.Image) []string {
	t.Helper()
	var out []string
	for _, img := range imgs {
		out = append(out, img.Name+"@"+string(ConfigDigest(t, f, img.Desc)))
	}
	slices.Sort(out)
	return out
}

// ConfigDigest reads the image manifest desc and returns its config's
// digest: the image ID Docker shows.
func ConfigDigest(t testing.TB, f runtime.Fetcher, desc ocispec.Descriptor) digest.Digest {
	t.Helper()
	return Manifest(t, f, desc).Config.Digest
}

// Manifest reads the image manifest desc with runtime's typed reader, or
// fails the test.
func Manifest(t testing.TB, f runtime.Fetcher, desc ocispec.Descriptor) *runtime.Node {
	t.Helper()
	m, err := runtime.ReadManifest(context.Background(), f, desc)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Config reads the image config desc with runtime's typed reader, or
// fails the test.
func Config(t testing.TB, f runtime.Fetcher, desc ocispec.Descriptor) *runtime.Config {
	t.Helper()
	c, err := runtime.ReadConfig(context.Background(), f, desc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
