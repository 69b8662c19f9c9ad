package trip

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Import copies images into h's store, each blob verified as it is
// ingested (one the store holds is not fetched again), and records them in
// one catalog transaction. It returns the names recorded. A site runs it
// for `receipt create --include RUNTIME:`, so that what its runtime holds
// is in the store and the receipt that says so is true, and `ferry pull`.
// prog, if not nil, is told of each blob fetched.
func Import(ctx context.Context, h *store.Home, inputs []Input, prog Progress) ([]string, error) {
	now := time.Now().UTC()
	var blobs []store.BlobRecord
	var images []store.ImageRecord
	for _, in := range inputs {
		rec, recs, err := importImage(ctx, h, in, now, prog)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", in.Image, err)
		}
		blobs = append(blobs, recs...)
		images = append(images, rec)
	}
	if err := h.Catalog.Record(ctx, blobs, images, nil); err != nil {
		return nil, err
	}
	if err := h.SyncIndex(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(images))
	for _, im := range images {
		names = append(names, im.Name)
	}
	sort.Strings(names)
	return names, nil
}

// importImage walks in's graph once, reads its configs, and ingests every
// blob (the manifests and configs from the graph, the layers fetched),
// returning the image's record and its blobs'.
func importImage(ctx context.Context, h *store.Home, in Input, now time.Time, prog Progress) (store.ImageRecord, []store.BlobRecord, error) {
	img := in.Image
	rec := store.ImageRecord{Name: img.Name, Digest: img.Desc.Digest, MediaType: img.Desc.MediaType, Size: img.Desc.Size, Updated: now}
	if rec.Name == "" {
		rec.Name = string(img.Desc.Digest)
	}
	g, err := runtime.Walk(ctx, in.From, img, nil)
	if err != nil {
		return rec, nil, err
	}
	if err := g.ReadConfigs(ctx, in.From); err != nil {
		return rec, nil, err
	}
	src := g.Fetcher(in.From)
	ids := g.DiffIDs()
	var recs []store.BlobRecord
	for _, b := range g.Blobs() {
		if err := ingest(ctx, h, src, b.Desc, prog); err != nil {
			return rec, nil, err
		}
		recs = append(recs, store.BlobRecord{Digest: b.Desc.Digest, Size: b.Desc.Size, MediaType: b.Desc.MediaType,
			Added: now, DiffID: ids[b.Desc.Digest]})
		rec.Blobs = append(rec.Blobs, b.Desc.Digest)
	}
	if rec.Platforms, err = g.Platforms(ctx, in.From); err != nil {
		return rec, nil, err
	}
	return rec, recs, nil
}

// ingest puts one blob in the store unless it is there already.
func ingest(ctx context.Context, h *store.Home, f runtime.Fetcher, desc ocispec.Descriptor, prog Progress) error {
	if n, err := h.Store.Stat(desc.Digest); err == nil && n == desc.Size {
		return nil
	}
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if prog != nil {
		prog.Blob(desc.Digest, desc.Size)
		r = &countingReader{r: rc, p: prog}
	}
	_, err = h.Store.Ingest(ctx, desc, r)
	return err
}
