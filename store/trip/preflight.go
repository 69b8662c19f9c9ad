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
// addressed here, newer than the last one loaded from its sender, and
// whether the store holds every prerequisite.
type Admission struct {
	// AllowReplay takes a bundle whose sequence is not newer than the last
	// one loaded from the same sender.
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
		last, id, err := h.Catalog.LastLoaded(ix.From.Site, ix.To)
		if err != nil {
			return append(errs, err)
		}
		if last > 0 && ix.Sequence <= last {
			errs = append(errs, fmt.Errorf("bundle %s from %s has sequence %d, not newer than sequence %d (bundle %s) already loaded; --allow-replay loads it anyway: %w",
				ix.ID, ix.From.Site, ix.Sequence, last, id, spec.ErrReplay))
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

// downgrade reports whether writing img under its name would move the tag
// from a newer image to an older one (by the configs' created times).
func downgrade(ctx context.Context, h *store.Home, img format.Image) (string, error) {
	old, err := h.Catalog.Image(img.Name)
	if errors.Is(err, spec.ErrNotFound) || (err == nil && old.Digest == img.Digest) {
		return "", nil
	}
	if err != nil {
		return "", err
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
		img.Name, old.Digest, oldT.Format(time.RFC3339), newT.Format(time.RFC3339)), nil
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
