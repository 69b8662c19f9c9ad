package trip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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
		if _, err := h.Blobs.Stat(b.Digest); err != nil {
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
	case ix.ID == last.Bundle && last.Damaged:
		return nil
	case ix.ID == last.Bundle:
		return fmt.Errorf("bundle %s from %s (sequence %d) is already loaded: its images are in the store (ferry ls); "+
			"write them to a target with ferry copy IMAGE TARGET, or load it again with --allow-replay: %w",
			ix.ID, ix.From.Site, ix.Sequence, spec.ErrReplay)
	}
	return fmt.Errorf("bundle %s from %s has sequence %d, not newer than sequence %d (bundle %s) already loaded; --allow-replay loads it anyway: %w",
		ix.ID, ix.From.Site, ix.Sequence, last.Sequence, last.Bundle, spec.ErrReplay)
}

// downgrade says why writing img under its name, for a bundle from
// sender, would move the tag back: to an image that an earlier bundle from
// the same sender moved it away from (the tag history), or to an image
// whose config is older than the one the tag points at. "" when it would
// not. Reproducible builds give equal or zero created times; the history
// still sees them.
func downgrade(ctx context.Context, h *store.Home, sender string, img format.Image) (string, error) {
	old, err := h.Catalog.Image(img.Name)
	if errors.Is(err, spec.ErrNotFound) || (err == nil && old.Digest == img.Digest) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	hist, err := h.Catalog.TagHistory(img.Name)
	if err != nil {
		return "", err
	}
	if c, ok := hist.ReplacedBy(img.Digest, sender); ok {
		return fmt.Sprintf("tag %s pointed at this image until bundle %s (sequence %d) from %s moved it to %s on %s; "+
			"it now points at %s: --allow-downgrade moves it back anyway",
			spec.Quote(img.Name), c.Bundle, c.Sequence, sender, c.By, c.Time.Format(time.RFC3339), old.Digest), nil
	}
	newT, err := created(ctx, h.Blobs, ocispec.Descriptor{MediaType: img.MediaType, Digest: img.Digest, Size: img.Size})
	if err != nil {
		return "", err
	}
	oldT, err := created(ctx, h.Blobs, old.Image().Desc)
	if err != nil || newT.IsZero() || oldT.IsZero() || !newT.Before(oldT) {
		return "", nil
	}
	return fmt.Sprintf("tag %s points at %s, created %s; this image was created %s, earlier: --allow-downgrade moves the tag anyway",
		spec.Quote(img.Name), old.Digest, oldT.Format(time.RFC3339), newT.Format(time.RFC3339)), nil
}

// created is the newest `created` of the image configs under root.
func created(ctx context.Context, f runtime.Fetcher, root ocispec.Descriptor) (time.Time, error) {
	var newest time.Time
	err := runtime.Walk(ctx, f, root, func(d ocispec.Descriptor, data []byte) error {
		if data == nil {
			return nil
		}
		cd := configDesc(data)
		if cd.Digest == "" {
			return nil
		}
		cfg, err := runtime.ReadBlob(ctx, f, cd, spec.MaxManifestSize)
		if err != nil {
			return err
		}
		var v struct {
			Created *time.Time `json:"created"`
		}
		if json.Unmarshal(cfg, &v) == nil && v.Created != nil && v.Created.After(newest) {
			newest = *v.Created
		}
		return nil
	})
	return newest, err
}

// configDesc is the config descriptor of an image manifest; empty for an
// index or anything else.
func configDesc(manifest []byte) ocispec.Descriptor {
	var m struct {
		Config ocispec.Descriptor `json:"config"`
	}
	if json.Unmarshal(manifest, &m) != nil || m.Config.Digest.Validate() != nil {
		return ocispec.Descriptor{}
	}
	return m.Config
}
