package trip

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// downgrade says why writing img under its name, for a bundle from
// sender, would move the tag back: to an image that an earlier bundle from
// the same sender moved it away from (the tag history), or to an image
// whose config is older than the one the tag points at. "" when it would
// not. Reproducible builds give equal or zero created times; the history
// still sees them.
func downgrade(ctx context.Context, h *store.Home, sender string, img format.Image, g *runtime.Graph) (string, error) {
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
	newT := g.Created()
	oldT, err := created(ctx, h.Store, old.Image())
	if err != nil || newT.IsZero() || oldT.IsZero() || !newT.Before(oldT) {
		return "", nil
	}
	return fmt.Sprintf("tag %s points at %s, created %s; this image was created %s, earlier: --allow-downgrade moves the tag anyway",
		spec.Quote(img.Name), old.Digest, oldT.Format(time.RFC3339), newT.Format(time.RFC3339)), nil
}

// created is the newest `created` of the configs of img, an image of the
// store.
func created(ctx context.Context, f runtime.Fetcher, img runtime.Image) (time.Time, error) {
	g, err := runtime.Walk(ctx, f, img, nil)
	if err != nil {
		return time.Time{}, err
	}
	if err := g.ReadConfigs(ctx, f); err != nil {
		return time.Time{}, err
	}
	return g.Created(), nil
}

// refuseDowngrades leaves out each complete image that would move its tag
// to an older image, saying so.
func refuseDowngrades(ctx context.Context, h *store.Home, ix *format.Index, rep *Report) {
	roots := ix.Roots()
	for i := range rep.Images {
		st := &rep.Images[i]
		if !st.OK {
			continue
		}
		why, err := downgrade(ctx, h, ix.From.Site, roots[i], st.graph)
		if err != nil {
			why = err.Error()
		}
		if why != "" {
			st.leaveOut(why)
		}
	}
}
