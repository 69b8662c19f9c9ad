package trip

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// Verify reads the whole bundle at path and reports every fault: the
// signature, each entry against the index, and each image's graph against
// the entries. With a home h it also reports what Load would refuse: a
// bundle addressed elsewhere, a replay, a prerequisite the store lacks
// (naming the bundle that should have brought it), and a delta whose
// recipe this ferry cannot follow; with opts.RebuildDeltas it rebuilds
// each delta's layer from the store's bases and checks it. It writes
// nothing to the store or the catalog.
func Verify(ctx context.Context, path string, opts CheckOptions, adm Admission, h *store.Home) (*Report, error) {
	manifests := memFetcher{blobs: map[digest.Digest][]byte{}}
	held := func(digest.Digest) bool { return false }
	if h != nil {
		manifests.held = h.Store
		held = func(d digest.Digest) bool { _, err := h.Store.Stat(d); return err == nil }
	}
	v := &verifier{manifests: manifests, buf: make([]byte, 1<<20), h: h, rebuild: opts.RebuildDeltas, parts: map[string]bool{}}
	admit := func(ix *format.Index, _ ssh.PublicKey) error { v.ix = ix; return nil }
	rep, r, good, err := scan(ctx, path, opts, admit, v.verifyEntry)
	if err != nil {
		return nil, err
	}
	rep.Extras, rep.Rebuilt = v.extras, v.rebuilt
	ix := r.Index()
	prerequisite := map[digest.Digest]bool{}
	for _, b := range ix.Blobs {
		prerequisite[b.Digest] = b.Status == spec.StatusPrerequisite
	}
	// As Load has it: a blob that arrived intact, or that the store holds
	// (with no home, a prerequisite is taken as held).
	rep.Images = checkImages(ctx, ix, manifests, func(d digest.Digest) bool {
		return good[d] || held(d) || (h == nil && prerequisite[d])
	})
	markWaiting(rep, ix, func(e format.Entry) bool { return v.parts[e.Name] || (h != nil && partHeld(h, e)) })
	rep.Warnings = platformWarnings(ix, platforms.DefaultSpec())
	if h != nil {
		for _, err := range adm.Check(h, ix) {
			rep.Faults = append(rep.Faults, Fault{What: err.Error()})
		}
	}
	return rep, nil
}

func prerequisiteMissing(b format.Blob) string {
	if b.Bundle == "" {
		return "prerequisite not in the local store"
	}
	if b.Bundle == "receipt" {
		return "prerequisite not in the local store (the site's receipt declared it held)"
	}
	return "prerequisite not in the local store: it came in bundle " + b.Bundle + " (sequence " + strconv.FormatUint(b.Sequence, 10) + "); load that bundle first"
}

// platformWarnings names each image with no manifest that runs on a
// machine of the platform host (as layer-tool checks before an import;
// the platform rule is runtime's, containerd's): it loads, but will not
// run there.
func platformWarnings(ix *format.Index, host ocispec.Platform) []string {
	var out []string
	for _, im := range ix.Images {
		if len(im.Platforms) == 0 || runtime.RunsOn(host, im.Platforms) {
			continue
		}
		plats := make([]string, len(im.Platforms))
		for i, p := range im.Platforms {
			plats[i] = spec.Quote(p)
		}
		out = append(out, fmt.Sprintf("image %s is for %s, not this site's %s: it will load but not run here",
			spec.Quote(im.Name), strings.Join(plats, ", "), platforms.Format(host)))
	}
	return out
}
