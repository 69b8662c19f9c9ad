package trip

import (
	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
)

// DryRunBlob is one blob of an image in a plan, as --dry-run prints it.
type DryRunBlob struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	Role      string        `json:"role"`
	Status    string        `json:"status"` // shipped or omitted
	Reason    string        `json:"reason,omitempty"`
	// Delta is set for a layer shipped as a delta entry.
	Delta *DryRunDelta `json:"delta,omitempty"`
}

// DryRunDelta is a layer's delta, as --dry-run prints it.
type DryRunDelta struct {
	Size   int64           `json:"size"` // of the delta entry
	Saved  int64           `json:"bytesSaved"`
	Bases  []digest.Digest `json:"bases"`
	Recipe spec.Recipe     `json:"recipe"`
	// Files counts the layer's regular files; Copied and Patched those
	// rebuilt from a base's file as it is or patched.
	Files   int `json:"files"`
	Copied  int `json:"copied"`
	Patched int `json:"patched"`
}

// DryRunImage is one image of a plan and its blobs, as --dry-run prints
// them.
type DryRunImage struct {
	Name      string        `json:"name"`
	Digest    digest.Digest `json:"digest"`
	Platforms []string      `json:"platforms,omitempty"`
	Chart     bool          `json:"chart,omitempty"` // a Helm chart's artifact
	Blobs     []DryRunBlob  `json:"blobs"`
}

// DryRun is the plan as --dry-run prints it.
type DryRun struct {
	To      string        `json:"to,omitempty"`
	Images  []DryRunImage `json:"images"`
	Shipped int           `json:"shippedBlobs"`
	Omitted int           `json:"omittedBlobs"`
	Deltas  int           `json:"deltas"` // layers among the shipped blobs that travel as deltas
	Bytes   int64         `json:"bytesShipped"`
	Saved   int64         `json:"bytesSaved"`
}

// DryRun describes the plan per image and per blob, with the reason of
// each omission, and the totals: what save --dry-run prints for the site
// to.
func (p *Plan) DryRun(to string) DryRun {
	byDigest := map[digest.Digest]int{}
	for i, b := range p.Blobs {
		byDigest[b.Digest] = i
	}
	r := DryRun{To: to, Images: []DryRunImage{}, Bytes: p.Bytes, Saved: p.Saved}
	for _, b := range p.Blobs {
		if b.Kind == spec.KindDelta {
			r.Deltas++
		}
		if b.Status == spec.StatusShipped {
			r.Shipped++
		} else {
			r.Omitted++
		}
	}
	charts := chartRoots(p.Charts)
	for i, im := range p.Images {
		pi := DryRunImage{Name: im.Name, Digest: im.Digest, Platforms: im.Platforms, Chart: charts[im.Name+"@"+string(im.Digest)]}
		for _, gb := range p.graphs[i].Blobs() {
			d := gb.Desc.Digest
			b := p.Blobs[byDigest[d]]
			status := "shipped"
			if b.Status != spec.StatusShipped {
				status = "omitted"
			}
			pi.Blobs = append(pi.Blobs, DryRunBlob{Digest: d, Size: b.Size, MediaType: b.MediaType,
				Role: p.Role(d), Status: status, Reason: p.why[d], Delta: p.dryRunDelta(b)})
		}
		r.Images = append(r.Images, pi)
	}
	return r
}

// dryRunDelta describes the delta layer b ships as, nil for none.
func (p *Plan) dryRunDelta(b format.Blob) *DryRunDelta {
	ld, ok := p.deltas[b.Digest]
	if !ok || b.Kind != spec.KindDelta {
		return nil
	}
	r := ld.result
	return &DryRunDelta{Size: r.Delta.Size, Saved: b.Size - r.Delta.Size, Bases: r.Delta.Bases, Recipe: r.Delta.Recipe,
		Files: r.Stats.Files, Copied: r.Stats.Copied, Patched: r.Stats.Patched}
}
