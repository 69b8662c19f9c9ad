package trip

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// noisyPlan is the plan of one image, noisy:1, whose layer is noise:
// random bytes, which zstd cannot shrink, so the bundle is as large.
func noisyPlan(t *testing.T, noise []byte) *Plan {
	t.Helper()
	set := newBlobSet()
	img := set.image("noisy", func(m *ocispec.Manifest) { m.Layers[0] = set.put(ocispec.MediaTypeImageLayerGzip, noise) })
	p, err := MakePlan(context.Background(), []Input{{Image: runtime.Image{Name: "noisy:1", Desc: img}, From: set}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSave_SyncsTheBundleAsItGrows: a bundle file is synced in the
// background as it is written, so that the commit's sync waits for the
// last few MiB, not for the whole bundle (1.2 s of a 2 GiB save's 4.8 s
// when it was left to the end); the bundle then verifies. Not parallel:
// it counts the process's background syncs.
func TestSave_SyncsTheBundleAsItGrows(t *testing.T) {
	noise := runtimetest.RandomBytes(7, 3*atomicfile.WritebackChunk)
	p := noisyPlan(t, noise)
	path := filepath.Join(t.TempDir(), "noisy.ferry")
	before := atomicfile.BackgroundSyncs()
	s := signer(t, 1)
	if _, err := Save(context.Background(), p, SaveOptions{Path: path, Signer: s, From: "hq", Sequence: 1, Created: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := atomicfile.BackgroundSyncs() - before; n < 1 {
		t.Errorf("a %d MiB bundle was written with %d background syncs, want at least 1", st.Size()>>20, n)
	}
	verified, _ := verifyAndLoad(t, siteHome(t, s), path)
	if err := verified.Err(); err != nil {
		t.Errorf("verify: %v", err)
	}
}

// TestSave_SyncsEachVolumeAsItGrows: the volumes of a split save are
// synced in the background as they are written, however the set writer
// moves between them (one handle open at a time, headers last); every
// volume is whole, and the set loads.
func TestSave_SyncsEachVolumeAsItGrows(t *testing.T) {
	noise := runtimetest.RandomBytes(8, 4*atomicfile.WritebackChunk)
	p := noisyPlan(t, noise)
	before := atomicfile.BackgroundSyncs()
	s := signer(t, 1)
	res, err := Save(context.Background(), p, SaveOptions{Path: filepath.Join(t.TempDir(), "noisy.ferry"), Signer: s,
		From: "hq", Sequence: 1, Created: time.Unix(0, 0), Split: int64(len(noise)) / 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Volumes) < 2 {
		t.Fatalf("%d volumes, want the %d MiB layer over at least 2", len(res.Volumes), len(noise)>>20)
	}
	var large int64 // volumes of at least WritebackChunk bytes: each has a background sync of its own
	for _, v := range res.Volumes {
		if st, err := os.Stat(v); err == nil && st.Size() >= atomicfile.WritebackChunk {
			large++
		}
	}
	if n := atomicfile.BackgroundSyncs() - before; large == 0 || n < large {
		t.Errorf("%d volumes, %d of them of %d MiB or more, were written with %d background syncs, want one or more each",
			len(res.Volumes), large, atomicfile.WritebackChunk>>20, n)
	}
	h := siteHome(t, s)
	check := CheckOptions{Trust: TrustCatalog(h.Catalog)}
	for _, v := range res.Volumes {
		if _, err := Load(context.Background(), h, v, LoadOptions{CheckOptions: check}); err != nil {
			t.Fatalf("load %s: %v", v, err)
		}
	}
	if got := recorded(t, h); !slices.Contains(got, "noisy:1") {
		t.Errorf("after every volume the site records %v, want noisy:1", got)
	}
	mustCheck(t, h)
}
