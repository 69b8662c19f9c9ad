package runtimetest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Reopen opens, as a Source of all its images, the location a Target
// wrote.
type Reopen func() (runtime.Source, error)

// Harness tells the suite how to use one transport.
type Harness struct {
	// NewTarget returns a Target for a fresh location inside dir (an
	// empty directory the suite owns) and the Reopen of that location.
	NewTarget func(t *testing.T, dir string) (runtime.Target, Reopen)
}

// fixture is two images made in memory (RandomImage), named as the suite
// writes them.
type fixture struct {
	src    runtime.Fetcher
	images []runtime.Image
}

// Run runs the conformance suite against the transport h opens: a round
// trip keeps names and digests and every blob verifies; a missing or
// corrupt blob fails Write with an error naming it and leaves neither a
// half-written location nor temporary files; a cancelled context fails.
func Run(t *testing.T, name string, h Harness) {
	runSuite(t, name, h, "RoundTrip", testRoundTrip, nil)
}

// runSuite runs the suite with the given round trip, skipping each
// subtest named in skip with its reason.
func runSuite(t *testing.T, name string, h Harness, roundTripName string, roundTrip func(*testing.T, Harness, fixture), skip map[string]string) {
	t.Run(name, func(t *testing.T) {
		fx := newFixture(t)
		for _, tc := range []struct {
			name string
			fn   func(*testing.T, Harness, fixture)
		}{
			{roundTripName, roundTrip},
			{"MissingBlobFresh", testMissingFresh},
			{"MissingBlobKeepsOld", testMissingKeepsOld},
			{"CorruptBlob", testCorrupt},
			{"Cancelled", testCancelled},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if why, ok := skip[tc.name]; ok {
					t.Skip(why)
				}
				tc.fn(t, h, fx)
			})
		}
	})
}

func newFixture(*testing.T) fixture {
	blobs := Blobs{}
	app := RandomImage(blobs, 1, 2, 2048)
	db := RandomImage(blobs, 2, 3, 1024)
	return fixture{src: blobs, images: []runtime.Image{
		{Name: "example.com/ferry/app:v1", Desc: app},
		{Name: "example.com/ferry/db:v2", Desc: db},
	}}
}

// lastLayer is a blob only the second image has.
func (fx fixture) lastLayer(t *testing.T) ocispec.Descriptor {
	var last ocispec.Descriptor
	_, err := runtime.Walk(context.Background(), fx.src, fx.images[1], func(b runtime.Blob) error {
		if b.Role == runtime.RoleLayer {
			last = b.Desc
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func testRoundTrip(t *testing.T, h Harness, fx fixture) {
	ctx := context.Background()
	dir := t.TempDir()
	tgt, reopen := h.NewTarget(t, dir)
	defer tgt.Close()
	if err := tgt.Write(ctx, fx.images, fx.src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	noTemp(t, dir)
	got := resolve(t, reopen)
	if want := keys(fx.images); !slices.Equal(keys(got), want) {
		t.Fatalf("Resolve after Write = %v, want %v", keys(got), want)
	}
	src, err := reopen()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, img := range got {
		verifyAll(t, src, img)
	}
	if bc, ok := tgt.(runtime.BlobChecker); ok {
		testExists(t, bc, fx.lastLayer(t))
	}
}

func testExists(t *testing.T, bc runtime.BlobChecker, have ocispec.Descriptor) {
	ctx := context.Background()
	if ok, err := bc.Exists(ctx, have); !ok || err != nil {
		t.Errorf("Exists(%s) = %v, %v, want true", have.Digest, ok, err)
	}
	other := ocispec.Descriptor{Digest: digest.FromString("absent"), Size: 6}
	if ok, err := bc.Exists(ctx, other); ok || err != nil {
		t.Errorf("Exists(%s) = %v, %v, want false", other.Digest, ok, err)
	}
}

// verifyAll fetches every blob of img and checks it against its descriptor.
func verifyAll(t *testing.T, src runtime.Fetcher, img runtime.Image) {
	ctx := context.Background()
	_, err := runtime.Walk(ctx, src, img, func(b runtime.Blob) error {
		d := b.Desc
		if b.Node != nil {
			return nil // Walk verified it
		}
		rc, err := src.Fetch(ctx, d)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, spec.NewVerifyingReader(rc, d.Digest, d.Size))
		return err
	})
	if err != nil {
		t.Errorf("image %s: %v", img.Name, err)
	}
}

func testMissingFresh(t *testing.T, h Harness, fx fixture) {
	dir := t.TempDir()
	tgt, reopen := h.NewTarget(t, dir)
	defer tgt.Close()
	gone := fx.lastLayer(t).Digest
	err := tgt.Write(context.Background(), fx.images, Missing(fx.src, gone))
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), gone.String()) {
		t.Fatalf("Write with %s missing = %v, want ErrNotFound naming it", gone, err)
	}
	noTemp(t, dir)
	if src, err := reopen(); err == nil {
		imgs, err := src.Resolve(context.Background())
		src.Close()
		if err == nil && len(imgs) > 0 {
			t.Errorf("after a failed Write the location holds %v", keys(imgs))
		}
	}
}

func testMissingKeepsOld(t *testing.T, h Harness, fx fixture) {
	ctx := context.Background()
	dir := t.TempDir()
	tgt, reopen := h.NewTarget(t, dir)
	defer tgt.Close()
	if err := tgt.Write(ctx, fx.images[:1], fx.src); err != nil {
		t.Fatalf("Write = %v", err)
	}
	before := keys(resolve(t, reopen))
	gone := fx.lastLayer(t).Digest
	err := tgt.Write(ctx, fx.images[1:], Missing(fx.src, gone))
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), gone.String()) {
		t.Fatalf("Write with %s missing = %v, want ErrNotFound naming it", gone, err)
	}
	noTemp(t, dir)
	if after := keys(resolve(t, reopen)); !slices.Equal(after, before) {
		t.Errorf("after a failed Write Resolve = %v, want %v as before", after, before)
	}
}

func testCorrupt(t *testing.T, h Harness, fx fixture) {
	dir := t.TempDir()
	tgt, _ := h.NewTarget(t, dir)
	defer tgt.Close()
	bad := fx.lastLayer(t).Digest
	err := tgt.Write(context.Background(), fx.images, Corrupt(fx.src, bad))
	var ve *spec.VerifyError
	if !errors.As(err, &ve) || ve.Want != bad || !errors.Is(err, spec.ErrDigestMismatch) {
		t.Fatalf("Write with %s corrupt = %v, want a VerifyError for it", bad, err)
	}
	noTemp(t, dir)
}

func testCancelled(t *testing.T, h Harness, fx fixture) {
	dir := t.TempDir()
	tgt, _ := h.NewTarget(t, dir)
	defer tgt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tgt.Write(ctx, fx.images, fx.src); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a cancelled context = %v, want context.Canceled", err)
	}
	noTemp(t, dir)
}

func resolve(t *testing.T, reopen Reopen) []runtime.Image {
	t.Helper()
	src, err := reopen()
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer src.Close()
	imgs, err := src.Resolve(context.Background())
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return imgs
}

// keys returns "name@digest" of each image, sorted.
func keys(imgs []runtime.Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Name+"@"+string(img.Desc.Digest))
	}
	slices.Sort(out)
	return out
}

// noTemp fails if a temporary file is left anywhere under dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && atomicfile.IsTemp(d.Name()) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
