package trip

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/store"
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

func importImage(ctx context.Context, h *store.Home, in Input, now time.Time, prog Progress) (store.ImageRecord, []store.BlobRecord, error) {
	img := in.Image
	rec := store.ImageRecord{Name: img.Name, Digest: img.Desc.Digest, MediaType: img.Desc.MediaType, Size: img.Desc.Size, Updated: now}
	if rec.Name == "" {
		rec.Name = string(img.Desc.Digest)
	}
	all, err := runtime.Collect(ctx, in.From, []runtime.Image{img})
	if err != nil {
		return rec, nil, err
	}
	var recs []store.BlobRecord
	for _, b := range all {
		if err := ingest(ctx, h, in.From, b, prog); err != nil {
			return rec, nil, err
		}
		recs = append(recs, store.BlobRecord{Digest: b.Desc.Digest, Size: b.Desc.Size, MediaType: b.Desc.MediaType, Added: now})
		rec.Blobs = append(rec.Blobs, b.Desc.Digest)
	}
	if rec.Platforms, err = runtime.Platforms(ctx, in.From, img.Desc); err != nil {
		return rec, nil, err
	}
	ids, err := diffIDs(ctx, in.From, img.Desc)
	if err != nil {
		return rec, nil, err
	}
	for i := range recs {
		recs[i].DiffID = ids[recs[i].Digest]
	}
	return rec, recs, nil
}

// ingest puts one blob in the store unless it is there already.
func ingest(ctx context.Context, h *store.Home, f runtime.Fetcher, b runtime.Blob, prog Progress) error {
	if n, err := h.Blobs.Stat(b.Desc.Digest); err == nil && n == b.Desc.Size {
		return nil
	}
	var rc io.ReadCloser
	if b.Data != nil {
		rc = io.NopCloser(bytes.NewReader(b.Data))
	} else {
		var err error
		if rc, err = f.Fetch(ctx, b.Desc); err != nil {
			return err
		}
	}
	defer rc.Close()
	var r io.Reader = rc
	if prog != nil {
		prog.Blob(b.Desc.Digest, b.Desc.Size)
		r = &countingReader{r: rc, p: prog}
	}
	_, err := h.Blobs.Ingest(ctx, b.Desc, r)
	return err
}
