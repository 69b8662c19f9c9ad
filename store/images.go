package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// Tag records the image named src also under the name dst, replacing the
// image dst named before (returned as replaced, zero when there was
// none), and rewrites index.json. Both names share every blob.
func (h *Home) Tag(ctx context.Context, src, dst string) (rec, replaced ImageRecord, err error) {
	if rec, err = h.Image(src); err != nil {
		return rec, replaced, err
	}
	if old, err := h.Catalog.Image(dst); err == nil {
		replaced = old
	}
	rec.Name, rec.Updated = dst, time.Now().UTC()
	if err := h.Catalog.Record(ctx, nil, []ImageRecord{rec}, nil); err != nil {
		return rec, replaced, fmt.Errorf("tag %s as %s: %w", spec.Quote(src), spec.Quote(dst), err)
	}
	return rec, replaced, h.SyncIndex()
}

// Remove deletes the images named, all or none, and rewrites index.json.
// Their blobs stay in the store: GC removes those no remaining image
// uses, never one another image needs.
func (h *Home) Remove(ctx context.Context, names []string) ([]ImageRecord, error) {
	var recs []ImageRecord
	for _, n := range names {
		rec, err := h.Image(n)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := h.Catalog.update(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketImages)
		for _, r := range recs {
			if err := b.Delete([]byte(r.Name)); err != nil {
				return fmt.Errorf("image %s: %w", spec.Quote(r.Name), err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rm: catalog %s: %w", h.Catalog.Path(), err)
	}
	return recs, h.SyncIndex()
}
