package trip

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta"
)

// DeltaOptions say where Plan.Deltas looks for the bases of deltas: the
// layers the destination holds that the sender can read.
type DeltaOptions struct {
	// Home is the sender's: its catalog says what the site holds, its
	// store serves the bases it holds, and its tmp/ holds the work files
	// (Plan.Close removes them). Required.
	Home *store.Home
	// Site is the destination (save --for), "" for none: the layers it
	// holds are candidates, and a layer whose delta failed there
	// (store.NoDelta) ships whole.
	Site string
	// OnlyConfirmed counts as held only the layers a receipt confirmed.
	OnlyConfirmed bool
	// Bases are the --since and --exclude images: their layers are
	// candidates too.
	Bases []Base
	// Note, if set, hears of each layer as its delta is worked on.
	Note func(msg string)
}

// minSaving: a delta ships only if it saves at least 1/minSaving of its
// layer's bytes; for less, the layer travels whole, which the site takes
// without rebuilding anything.
const minSaving = 8

// layerDelta is what Deltas decided for one layer the destination lacks.
type layerDelta struct {
	result *delta.Result // the delta shipped; nil: the layer ships whole
	path   string        // the delta's file
}

// Deltas ships as a delta (spec/delta-v1.md) each layer the destination
// lacks that a delta rebuilds exactly and is smaller than. For each, one
// layer at a time, it offers delta.Rank the layers the destination holds
// (those of the same repository first), builds the delta on the best and
// proves it (delta.Build) in the home's tmp/. A layer it does not ship as
// a delta ships whole, as before, and the plan says why (Report). Only a
// cancelled context or a fault of the home is an error; Close removes the
// work files.
func (p *Plan) Deltas(ctx context.Context, o DeltaOptions) error {
	p.note = o.Note
	lacked := p.lackedLayers()
	if len(lacked) == 0 {
		return nil
	}
	cands, err := p.candidates(o)
	if err != nil {
		return err
	}
	failed := map[digest.Digest]store.NoDelta{}
	if o.Site != "" {
		if failed, err = o.Home.Catalog.NoDeltas(o.Site, lacked); err != nil {
			return err
		}
	}
	if p.work, err = o.Home.Scratch(); err != nil {
		return err
	}
	f := &baseFetcher{store: o.Home.Store, dir: p.work, from: map[digest.Digest]runtime.Fetcher{}, spooled: map[digest.Digest]string{}}
	f.ranker = &delta.Ranker{Store: f}
	for _, c := range cands {
		if c.from != nil {
			f.from[c.desc.Digest] = c.from
		}
	}
	repos := p.layerRepositories()
	for _, d := range lacked {
		if err := ctx.Err(); err != nil {
			return err
		}
		if n, ok := failed[d]; ok {
			p.whole(d, fmt.Sprintf("its delta in bundle %s (sequence %d) did not rebuild at the site", n.Bundle, n.Sequence))
			continue
		}
		offered := p.offer(cands, d, repos[d])
		if len(offered) == 0 {
			p.why[d] = "no layer the destination holds to build a delta on: shipped whole" // said of most layers of a first trip: not noted
			continue
		}
		if err := p.buildDelta(ctx, d, offered, repos[d], f, o); err != nil {
			return err
		}
	}
	format.Order(p.Blobs)
	return nil
}

// Close removes the work files of Deltas: the deltas, and the layers and
// bases it read from far sources.
func (p *Plan) Close() error {
	if p.work == "" {
		return nil
	}
	return os.RemoveAll(p.work)
}

// lackedLayers lists the layers the plan ships whole.
func (p *Plan) lackedLayers() []digest.Digest {
	var out []digest.Digest
	for _, b := range p.Blobs {
		if b.Status == spec.StatusShipped && b.Kind == spec.KindBlob && p.Role(b.Digest) == RoleLayer {
			out = append(out, b.Digest)
		}
	}
	return out
}

// whole records why layer d ships whole, and says it.
func (p *Plan) whole(d digest.Digest, why string) {
	p.why[d] = why + ": shipped whole"
	if p.note != nil {
		p.note(fmt.Sprintf("layer %s %s", d, p.why[d]))
	}
}

// buildDelta builds and proves the delta of layer d on the best of
// offered, and ships it if delta.Build succeeds; else d ships whole,
// saying why.
func (p *Plan) buildDelta(ctx context.Context, d digest.Digest, offered []candidate, repos []string, f *baseFetcher, o DeltaOptions) error {
	i := p.blobIndex(d)
	desc := ocispec.Descriptor{MediaType: p.Blobs[i].MediaType, Digest: d, Size: p.Blobs[i].Size}
	note := func(format string, a ...any) {
		if o.Note != nil {
			o.Note(fmt.Sprintf("layer %s (%d bytes): ", d, desc.Size) + fmt.Sprintf(format, a...))
		}
	}
	blob, err := p.layerFile(ctx, desc, o.Home)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.whole(d, "its bytes could not be read for a delta: "+err.Error())
		return nil
	}
	defer blob.Close()
	layer := delta.Layer{Desc: desc, Blob: blob}
	f.source = p.from[d].from
	note("looking for bases among %d layer(s) the destination holds", len(offered))
	ranked, err := f.ranker.Rank(ctx, layer, rankCandidates(offered, repos), maxBases)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		p.whole(d, fmt.Sprintf("%s: %v", delta.NotATar, err))
		return nil
	case len(ranked) == 0:
		p.whole(d, "no layer the destination holds shares its files")
		return nil
	}
	bases := make([]ocispec.Descriptor, len(ranked))
	for k, r := range ranked {
		bases[k] = r.Layer
	}
	note("building a delta on %d base(s)", len(bases))
	res, path, err := p.writeDelta(ctx, layer, bases, f)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if reason, skip := delta.IsSkip(err); skip {
		p.whole(d, skipReason(reason, err))
		return nil
	}
	if err != nil {
		p.whole(d, "its delta failed: "+err.Error())
		return nil
	}
	if res.Delta.Size > desc.Size-desc.Size/minSaving {
		os.Remove(path)
		p.whole(d, fmt.Sprintf("a delta of %d bytes would save under 1/%d of the layer", res.Delta.Size, minSaving))
		return nil
	}
	p.useDelta(i, res, path, offered)
	note("ships as a delta of %d bytes", res.Delta.Size)
	return nil
}

// writeDelta builds the delta into a file of the work directory.
func (p *Plan) writeDelta(ctx context.Context, layer delta.Layer, bases []ocispec.Descriptor, f *baseFetcher) (*delta.Result, string, error) {
	out, err := os.CreateTemp(p.work, "delta-*")
	if err != nil {
		return nil, "", err
	}
	res, err := delta.Build(ctx, out, layer, bases, f, delta.Options{Scratch: p.work})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return nil, "", err
	}
	return res, out.Name(), nil
}

// skipReason says in a user's words why delta.Build declined.
func skipReason(r delta.Reason, err error) string {
	switch r {
	case delta.NoRecipe:
		return "written by an encoder ferry cannot reproduce"
	case delta.NoSharedContent:
		return "it shares no file with the layers the destination holds"
	case delta.NotSmaller:
		return "a delta would not be smaller than the layer"
	}
	return err.Error()
}

// useDelta ships blob i as the delta res, at path, with each base a
// prerequisite of the bundle.
func (p *Plan) useDelta(i int, res *delta.Result, path string, offered []candidate) {
	b := &p.Blobs[i]
	b.Kind, b.Delta = spec.KindDelta, &res.Delta
	saved := b.Size - res.Delta.Size
	p.Bytes -= saved
	p.Saved += saved
	p.deltas[b.Digest] = layerDelta{result: res, path: path}
	p.why[b.Digest] = fmt.Sprintf("as a delta on %d base(s) the destination holds", len(res.Delta.Bases))
	listed := map[digest.Digest]bool{}
	for _, bl := range p.Blobs {
		listed[bl.Digest] = true
	}
	for _, base := range res.Delta.Bases {
		if listed[base] {
			continue // a layer of the bundle's images that the destination holds: a prerequisite already
		}
		for _, c := range offered {
			if c.desc.Digest == base {
				pre := c.held
				pre.Digest, pre.Size, pre.MediaType = base, c.desc.Size, c.desc.MediaType
				pre.Kind, pre.Status = spec.KindBlob, spec.StatusPrerequisite
				p.Blobs = append(p.Blobs, pre)
				listed[base] = true
			}
		}
	}
}

func (p *Plan) blobIndex(d digest.Digest) int {
	for i, b := range p.Blobs {
		if b.Digest == d {
			return i
		}
	}
	return -1
}

// layerFile opens layer desc for delta.Build, which reads it several
// times: the store's file, or a copy fetched from its source into the work
// directory, verified, which Save then ships if the delta is declined.
func (p *Plan) layerFile(ctx context.Context, desc ocispec.Descriptor, h *store.Home) (*os.File, error) {
	if n, err := h.Store.Stat(desc.Digest); err == nil && n == desc.Size {
		if path, err := h.Store.BlobFile(desc.Digest); err == nil {
			return os.Open(path)
		}
	}
	f, err := spool(ctx, p, p.work, "layer-*", desc)
	if err != nil {
		return nil, err
	}
	p.spools[desc.Digest] = f.Name()
	return f, nil
}

// spool fetches desc from src into a new file of dir, verified, and
// returns it open at its start; nothing is left on a mismatch.
func spool(ctx context.Context, src runtime.Fetcher, dir, pattern string, desc ocispec.Descriptor) (*os.File, error) {
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(f, spec.Verify(rc, desc.Digest, desc.Size))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return f, nil
}

// baseFetcher serves the bases of deltas: from the store when it holds
// them, else from their source (a --since image's, or the source of the
// layer being built, which often serves its repository's earlier layers
// too), each fetched once into the work directory, verified.
type baseFetcher struct {
	store   *store.Store
	dir     string
	from    map[digest.Digest]runtime.Fetcher
	source  runtime.Fetcher // of the layer being built
	spooled map[digest.Digest]string
	// ranker ranks candidates through this fetcher, reading each once
	// for all the layers of the save.
	ranker *delta.Ranker
}

func (f *baseFetcher) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if path, ok := f.spooled[desc.Digest]; ok {
		return os.Open(path)
	}
	if n, err := f.store.Stat(desc.Digest); err == nil && n == desc.Size {
		return f.store.Fetch(ctx, desc)
	}
	src := f.from[desc.Digest]
	if src == nil {
		src = f.source
	}
	if src == nil {
		return nil, fmt.Errorf("base %s: %w", desc.Digest, spec.ErrNotFound)
	}
	file, err := spool(ctx, src, f.dir, "base-*", desc)
	if err != nil {
		return nil, err
	}
	f.spooled[desc.Digest] = file.Name()
	return file, nil
}
