package trip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

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
	return fmt.Errorf("bundle %s: %d fault(s), image(s) left out: %v: %w", r.Bundle, max(r.faults, len(r.Faults)), left, spec.ErrIncomplete)
}

// sink consumes one entry's verified bytes; an error that is a
// *spec.VerifyError costs only that entry.
type sink func(ctx context.Context, e *format.Entry, r io.Reader) error

// openBundle opens the bundle file path, or stdin for "-".
func openBundle(path string, stdin io.Reader) (io.ReadCloser, error) {
	if path != "-" {
		return os.Open(path)
	}
	if stdin == nil {
		return nil, fmt.Errorf("no standard input given: %w", spec.ErrBadInput)
	}
	return io.NopCloser(stdin), nil
}

// scan reads the bundle at path (standard input for "-") once, handing each entry to sink and
// recording every fault. A bad signature or index returns an error before
// sink is called at all.
//
// admit, if set, is asked about the verified index (and the key that
// signed it, nil when unchecked) before any entry is
// read; an error from it refuses the bundle with nothing read or written.
func scan(ctx context.Context, path string, opts CheckOptions, admit func(*format.Index, ssh.PublicKey) error, fn sink) (*Report, *format.Reader, map[digest.Digest]bool, error) {
	f, err := openBundle(path, opts.Stdin)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	defer f.Close()
	r, err := format.NewReader(f, format.ReaderOptions{Trust: opts.Trust, InsecureSkipSignature: opts.InsecureSkipSignature})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	defer r.Close()
	ix := r.Index()
	if t, ok := opts.Progress.(interface{ SetTotal(int64) }); ok {
		var total int64
		for _, b := range ix.Shipped() {
			if b.Delta != nil {
				total += b.Delta.Size // the entry's bytes, not its layer's
			} else {
				total += b.Size
			}
		}
		t.SetTotal(total)
	}
	if admit != nil {
		if err := admit(ix, r.Key()); err != nil {
			return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
		}
	}
	rep := &Report{Bundle: path, Index: ix, ID: ix.ID, From: ix.From.Site, Signer: ix.From.Fingerprint, Faults: []Fault{}}
	for _, im := range ix.Refused {
		rep.fault("refused image", Fault{Digest: im.Digest, What: "image left out: " + im.Err.Error()})
	}
	if r.Key() == nil {
		rep.Signer = "unverified"
	}
	good := map[digest.Digest]bool{}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		var ee *format.EntryError
		if errors.As(err, &ee) {
			rep.fault(faultKind(ee), Fault{Entry: ee.Name, Digest: ee.Digest, What: ee.Err.Error()})
			continue
		}
		if err != nil {
			rep.fault("stream", Fault{What: err.Error()})
			break
		}
		rep.Entries++
		if opts.Progress != nil && e.Kind != spec.KindFile {
			opts.Progress.Blob(e.Digest, e.Size)
		}
		var src io.Reader = r
		if opts.Progress != nil {
			src = &countingReader{r: r, p: opts.Progress}
		}
		if err := fn(ctx, e, src); err != nil {
			if !isEntryFault(err) && errors.Is(err, spec.ErrCorrupt) {
				// The stream broke inside this entry (spec/bundle-v1.md 5.2):
				// everything after is lost, what verified before is kept.
				rep.fault("stream", Fault{Entry: e.Name, Digest: blobOf(e), What: err.Error()})
				break
			}
			if !isEntryFault(err) {
				return nil, nil, nil, fmt.Errorf("bundle %s: entry %s: %w", path, e.Name, err)
			}
			rep.fault(faultKind(err), Fault{Entry: e.Name, Digest: blobOf(e), What: err.Error()})
			continue
		}
		rep.Bytes += e.Size
		if e.Kind == spec.KindBlob || e.Kind == spec.KindDelta {
			good[blobOf(e)] = true
		}
	}
	for _, m := range r.Missing() {
		rep.fault("listed in the index but not in the bundle", Fault{Entry: m, What: "listed in the index but not in the bundle"})
	}
	for _, b := range r.Unsupported() {
		rep.fault("unknown kind", Fault{Digest: b.Digest, What: fmt.Sprintf("kind %q is unknown to this ferry (a newer one reads it): not received", b.Kind)})
	}
	rep.summarize()
	return rep, r, good, nil
}

// isEntryFault tells a fault that costs one entry (its bytes, or the
// layer its delta did not rebuild) from one that stops the scan.
func isEntryFault(err error) bool {
	return errors.As(err, new(*spec.VerifyError)) || errors.As(err, new(*format.EntryError)) || errors.As(err, new(*DeltaError))
}

// blobOf is the digest of the blob an entry carries: a delta's layer, not
// the delta; "" for the layout files.
func blobOf(e *format.Entry) digest.Digest {
	if e.Blob != nil {
		return e.Blob.Digest
	}
	return e.Digest
}
