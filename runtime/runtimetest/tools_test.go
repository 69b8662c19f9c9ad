package runtimetest

import (
	"context"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
)

func TestUmociImage_Deterministic(t *testing.T) {
	a := UmociImage(t, filepath.Join(t.TempDir(), "a"), "v1", 42, 3, 512)
	b := UmociImage(t, filepath.Join(t.TempDir(), "b"), "v1", 42, 3, 512)
	if a.Digest != b.Digest {
		t.Errorf("UmociImage(seed 42) twice = %s and %s, want equal", a.Digest, b.Digest)
	}
	dir := filepath.Join(t.TempDir(), "c")
	c := UmociImage(t, dir, "v1", 43, 3, 512)
	if c.Digest == a.Digest {
		t.Errorf("UmociImage(seed 43) = UmociImage(seed 42)")
	}
	var layers int
	err := runtime.Walk(context.Background(), DirFetcher(dir), c, func(d ocispec.Descriptor, data []byte) error {
		if d.MediaType == ocispec.MediaTypeImageLayerGzip {
			layers++
		}
		return nil
	})
	if err != nil || layers != 3 {
		t.Errorf("UmociImage(3 layers) has %d layers, %v", layers, err)
	}
	if got := SkopeoDigest(t, "oci:"+dir+":v1"); got != c.Digest {
		t.Errorf("SkopeoDigest = %s, want %s", got, c.Digest)
	}
}
