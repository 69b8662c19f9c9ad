package trip

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestSave_SyncsTheBundleAsItGrows: a bundle file is synced in the
// background as it is written, so that the commit's sync waits for the
// last few MiB, not for the whole bundle (1.2 s of a 2 GiB save's 4.8 s
// when it was left to the end); the bundle then verifies. Not parallel:
// it counts the process's background syncs.
func TestSave_SyncsTheBundleAsItGrows(t *testing.T) {
	set := newBlobSet()
	noise := runtimetest.RandomBytes(7, 3*atomicfile.WritebackChunk) // stored as it is: zstd cannot shrink it
	img := set.image("noisy", func(m *ocispec.Manifest) { m.Layers[0] = set.put(ocispec.MediaTypeImageLayerGzip, noise) })
	p, err := MakePlan(context.Background(), []Input{{Image: runtime.Image{Name: "noisy:1", Desc: img}, From: set}}, nil)
	if err != nil {
		t.Fatal(err)
	}
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
