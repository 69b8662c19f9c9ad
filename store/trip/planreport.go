package trip

import (
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
)

// PlanBlob is one blob of an image in a plan, for --dry-run.
type PlanBlob struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	Role      string        `json:"role"`
	Status    string        `json:"status"` // shipped or omitted
	Reason    string        `json:"reason,omitempty"`
}

// PlanImage is one image of a plan and its blobs.
type PlanImage struct {
	Name      string        `json:"name"`
	Digest    digest.Digest `json:"digest"`
	Platforms []string      `json:"platforms,omitempty"`
	Chart     bool          `json:"chart,omitempty"` // a Helm chart's artifact
	Blobs     []PlanBlob    `json:"blobs"`
}

// PlanReport is the plan as --dry-run prints it.
type PlanReport struct {
	To      string      `json:"to,omitempty"`
	Images  []PlanImage `json:"images"`
	Shipped int         `json:"shippedBlobs"`
	Omitted int         `json:"omittedBlobs"`
	Bytes   int64       `json:"bytesShipped"`
	Saved   int64       `json:"bytesSaved"`
}

// Report describes the plan per image and per blob, with the reason of
// each omission, and the totals.
func (p *Plan) Report(to string) PlanReport {
	byDigest := map[digest.Digest]int{}
	for i, b := range p.Blobs {
		byDigest[b.Digest] = i
	}
	r := PlanReport{To: to, Images: []PlanImage{}, Bytes: p.Bytes, Saved: p.Saved}
	for _, b := range p.Blobs {
		if b.Status == spec.StatusShipped {
			r.Shipped++
		} else {
			r.Omitted++
		}
	}
	charts := chartRoots(p.Charts)
	for i, im := range p.Images {
		pi := PlanImage{Name: im.Name, Digest: im.Digest, Platforms: im.Platforms, Chart: charts[im.Name+"@"+string(im.Digest)]}
		for _, gb := range p.graphs[i].Blobs() {
			d := gb.Desc.Digest
			b := p.Blobs[byDigest[d]]
			status := "shipped"
			if b.Status != spec.StatusShipped {
				status = "omitted"
			}
			pi.Blobs = append(pi.Blobs, PlanBlob{Digest: d, Size: b.Size, MediaType: b.MediaType,
				Role: p.Role(d), Status: status, Reason: p.why[d]})
		}
		r.Images = append(r.Images, pi)
	}
	return r
}
