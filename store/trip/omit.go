package trip

import (
	"context"
	"fmt"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/opencontainers/go-digest"
)

// Base is an image whose layers a bundle omits: a --since base or an
// --exclude image, named as the user named it.
type Base struct {
	Ref      string
	Excluded bool // --exclude rather than --since
	Layers   map[digest.Digest]bool
	// found keeps, for a --since base, each layer's descriptor, source and
	// repository: the bases of deltas (Plan.Deltas).
	found map[digest.Digest]candidate
}

// ReadBase walks the manifests of a base's images (never their layers)
// and collects the layer digests.
func ReadBase(ctx context.Context, ref string, excluded bool, inputs []Input) (Base, error) {
	b := Base{Ref: ref, Excluded: excluded, Layers: map[digest.Digest]bool{}, found: map[digest.Digest]candidate{}}
	for _, in := range inputs {
		repo := repositoryOf(in.Image.Name)
		_, err := runtime.Walk(ctx, in.From, in.Image, func(bl runtime.Blob) error {
			if bl.Role == runtime.RoleLayer {
				b.Layers[bl.Desc.Digest] = true
				b.found[bl.Desc.Digest] = candidate{desc: bl.Desc, from: in.From, repos: []string{repo},
					held: format.Blob{Base: ref}}
			}
			return nil
		})
		if err != nil {
			return b, fmt.Errorf("base %s: %w", ref, err)
		}
	}
	return b, nil
}

// OmitOptions say what the destination is known to hold.
type OmitOptions struct {
	// Held is what the catalog knows the site holds (Catalog.Holdings).
	Held map[digest.Digest]store.Holding
	// OnlyConfirmed counts only blobs a receipt confirmed, not those
	// merely shipped.
	OnlyConfirmed bool
	Bases         []Base
}

// Omit turns into prerequisites the layers the destination holds or the
// bases name. Manifests, indexes and configs are always shipped.
func (p *Plan) Omit(o OmitOptions) {
	for i := range p.Blobs {
		b := &p.Blobs[i]
		if p.Role(b.Digest) != RoleLayer || b.Status != spec.StatusShipped {
			continue
		}
		if h, ok := o.Held[b.Digest]; ok && (!o.OnlyConfirmed || h.State == store.StateConfirmed) {
			b.Status, b.Bundle, b.Sequence = spec.StatusPrerequisite, h.Bundle, h.Sequence
			p.why[b.Digest] = heldReason(h)
		} else if base, ok := findBase(o.Bases, b.Digest); ok {
			b.Status, b.Base = spec.StatusPrerequisite, base.Ref
			p.why[b.Digest] = "in base " + base.Ref
			if base.Excluded {
				p.why[b.Digest] = "excluded with " + base.Ref
			}
		} else {
			continue
		}
		p.Bytes -= b.Size
		p.Saved += b.Size
	}
}

func heldReason(h store.Holding) string {
	if h.Bundle == "receipt" || h.Bundle == "" {
		return "held: confirmed by a receipt"
	}
	if h.State == store.StateConfirmed {
		return fmt.Sprintf("held since trip %d (bundle %s), confirmed", h.Sequence, h.Bundle)
	}
	return fmt.Sprintf("held since trip %d (bundle %s), shipped, not yet confirmed", h.Sequence, h.Bundle)
}

func findBase(bases []Base, d digest.Digest) (Base, bool) {
	for _, b := range bases {
		if b.Layers[d] {
			return b, true
		}
	}
	return Base{}, false
}
