package delta

import (
	"cmp"
	"context"
	"io"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// action is what the delta does with one file of the new layer.
type action struct {
	kind byte // opCopy, opPatch, or 0: its bytes travel as they are
	ref  int
}

// deltaPlan is the decision for every file of the new layer, by ordinal,
// and the base files it refers to, sorted by base and ordinal.
type deltaPlan struct {
	actions map[int64]action
	refs    []ref
}

// source is a base file some new file can use.
type source struct {
	base    int
	ordinal int64
	size    int64
	digest  [32]byte
}

// plan reads every base once, hashing its files, and chooses for each new
// file: a base file with the same content (copy), else the base file at
// the same path (patch, if the file is not tiny), else its own bytes.
// Memory grows with the new layer's files only.
func plan(ctx context.Context, store Fetcher, bases []ocispec.Descriptor, t *target, patches bool) (*deltaPlan, error) {
	byDigest := map[[32]byte]*source{}
	byPath := map[uint64]*source{}
	for _, f := range t.files {
		byDigest[f.digest] = nil
		byPath[f.pathHash] = nil
	}
	for k, base := range bases {
		if err := scanBase(ctx, store, k, base, byDigest, byPath); err != nil {
			return nil, err
		}
	}
	p := &deltaPlan{actions: map[int64]action{}}
	index := map[source]int{}
	use := func(s *source) int {
		if i, ok := index[*s]; ok {
			return i
		}
		index[*s] = len(p.refs)
		p.refs = append(p.refs, ref{base: s.base, ordinal: s.ordinal, size: s.size, digest: s.digest})
		return len(p.refs) - 1
	}
	for _, f := range t.files {
		if s := byDigest[f.digest]; s != nil {
			p.actions[f.ordinal] = action{kind: opCopy, ref: use(s)}
		} else if s := byPath[f.pathHash]; patches && s != nil && f.size >= minPatch {
			p.actions[f.ordinal] = action{kind: opPatch, ref: use(s)}
		}
	}
	p.sortRefs()
	return p, nil
}

// scanBase hashes base k's files and records those the new layer can use.
func scanBase(ctx context.Context, store Fetcher, k int, base ocispec.Descriptor, byDigest map[[32]byte]*source, byPath map[uint64]*source) error {
	tarball, done, err := openLayer(ctx, store, base)
	if err != nil {
		return err
	}
	werr := walkTar(tarball, nil, func(f *file, _ string, content io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := hashFile(f, content); err != nil {
			return err
		}
		s := &source{base: k, ordinal: f.ordinal, size: f.size, digest: f.digest}
		if old, ok := byDigest[f.digest]; ok && old == nil {
			byDigest[f.digest] = s
		}
		if old, ok := byPath[f.pathHash]; ok && old == nil {
			byPath[f.pathHash] = s
		}
		return nil
	})
	if err := done(); err != nil {
		return err
	}
	if werr != nil {
		return wrapBase(base, werr)
	}
	return nil
}

// sortRefs puts the refs in base and entry order (one pass over each base
// finds them) and renumbers the actions.
func (p *deltaPlan) sortRefs() {
	order := make([]int, len(p.refs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ra, rb := p.refs[a], p.refs[b]
		return cmp.Or(cmp.Compare(ra.base, rb.base), cmp.Compare(ra.ordinal, rb.ordinal))
	})
	renumber := make([]int, len(p.refs))
	sorted := make([]ref, len(p.refs))
	for newIdx, old := range order {
		renumber[old] = newIdx
		sorted[newIdx] = p.refs[old]
	}
	p.refs = sorted
	for o, a := range p.actions {
		a.ref = renumber[a.ref]
		p.actions[o] = a
	}
}
