package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
)

// GCResult is what GC removed, or would remove on a dry run.
type GCResult struct {
	Removed []digest.Digest `json:"removed"` // sorted; never nil
	Bytes   int64           `json:"bytes"`
}

// GC removes every blob, on disk or in the catalog, that no image record
// lists in its Blobs, then rewrites index.json. Catalog rows go first, in
// one transaction, then the files, so that a crash never leaves a row
// without its file. With dryRun it only reports.
func (h *Home) GC(ctx context.Context, dryRun bool) (GCResult, error) {
	garbage, err := h.garbage()
	if err != nil {
		return GCResult{}, fmt.Errorf("gc %s: %w", h.Dir, err)
	}
	res := GCResult{Removed: []digest.Digest{}}
	for _, d := range slices.Sorted(maps.Keys(garbage)) {
		res.Removed = append(res.Removed, d)
		res.Bytes += garbage[d]
	}
	if dryRun || len(res.Removed) == 0 {
		return res, nil
	}
	if err := h.Catalog.DeleteBlobs(res.Removed); err != nil {
		return GCResult{}, fmt.Errorf("gc %s: %w", h.Dir, err)
	}
	for _, d := range res.Removed {
		if err := ctx.Err(); err != nil {
			return res, err // the rest are orphan files: the next gc takes them
		}
		if err := h.Store.Delete(d); err != nil {
			return res, fmt.Errorf("gc %s: %w", h.Dir, err)
		}
	}
	return res, h.SyncIndex()
}

// garbage maps each unreferenced blob to its size (on disk if there,
// else as recorded).
func (h *Home) garbage() (map[digest.Digest]int64, error) {
	used, err := h.referenced()
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest]int64{}
	err = h.Catalog.Blobs(func(r BlobRecord) error {
		if !used[r.Digest] {
			out[r.Digest] = r.Size
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = h.Store.Walk(func(d digest.Digest, size int64) error {
		if !used[d] {
			out[d] = size
		}
		return nil
	})
	return out, err
}

// referenced is the set of blobs some image record lists.
func (h *Home) referenced() (map[digest.Digest]bool, error) {
	images, err := h.Catalog.Images()
	if err != nil {
		return nil, err
	}
	used := map[digest.Digest]bool{}
	for _, im := range images {
		for _, d := range im.Blobs {
			used[d] = true
		}
	}
	return used, nil
}

// DiskUsage returns the bytes of all blob files, and per image the bytes
// of its blobs (perImage) and of the blobs no other image uses (unique).
// Sizes are those on disk; a blob missing on disk counts as recorded.
func (h *Home) DiskUsage() (total int64, perImage, unique map[string]int64, err error) {
	sizes := map[digest.Digest]int64{}
	err = h.Catalog.Blobs(func(r BlobRecord) error { sizes[r.Digest] = r.Size; return nil })
	if err == nil {
		err = h.Store.Walk(func(d digest.Digest, size int64) error { sizes[d] = size; total += size; return nil })
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("du %s: %w", h.Dir, err)
	}
	images, err := h.Catalog.Images()
	if err != nil {
		return 0, nil, nil, fmt.Errorf("du %s: %w", h.Dir, err)
	}
	users := map[digest.Digest]int{}
	for _, im := range images {
		for _, d := range distinct(im.Blobs) {
			users[d]++
		}
	}
	perImage, unique = map[string]int64{}, map[string]int64{}
	for _, im := range images {
		for _, d := range distinct(im.Blobs) {
			perImage[im.Name] += sizes[d]
			if users[d] == 1 {
				unique[im.Name] += sizes[d]
			}
		}
	}
	return total, perImage, unique, nil
}

func distinct(ds []digest.Digest) []digest.Digest {
	return slices.Compact(slices.Sorted(slices.Values(ds)))
}
