package delta_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// A sender that holds version 1 of a layer ships version 2 as a delta; a
// site that holds version 1 rebuilds version 2 into its store.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "delta-example-")
	defer os.RemoveAll(dir)
	open := func(name string) *store.Store {
		b, _ := store.Open(filepath.Join(dir, name, "store"), filepath.Join(dir, name, "tmp"))
		return b
	}
	sender, site := open("hq"), open("plant-7")

	layer := func(t deltatest.Tree) ([]byte, ocispec.Descriptor) {
		var b bytes.Buffer
		t.Layer(&b, deltatest.GoGzip, deltatest.Epoch)
		return b.Bytes(), ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(b.Bytes()), Size: int64(b.Len())}
	}
	v1 := deltatest.App(1, 20, 50<<10)
	old, oldDesc := layer(v1)
	next, nextDesc := layer(v1.Next(2, 1, 1, 0))
	sender.Ingest(ctx, oldDesc, bytes.NewReader(old))
	site.Ingest(ctx, oldDesc, bytes.NewReader(old))

	// The sender: build and prove.
	var d bytes.Buffer
	res, err := delta.Build(ctx, &d, delta.Layer{Desc: nextDesc, Blob: bytes.NewReader(next)},
		[]ocispec.Descriptor{oldDesc}, sender, delta.Options{Scratch: filepath.Join(dir, "hq", "tmp")})
	if err != nil {
		fmt.Println("ships whole:", err)
		return
	}
	fmt.Printf("delta under 10%% of the layer: %v; recipe: %s level %d\n",
		d.Len()*10 < len(next), res.Delta.Recipe.Encoder, res.Delta.Recipe.Level)

	// The site: rebuild, verified, into its store.
	in := delta.Input{Blob: nextDesc, Delta: res.Delta, Bases: []ocispec.Descriptor{oldDesc}, Store: site,
		Scratch: filepath.Join(dir, "plant-7", "tmp")}
	rc := delta.Open(ctx, &d, in)
	defer rc.Close()
	_, err = site.Ingest(ctx, nextDesc, rc)
	fmt.Println("rebuilt with the layer's digest:", err == nil)
	// Output:
	// delta under 10% of the layer: true; recipe: go-flate@go1.26 level 6
	// rebuilt with the layer's digest: true
}
