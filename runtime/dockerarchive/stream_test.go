package dockerarchive_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestStream streams the bytes NewTarget writes to a file, and leaves
// out exactly the layers omit names.
func TestStream(t *testing.T) {
	in, img := umoci(t, 16)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "out.tar")
	if err := dockerarchive.NewTarget(file, "").Write(ctx, []runtime.Image{img}, runtimetest.DirFetcher(in)); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(file)
	var got bytes.Buffer
	omitted, err := dockerarchive.Stream(ctx, &got, "test", []runtime.Image{img}, runtimetest.DirFetcher(in), nil)
	if err != nil || len(omitted) != 0 || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Stream = %d bytes, %v, %v; want the %d bytes Write writes", got.Len(), omitted, err, len(want))
	}
	var first dockerarchive.Layer
	got.Reset()
	omitted, err = dockerarchive.Stream(ctx, &got, "test", []runtime.Image{img}, runtimetest.DirFetcher(in), func(l dockerarchive.Layer) bool {
		if first.ChainID == "" {
			first = l
		}
		return l.ChainID == first.ChainID
	})
	if err != nil || len(omitted) != 1 || omitted[0].Digest != first.Desc.Digest || first.ChainID != first.DiffID {
		t.Fatalf("Stream omitting the first layer = %v, %v; want %s left out (ChainID = DiffID)", omitted, err, first.Desc.Digest)
	}
	if d := int64(len(want) - got.Len()); d < first.Desc.Size {
		t.Errorf("omitting a layer of %d bytes saved %d", first.Desc.Size, d)
	}
}
