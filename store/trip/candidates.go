package trip

import (
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta"
)

// candidate is a layer the destination holds, on which a delta may build.
type candidate struct {
	desc ocispec.Descriptor
	// from is its source when the store lacks it (a --since image's);
	// nil: the store, else the source of the layer being built.
	from  runtime.Fetcher
	repos []string // repositories of the images it is a layer of ("" for none)
	// local: the home's store holds it (reading it downloads nothing).
	local bool
	// held is how the index lists it when it becomes a prerequisite:
	// Bundle and Sequence, or Base.
	held format.Blob
}

const (
	// maxCandidates caps the layers offered to delta.Rank for one new
	// layer: each it reads costs a decompression (and, from a registry,
	// a download).
	maxCandidates = 8
	// maxBases caps the bases of one delta.
	maxBases = 4
)

// candidates gathers the layers the destination holds: the --since and
// --exclude images' layers, and for a site the layers of the store's
// images it holds and the layers this home shipped to it.
func (p *Plan) candidates(o DeltaOptions) ([]candidate, error) {
	var out []candidate
	at := map[digest.Digest]int{}
	add := func(c candidate) {
		if i, ok := at[c.desc.Digest]; ok {
			out[i].repos = append(out[i].repos, c.repos...)
			return
		}
		at[c.desc.Digest] = len(out)
		out = append(out, c)
	}
	for _, b := range o.Bases {
		for _, d := range sortedDigests(b.found) {
			add(b.found[d])
		}
	}
	if o.Site == "" {
		return out, nil
	}
	held := func(h store.Holding) bool { return !o.OnlyConfirmed || h.State == store.StateConfirmed }
	stored, err := storeLayers(o.Home.Catalog)
	if err != nil {
		return nil, err
	}
	holdings, err := o.Home.Catalog.Holdings(o.Site, sortedDigests(stored))
	if err != nil {
		return nil, err
	}
	for _, d := range sortedDigests(stored) {
		if h, ok := holdings[d]; ok && held(h) {
			c := stored[d]
			c.held, c.local = format.Blob{Bundle: h.Bundle, Sequence: h.Sequence}, isStored(o.Home, c.desc)
			add(c)
		}
	}
	err = o.Home.Catalog.Inventory(o.Site, func(h store.Holding) error {
		if h.Layer != nil && held(h) {
			desc := ocispec.Descriptor{MediaType: h.Layer.MediaType, Digest: h.Digest, Size: h.Size}
			add(candidate{desc: desc, repos: []string{h.Layer.Repository}, local: isStored(o.Home, desc),
				held: format.Blob{Bundle: h.Bundle, Sequence: h.Sequence}})
		}
		return nil
	})
	return out, err
}

// isStored tells whether the home's store holds desc.
func isStored(h *store.Home, desc ocispec.Descriptor) bool {
	n, err := h.Store.Stat(desc.Digest)
	return err == nil && n == desc.Size
}

// isDistant tells a source that downloads what it serves (a registry).
func isDistant(f runtime.Fetcher) bool {
	d, ok := f.(runtime.Distant)
	return ok && d.FetchAhead() > 0
}

// storeLayers are the layers of the images the store holds, by the media
// type their blob records have, with the repositories of those images.
func storeLayers(c *store.Catalog) (map[digest.Digest]candidate, error) {
	images, err := c.Images()
	if err != nil {
		return nil, err
	}
	out := map[digest.Digest]candidate{}
	for _, im := range images {
		repo := repositoryOf(im.Name)
		for _, d := range im.Blobs {
			if cand, ok := out[d]; ok {
				cand.repos = append(cand.repos, repo)
				out[d] = cand
				continue
			}
			rec, err := c.Blob(d)
			if err != nil || !isLayerType(rec.MediaType) {
				continue
			}
			out[d] = candidate{desc: ocispec.Descriptor{MediaType: rec.MediaType, Digest: d, Size: rec.Size}, repos: []string{repo}}
		}
	}
	return out, nil
}

// isLayerType tells a layer by its media type: OCI's "…image.layer…",
// Docker's "…image.rootfs.diff…".
func isLayerType(mediaType string) bool {
	return strings.Contains(mediaType, ".layer.") || strings.Contains(mediaType, "rootfs.diff")
}

func sortedDigests[V any](m map[digest.Digest]V) []digest.Digest {
	out := make([]digest.Digest, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// repositoryOf is the repository of an image name, "" when it has none
// (a bare tag, as oci:DIR:TAG names an image).
func repositoryOf(name string) string {
	if name == "" || runtime.IsBareTag(name) {
		return ""
	}
	return runtime.Repository(name)
}

// layerRepositories maps each layer of the plan to the repositories of
// the images it is a layer of.
func (p *Plan) layerRepositories() map[digest.Digest][]string {
	out := map[digest.Digest][]string{}
	for i, g := range p.graphs {
		repo := repositoryOf(p.Images[i].Name)
		for _, b := range g.Blobs() {
			if b.Role == runtime.RoleLayer && !slices.Contains(out[b.Desc.Digest], repo) {
				out[b.Desc.Digest] = append(out[b.Desc.Digest], repo)
			}
		}
	}
	return out
}

// offer picks the candidates for layer d, of the repositories repos:
// those the bundle does not ship, the same repository's first, then those
// nearest in size, at most maxCandidates. A layer read from far (a
// registry: neither the home's store nor a local source serves it) is
// offered only from the same repository: downloading it is worth it only
// for a likely base.
func (p *Plan) offer(cands []candidate, d digest.Digest, repos []string) []candidate {
	size := p.Blobs[p.blobIndex(d)].Size
	shipped := map[digest.Digest]bool{}
	for _, b := range p.Blobs {
		shipped[b.Digest] = b.Status == spec.StatusShipped
	}
	var out []candidate
	for _, c := range cands {
		from := c.from
		if from == nil {
			from = p.from[d].from // the layer's own source serves the bases the store lacks
		}
		reachable := c.local || !isDistant(from) || sameRepository(c.repos, repos)
		if c.desc.Digest != d && !shipped[c.desc.Digest] && reachable {
			out = append(out, c)
		}
	}
	order := delta.Promising(size)
	slices.SortStableFunc(out, func(a, b candidate) int { return order(a.rank(repos), b.rank(repos)) })
	return out[:min(len(out), maxCandidates)]
}

// rankCandidates are the offered candidates as delta.Rank takes them.
func rankCandidates(offered []candidate, repos []string) []delta.Candidate {
	out := make([]delta.Candidate, len(offered))
	for i, c := range offered {
		out[i] = c.rank(repos)
	}
	return out
}

// rank is c as delta.Rank takes it, for a layer of the repositories repos.
func (c candidate) rank(repos []string) delta.Candidate {
	return delta.Candidate{Layer: c.desc, SameRepository: sameRepository(c.repos, repos)}
}

func sameRepository(a, b []string) bool {
	for _, r := range a {
		if r != "" && slices.Contains(b, r) {
			return true
		}
	}
	return false
}
