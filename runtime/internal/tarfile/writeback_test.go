package tarfile

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestWriteLayout_SyncsAsItGrows: an archive (oci-archive:, the podman and
// docker-archive outputs) is synced in the background as it is written,
// so that its commit waits for the last few MiB only; and its blob is
// whole. Not parallel: it counts the process's background syncs.
func TestWriteLayout_SyncsAsItGrows(t *testing.T) {
	blobs := runtimetest.Blobs{}
	data := runtimetest.RandomBytes(1, 3*atomicfile.WritebackChunk)
	layer := blobs.Put(ocispec.MediaTypeImageLayerGzip, data)
	name := filepath.Join(t.TempDir(), "out.tar")
	before := atomicfile.BackgroundSyncs()
	if err := WriteLayout(context.Background(), name, []byte("{}"), nil, []runtime.Blob{{Desc: layer}}, blobs); err != nil {
		t.Fatal(err)
	}
	if n := atomicfile.BackgroundSyncs() - before; n < 1 {
		t.Errorf("a %d MiB archive was written with %d background syncs, want at least 1", len(data)>>20, n)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("the archive has no member for blob %s", layer.Digest)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "blobs/sha256/"+layer.Digest.Encoded() {
			continue
		}
		if d, err := digest.SHA256.FromReader(tr); err != nil || d != layer.Digest {
			t.Fatalf("member %s hashes to %s (%v)", h.Name, d, err)
		}
		return
	}
}
