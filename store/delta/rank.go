package delta

import (
	"cmp"
	"context"
	"io"
	"math"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
)

// Candidate is a layer the destination holds (and the sender's store
// too) on which a new layer might be built.
type Candidate struct {
	Layer ocispec.Descriptor
	// SameRepository: the layer is in an earlier image of the new layer's
	// repository, the likeliest base of a rebuilt layer.
	SameRepository bool
}

// Ranked is a candidate and how much of the new layer it holds: the share
// of the new layer's file bytes at paths the candidate has too.
type Ranked struct {
	Candidate
	Shared float64
}

// maxExamined caps the candidates Rank reads: each costs a decompression.
const maxExamined = 16

// Rank orders candidates as bases for layer: those of the same repository
// first, then by the share of the new layer's file bytes at paths they
// hold. It drops candidates that share nothing (or cannot be read) and
// keeps at most max (spec.MaxDeltaBases if max is 0). It reads the new
// layer's tar once and at most 16 candidates, the same repository's and
// those nearest in size first, each verified against its digest.
func Rank(ctx context.Context, layer Layer, store Fetcher, cands []Candidate, max int) ([]Ranked, error) {
	return (&Ranker{Store: store}).Rank(ctx, layer, cands, max)
}

// Ranker is Rank for the layers of one save: it keeps each candidate's
// file paths (8 bytes a path, at most maxKeptPaths in all), so that a
// candidate offered for several new layers is read once.
type Ranker struct {
	Store Fetcher
	paths map[digest.Digest][]uint64 // a candidate's path hashes, sorted, each once
	kept  int
}

// maxKeptPaths caps the paths a Ranker keeps: 8 MiB.
const maxKeptPaths = 1 << 20

// Rank is the package's Rank, reading candidates through r.
func (r *Ranker) Rank(ctx context.Context, layer Layer, cands []Candidate, max int) ([]Ranked, error) {
	if max <= 0 || max > spec.MaxDeltaBases {
		max = spec.MaxDeltaBases
	}
	paths, total, err := layerPaths(layer)
	if err != nil || total == 0 {
		return nil, err
	}
	cands = slices.Clone(cands)
	slices.SortStableFunc(cands, Promising(layer.Desc.Size))
	var out []Ranked
	for _, c := range cands[:min(len(cands), maxExamined)] {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held, err := r.candidatePaths(ctx, c.Layer)
		if err != nil {
			continue // a candidate that cannot be read is no base
		}
		var shared int64
		for _, h := range held {
			shared += paths[h]
		}
		if shared > 0 {
			out = append(out, Ranked{Candidate: c, Shared: float64(shared) / float64(total)})
		}
	}
	slices.SortStableFunc(out, func(a, b Ranked) int {
		if a.SameRepository != b.SameRepository {
			return boolOrder(a.SameRepository)
		}
		return cmp.Compare(b.Shared, a.Shared)
	})
	return out[:min(len(out), max)], nil
}

// Promising orders candidates for a layer of size bytes as Rank examines
// them: the same repository's first, then those nearest in size.
func Promising(size int64) func(a, b Candidate) int {
	return func(a, b Candidate) int {
		if a.SameRepository != b.SameRepository {
			return boolOrder(a.SameRepository)
		}
		return cmp.Compare(sizeDistance(a.Layer.Size, size), sizeDistance(b.Layer.Size, size))
	}
}

func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

func sizeDistance(a, b int64) float64 {
	return math.Abs(math.Log(float64(max(a, 1)) / float64(max(b, 1))))
}

// layerPaths maps the new layer's file paths (hashed) to their sizes.
func layerPaths(layer Layer) (map[uint64]int64, int64, error) {
	raw, _, err := recompress.Open(io.NewSectionReader(layer.Blob, 0, layer.Desc.Size))
	if err != nil {
		return nil, 0, err
	}
	defer raw.Close()
	paths := map[uint64]int64{}
	var total int64
	err = walkTar(raw, nil, func(f *file, _ string, _ io.Reader) error {
		if len(paths) < maxRefs {
			paths[f.pathHash] = f.size
			total += f.size
		}
		return nil
	})
	return paths, total, err
}

// candidatePaths returns the path hashes of the files of candidate desc,
// each once, sorted: kept from an earlier call, or read now.
func (r *Ranker) candidatePaths(ctx context.Context, desc ocispec.Descriptor) ([]uint64, error) {
	if held, ok := r.paths[desc.Digest]; ok {
		return held, nil
	}
	tarball, done, err := openLayer(ctx, r.Store, desc)
	if err != nil {
		return nil, err
	}
	var held []uint64
	werr := walkTar(tarball, nil, func(f *file, _ string, _ io.Reader) error {
		if len(held) < maxRefs {
			held = append(held, f.pathHash)
		}
		return nil
	})
	if err := done(); err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	slices.Sort(held)
	held = slices.Compact(held)
	if r.kept+len(held) <= maxKeptPaths {
		if r.paths == nil {
			r.paths = map[digest.Digest][]uint64{}
		}
		r.paths[desc.Digest], r.kept = held, r.kept+len(held)
	}
	return held, nil
}
