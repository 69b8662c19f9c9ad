package trip

import (
	"fmt"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// Admission says whether this home takes a bundle: whether it is
// addressed here, newer than every bundle from its sender whose images it
// recorded, and whether the store holds every prerequisite.
type Admission struct {
	// AllowReplay takes a bundle that is not newer than the newest one
	// recorded from the same sender.
	AllowReplay bool
}

// Check returns every reason h refuses the bundle ix, each an error
// wrapping the matching sentinel; none means it may be loaded.
func (a Admission) Check(h *store.Home, ix *format.Index) []error {
	var errs []error
	self, err := h.Catalog.Self()
	if err != nil {
		return []error{err}
	}
	if ix.To != "" && ix.To != self {
		errs = append(errs, fmt.Errorf("bundle %s is addressed to site %q; this home is site %q: %w", ix.ID, ix.To, self, spec.ErrBadInput))
	}
	if !a.AllowReplay {
		if err := replay(h, ix); err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range ix.Blobs {
		if b.Status != spec.StatusPrerequisite {
			continue
		}
		if _, err := h.Store.Stat(b.Digest); err != nil {
			errs = append(errs, fmt.Errorf("blob %s: %s: %w", b.Digest, prerequisiteMissing(b), spec.ErrMissingPrereq))
		}
	}
	return errs
}

// replay refuses a bundle that is not newer than the newest bundle from
// its sender whose images this home recorded, whatever either was
// addressed to (a sender numbers all its bundles with one counter). The
// same bundle may load again only when it arrived damaged, so that a good
// copy brings the images the damage left out.
func replay(h *store.Home, ix *format.Index) error {
	s, err := h.Catalog.Sender(ix.From.Site)
	if err != nil {
		return err
	}
	last := s.Recorded
	switch {
	case last.Bundle == "" || ix.Sequence > last.Sequence:
		return nil
	case ix.ID == last.Bundle && (last.Damaged || ix.IsSet()):
		// Arrived damaged, or a volume of the newest set (its images wait
		// for it, or are recorded as it names them): spec/bundle-v1.md 8.3.
		return nil
	case ix.ID == last.Bundle:
		return spec.Mark(fmt.Errorf("bundle %s from %s (sequence %d) is already loaded, so not newer than the last one loaded: "+
			"its images are in the store (ferry ls); write them to a target with ferry copy IMAGE TARGET, or load it again with --allow-replay",
			ix.ID, ix.From.Site, ix.Sequence), spec.ErrReplay)
	}
	return spec.Mark(fmt.Errorf("bundle %s from %s has sequence %d, not newer than sequence %d (bundle %s) already loaded; --allow-replay loads it anyway",
		ix.ID, ix.From.Site, ix.Sequence, last.Sequence, last.Bundle), spec.ErrReplay)
}
