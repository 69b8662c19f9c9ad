package ocilayout

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/opencontainers/go-digest"
)

// filer is a layout whose blob files may be linked (as ferry's store's).
type filer struct{ runtimetest.DirFetcher }

func (f filer) BlobFile(d digest.Digest) (string, error) {
	return filepath.Join(string(f.DirFetcher), "blobs", "sha256", d.Encoded()), nil
}

// TestLayoutTarget_LinksStoreBlobs: blobs of a source that names its
// files are hard-linked, not copied, manifests and configs too; a source
// that cannot is copied.
func TestLayoutTarget_LinksStoreBlobs(t *testing.T) {
	runtimetest.NeedTool(t, "umoci")
	src := filepath.Join(t.TempDir(), "src")
	desc := runtimetest.UmociImage(t, src, "v1", 1, 1, 4096)
	img := []runtime.Image{{Name: "v1", Desc: desc}}
	for _, tc := range []struct {
		name   string
		from   runtime.Fetcher
		linked bool
	}{{"filer", filer{runtimetest.DirFetcher(src)}, true}, {"plain", runtimetest.DirFetcher(src), false}} {
		out := filepath.Join(t.TempDir(), tc.name)
		if err := NewTarget(out, "").Write(context.Background(), img, tc.from); err != nil {
			t.Fatalf("%s: Write: %v", tc.name, err)
		}
		blobs, _ := os.ReadDir(filepath.Join(out, "blobs", "sha256"))
		if len(blobs) == 0 {
			t.Fatalf("%s: no blobs written", tc.name)
		}
		for _, b := range blobs {
			a, _ := os.Stat(filepath.Join(src, "blobs", "sha256", b.Name()))
			c, _ := os.Stat(filepath.Join(out, "blobs", "sha256", b.Name()))
			if same := os.SameFile(a, c); same != tc.linked {
				t.Errorf("%s: blob %s linked = %v, want %v", tc.name, b.Name(), same, tc.linked)
			}
		}
	}
}
