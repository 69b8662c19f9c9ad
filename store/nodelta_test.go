package store

import (
	"context"
	"reflect"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestCatalog_NoDeltas: a layer shipped as a delta that a receipt shows
// the site does not hold travels whole from then on; one the site holds,
// one shipped whole and lost, and one still in flight do not.
func TestCatalog_NoDeltas(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant", "other")
	app := &LayerOf{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Repository: "example.com/app"}
	rows := []Holding{
		{Digest: blob("rebuilt"), Size: 7, Layer: app, Delta: true},
		{Digest: blob("failed"), Size: 6, Layer: app, Delta: true},
		{Digest: blob("lost"), Size: 4, Layer: &LayerOf{MediaType: "application/vnd.oci.image.layer.v1.tar"}},
	}
	if err := c.RecordShipment(ctx, "plant", made("b1", 1), rows); err != nil {
		t.Fatal(err)
	}
	c.RecordShipment(ctx, "plant", made("b2", 2), []Holding{{Digest: blob("flying"), Size: 6, Layer: app, Delta: true}})
	c.RecordShipment(ctx, "other", made("b3", 3), []Holding{{Digest: blob("failed"), Size: 6, Delta: true}})
	var layers []Holding
	c.Inventory("plant", func(h Holding) error {
		if h.Layer != nil && h.Layer.Repository == "example.com/app" {
			layers = append(layers, h)
		}
		return nil
	})
	if len(layers) != 3 {
		t.Errorf("inventory rows of example.com/app's layers = %+v, want rebuilt, failed and flying", layers)
	}
	got, err := c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 1, Held: held("rebuilt"), Covered: 1})
	if err != nil || !reflect.DeepEqual(got.Whole, []digest.Digest{blob("failed")}) {
		t.Errorf("ApplyReceipt = %+v, %v; want Whole = [failed]", got, err)
	}
	ask := []digest.Digest{blob("rebuilt"), blob("failed"), blob("lost"), blob("flying")}
	no, err := c.NoDeltas("plant", ask)
	if err != nil || len(no) != 1 || no[blob("failed")].Bundle != "b1" || no[blob("failed")].Sequence != 1 {
		t.Errorf("NoDeltas(plant) = %+v, %v; want failed, by b1 sequence 1", no, err)
	}
	if no, err := c.NoDeltas("other", ask); err != nil || len(no) != 0 {
		t.Errorf("NoDeltas(other) = %+v, %v; want none: no receipt from it", no, err)
	}
}
