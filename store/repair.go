package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/opencontainers/go-digest"
)

// RepairResult is what Repair removed.
type RepairResult struct {
	Blobs  []digest.Digest `json:"blobs"`  // damaged or missing, sorted
	Images []string        `json:"images"` // that needed one of them, sorted
}

// Repair makes the store consistent after Check found problems: every
// blob found damaged or missing loses its file and its record, and every
// image that needs one of them (or that Check found lacking a blob) loses
// its record, so that no damaged byte can be delivered and no image is
// recorded without its blobs. Images go first, then blob records, then
// files, each step leaving the catalog true, so a crash mid-way leaves
// nothing worse than fewer images. Unreferenced files are left to gc. A
// later load of any bundle that carries a removed blob (and its images)
// brings them back; the next receipt tells the sender they are missing.
func (h *Home) Repair(ctx context.Context, problems []Problem) (RepairResult, error) {
	bad := map[digest.Digest]bool{}
	drop := map[string]bool{}
	for _, p := range problems {
		switch p.Kind {
		case ProblemMissing, ProblemDamaged:
			bad[p.Digest] = true
		case ProblemImage:
			drop[p.Image] = true
		}
	}
	images, err := h.Catalog.Images()
	if err != nil {
		return RepairResult{}, fmt.Errorf("repair %s: %w", h.Dir, err)
	}
	for _, im := range images {
		if slices.ContainsFunc(im.Blobs, func(d digest.Digest) bool { return bad[d] }) {
			drop[im.Name] = true
		}
	}
	res := RepairResult{Blobs: slices.Sorted(maps.Keys(bad)), Images: slices.Sorted(maps.Keys(drop))}
	for _, name := range res.Images {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := h.Catalog.DeleteImage(name); err != nil {
			return res, fmt.Errorf("repair %s: %w", h.Dir, err)
		}
	}
	if err := h.Catalog.DeleteBlobs(res.Blobs); err != nil {
		return res, fmt.Errorf("repair %s: %w", h.Dir, err)
	}
	for _, d := range res.Blobs {
		if err := h.Store.Delete(d); err != nil {
			return res, fmt.Errorf("repair %s: %w", h.Dir, err)
		}
	}
	return res, h.SyncIndex()
}
