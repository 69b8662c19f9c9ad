package store

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
)

func TestStore_WriteIndex(t *testing.T) {
	b := newStore(t)
	app := newTestImage(t, "example.com/app:1.0", 1)
	db := newTestImage(t, "db:2", 2)
	write := func(images ...runtime.Image) []byte {
		if err := b.WriteIndex(images); err != nil {
			t.Fatalf("WriteIndex = %v", err)
		}
		data, _ := os.ReadFile(filepath.Join(b.Dir(), "index.json"))
		return data
	}
	first := write(app.image, db.image)
	if second := write(db.image, app.image); string(first) != string(second) {
		t.Errorf("WriteIndex is not deterministic:\n%s\n%s", first, second)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(first, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 2 {
		t.Fatalf("index.json lists %d manifests, want 2", len(idx.Manifests))
	}
	got := idx.Manifests[0] // "db:2" sorts first
	if got.Digest != db.image.Desc.Digest || got.Annotations[ocispec.AnnotationRefName] != "db:2" ||
		got.Annotations["io.containerd.image.name"] != "db:2" {
		t.Errorf("index.json manifests[0] = %+v", got)
	}
	if names := dirEntries(t, b.tmp); len(names) != 0 {
		t.Errorf("tmp holds %v", names)
	}
}

// TestStore_WriteIndexSkopeo has skopeo, an independent reader, inspect
// an image from the store by the name ferry ls shows.
func TestStore_WriteIndexSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("skopeo is required under CI: %v", err)
		}
		t.Skipf("skopeo not installed: %v", err)
	}
	b := newStore(t)
	im := newTestImage(t, "example.com/app:1.0", 3)
	for _, d := range im.blobs {
		ingest(t, b, d, im.data[d.Digest])
	}
	if err := b.WriteIndex([]runtime.Image{im.image}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(skopeo, "inspect", "oci:"+b.Dir()+":example.com/app:1.0").CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	var got struct {
		Digest       string
		Architecture string
		Layers       []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("skopeo output: %v\n%s", err, out)
	}
	if got.Digest != string(im.image.Desc.Digest) || len(got.Layers) != 1 || got.Layers[0] != string(im.blobs[0].Digest) {
		t.Errorf("skopeo inspect = %+v, want digest %s and layer %s", got, im.image.Desc.Digest, im.blobs[0].Digest)
	}
}
