package trip

import (
	"context"
	"time"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// RecordMade records a written bundle in the sender's catalog. For a
// bundle addressed to a site, every blob it shipped joins that site's
// shipping log in the same transaction: a layer with its media type and
// repository (res.Layers), a delta's layer marked as such. Call it only once the bundle file
// is complete and synced (Save returned), so that a save that fails or is
// killed records nothing.
func RecordMade(ctx context.Context, c *store.Catalog, res *SaveResult) error {
	ix := res.Index
	now := time.Now().UTC()
	b := &store.BundleRecord{ID: ix.ID, Direction: store.DirectionMade, From: ix.From.Site, To: ix.To,
		Sequence: ix.Sequence, Recorded: now, Path: res.Path, Blobs: len(ix.Shipped()), Size: res.Size}
	b.Created, _ = time.Parse(time.RFC3339, ix.Created)
	for _, im := range ix.Roots() {
		b.Images = append(b.Images, im.Name)
	}
	if ix.To == "" {
		return c.Record(ctx, nil, nil, b)
	}
	var shipped []store.Holding
	for _, bl := range ix.Blobs {
		if bl.Status != spec.StatusShipped || bl.Kind == spec.KindExtra { // an extra is no blob the site's store holds
			continue
		}
		h := store.Holding{Digest: bl.Digest, Size: bl.Size, State: store.StateShipped,
			Bundle: ix.ID, Sequence: ix.Sequence, Time: now, Delta: bl.Kind == spec.KindDelta}
		if repo, ok := res.Layers[bl.Digest]; ok {
			h.Layer = &store.LayerOf{MediaType: bl.MediaType, Repository: repo}
		}
		shipped = append(shipped, h)
	}
	return c.RecordShipment(ctx, ix.To, b, shipped)
}
