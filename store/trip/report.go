package trip

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"
)

// CheckOptions says how to trust a bundle.
type CheckOptions struct {
	// Trust decides whether the key that signed the index may speak for
	// the site the index names. Required unless InsecureSkipSignature.
	Trust func(ix *format.Index, key ssh.PublicKey) error
	// InsecureSkipSignature reads an unsigned bundle or one by an
	// unknown key.
	InsecureSkipSignature bool
	// Progress, if set, is told of each entry as it is read.
	Progress Progress
	// Stdin is read for the bundle named "-" (the command line gives its
	// standard input).
	Stdin io.Reader
	// RebuildDeltas (Verify, with a home) rebuilds the layer of every
	// delta entry from the store's bases and checks its digest, writing
	// nothing; without it Verify checks each delta's bytes and recipe.
	RebuildDeltas bool
}

// Fault is one thing wrong with a bundle.
type Fault struct {
	Entry  string        `json:"entry,omitempty"`
	Digest digest.Digest `json:"digest,omitempty"`
	What   string        `json:"what"`
}

// ImageStatus is one image of a bundle and whether it can be used.
type ImageStatus struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	OK     bool          `json:"ok"`
	// Lacking lists the blobs of its graph that are damaged or absent.
	Lacking []digest.Digest `json:"lacking,omitempty"`
	// Reason says why an image whose blobs are all held was left out.
	Reason string `json:"reason,omitempty"`
	// Waiting, for a volume of a set, lists the other volumes that carry
	// the blobs the image lacks: it is no fault of this volume, and the
	// image is complete once they are loaded.
	Waiting []int `json:"waitingFor,omitempty"`
	// Blobs is every blob of its graph, the root included.
	Blobs []digest.Digest `json:"-"`
	// graph is the image's graph, walked by checkImages, for an image
	// that passed.
	graph *runtime.Graph
}

// Report is what Verify and Load found.
type Report struct {
	Bundle  string        `json:"bundle"`
	Index   *format.Index `json:"-"`
	ID      string        `json:"id"`
	From    string        `json:"from"`
	Signer  string        `json:"signer"`
	Entries int           `json:"entries"`
	Bytes   int64         `json:"bytes"`
	Faults  []Fault       `json:"faults"`
	Images  []ImageStatus `json:"images"`
	// Volume and Volumes are, for a volume of a set, its number and the
	// count of the set's volumes; zero for a bundle of one file.
	Volume  int `json:"volume,omitempty"`
	Volumes int `json:"volumes,omitempty"`
	// Warnings are not faults: an image for another platform than this
	// site's, say.
	Warnings []string `json:"warnings,omitempty"`
	// Stored and Held count blobs newly written to the store and blobs
	// the store already had (Load only).
	Stored int `json:"stored,omitempty"`
	Held   int `json:"held,omitempty"`
	// Rebuilt counts the layers rebuilt from delta entries, each checked
	// against its digest (Load; Verify with RebuildDeltas). They are
	// among Stored or Held too.
	Rebuilt int `json:"rebuilt,omitempty"`
	// Repaired lists the blobs whose copy in the store was damaged and
	// that this bundle's verified bytes replaced (Load only).
	Repaired []digest.Digest `json:"repaired,omitempty"`
	// Extras are the extra files the bundle carried that arrived intact
	// (spec/extra-v1.md), with where Load wrote each.
	Extras []ExtraFile `json:"extras,omitempty"`

	faults int            // every fault, those only counted too
	kinds  map[string]int // faults by kind (Report.fault)
	// Written says, per target, the name each image was written under
	// (Load only).
	Written []Written `json:"written,omitempty"`
}

// Written is one target a Load wrote to and the name it gave each image
// ("" for an image it left unnamed), in the order of the images.
type Written struct {
	Target string   `json:"target"`
	Images []string `json:"images"`
	Names  []string `json:"names"`
}

// OK reports whether the bundle had no fault at all.
func (r *Report) OK() bool {
	if len(r.Faults) > 0 {
		return false
	}
	for _, im := range r.Images {
		if !im.OK && len(im.Waiting) == 0 {
			return false
		}
	}
	return true
}

// Err returns nil when OK, else an error wrapping spec.ErrIncomplete that
// names the damaged blobs and the images left out.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	var left []string
	for _, im := range r.Images {
		if !im.OK && len(im.Waiting) == 0 {
			left = append(left, spec.Quote(im.Name))
		}
	}
	if n := len(left) - faultsPerKind; n > 0 {
		left = append(left[:faultsPerKind], fmt.Sprintf("and %d more", n))
	}
	msg := fmt.Sprintf("bundle %s: %d fault(s)", r.Bundle, max(r.faults, len(r.Faults)))
	if len(left) > 0 {
		msg += ", image(s) left out: " + strings.Join(left, ", ")
	}
	return spec.Mark(errors.New(msg), spec.ErrIncomplete)
}
