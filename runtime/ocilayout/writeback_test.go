package ocilayout

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestLayoutTarget_SyncsLargeBlobsAsTheyGrow: a blob copied into a layout
// (from a source whose files cannot be linked) is synced in the
// background as it is written, so that its commit waits for the last few
// MiB only, not for the whole layer. Not parallel: it counts the
// process's background syncs.
func TestLayoutTarget_SyncsLargeBlobsAsTheyGrow(t *testing.T) {
	blobs := runtimetest.Blobs{}
	desc := runtimetest.RandomImage(blobs, 1, 1, 3*atomicfile.WritebackChunk)
	before := atomicfile.BackgroundSyncs()
	out := t.TempDir()
	if err := NewTarget(out, "").Write(context.Background(), []runtime.Image{{Name: "big:1", Desc: desc}}, blobs); err != nil {
		t.Fatal(err)
	}
	if n := atomicfile.BackgroundSyncs() - before; n < 1 {
		t.Errorf("a %d MiB layer was written with %d background syncs, want at least 1", 3*atomicfile.WritebackChunk>>20, n)
	}
	// and the files are whole: each hashes to its name
	dir := filepath.Join(out, "blobs", "sha256")
	files, _ := os.ReadDir(dir)
	if len(files) != 3 {
		t.Fatalf("layout holds %d blobs, want 3 (manifest, config, layer)", len(files))
	}
	for _, e := range files {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		d, err := digest.SHA256.FromReader(f)
		f.Close()
		if err != nil || d.Encoded() != e.Name() {
			t.Errorf("blob %s hashes to %s (%v)", e.Name(), d, err)
		}
	}
}
