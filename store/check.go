package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Problem is one fault Check found.
type Problem struct {
	Digest digest.Digest `json:"digest,omitempty"`
	Image  string        `json:"image,omitempty"`
	Kind   string        `json:"kind"` // one of the Problem kinds
	What   string        `json:"what"` // human text, e.g. "in catalog but not on disk"
}

// Problem kinds.
const (
	// ProblemMissing: a recorded blob has no file.
	ProblemMissing = "missing"
	// ProblemDamaged: a recorded blob's file has another size, or (with
	// readData) other bytes, than its name promises.
	ProblemDamaged = "damaged"
	// ProblemImage: a recorded image lists a blob the store lacks.
	ProblemImage = "image"
	// ProblemUnreferenced: a file no record describes, left by a save or
	// load that was killed or ran out of disk after ingesting it. It is
	// verified (ingest renames only verified bytes), harmless, and gc
	// removes it.
	ProblemUnreferenced = "unreferenced"
)

// Harmless reports whether p is only an unreferenced file.
func (p Problem) Harmless() bool { return p.Kind == ProblemUnreferenced }

// Check compares the catalog with the files: a recorded blob missing on
// disk or of another size, a file no record describes, an image lacking
// a blob. With readData it also re-hashes every recorded blob of the
// right size. progress, if not nil, is called with bytes hashed out of
// the total when readData, else with blobs checked out of the total.
// Problems come sorted by image, digest and text; the error is for
// faults that stopped the check itself.
func (h *Home) Check(ctx context.Context, readData bool, progress func(done, total int64)) ([]Problem, error) {
	onDisk := map[digest.Digest]int64{}
	if err := h.Store.Walk(func(d digest.Digest, size int64) error { onDisk[d] = size; return nil }); err != nil {
		return nil, fmt.Errorf("check %s: %w", h.Dir, err)
	}
	recorded := map[digest.Digest]int64{}
	if err := h.Catalog.Blobs(func(r BlobRecord) error { recorded[r.Digest] = r.Size; return nil }); err != nil {
		return nil, fmt.Errorf("check %s: %w", h.Dir, err)
	}
	problems := compareBlobs(onDisk, recorded)
	imageProblems, err := h.checkImages(onDisk, recorded)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", h.Dir, err)
	}
	problems = append(problems, imageProblems...)
	dataProblems, err := h.checkData(ctx, onDisk, recorded, readData, progress)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", h.Dir, err)
	}
	problems = append(problems, dataProblems...)
	slices.SortFunc(problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Image, b.Image), cmp.Compare(a.Digest, b.Digest), cmp.Compare(a.What, b.What))
	})
	return problems, nil
}

// compareBlobs finds records without files, files without records and
// size disagreements.
func compareBlobs(onDisk, recorded map[digest.Digest]int64) []Problem {
	var out []Problem
	for d, want := range recorded {
		got, ok := onDisk[d]
		switch {
		case !ok:
			out = append(out, Problem{Digest: d, Kind: ProblemMissing, What: "in catalog but not on disk"})
		case got != want:
			out = append(out, Problem{Digest: d, Kind: ProblemDamaged, What: fmt.Sprintf("size on disk %d, catalog %d", got, want)})
		}
	}
	for d := range onDisk {
		if _, ok := recorded[d]; !ok {
			out = append(out, Problem{Digest: d, Kind: ProblemUnreferenced, What: "on disk but not in catalog: unreferenced, harmless; ferry gc removes it"})
		}
	}
	return out
}

// checkImages finds images that list a blob the store lacks.
func (h *Home) checkImages(onDisk, recorded map[digest.Digest]int64) ([]Problem, error) {
	images, err := h.Catalog.Images()
	if err != nil {
		return nil, err
	}
	var out []Problem
	for _, im := range images {
		for _, d := range distinct(im.Blobs) {
			_, disk := onDisk[d]
			_, rec := recorded[d]
			if !disk || !rec {
				out = append(out, Problem{Digest: d, Image: im.Name, Kind: ProblemImage,
					What: fmt.Sprintf("image %s lacks blob %s", im.Name, d)})
			}
		}
	}
	return out, nil
}

// checkData re-hashes (with readData) every recorded blob whose file has
// the recorded size, and reports progress.
func (h *Home) checkData(ctx context.Context, onDisk, recorded map[digest.Digest]int64,
	readData bool, progress func(done, total int64)) ([]Problem, error) {
	var todo []digest.Digest
	var total int64
	for d, size := range recorded {
		if got, ok := onDisk[d]; ok && got == size {
			todo = append(todo, d)
			total += size
		}
	}
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if !readData {
		progress(int64(len(recorded)), int64(len(recorded)))
		return nil, nil
	}
	slices.Sort(todo)
	var done int64
	var out []Problem
	for _, d := range todo {
		err := h.Store.verify(ctx, d, func(n int64) { done += n; progress(done, total) })
		var verr *spec.VerifyError
		switch {
		case errors.As(err, &verr) && verr.GotDigest == "":
			out = append(out, Problem{Digest: d, Kind: ProblemDamaged, What: "size changed while checking"})
		case errors.As(err, &verr):
			out = append(out, Problem{Digest: d, Kind: ProblemDamaged, What: "digest mismatch: got " + string(verr.GotDigest)})
		case errors.Is(err, spec.ErrNotFound):
			out = append(out, Problem{Digest: d, Kind: ProblemMissing, What: "in catalog but not on disk"})
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}
