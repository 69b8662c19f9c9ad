package store

import (
	"context"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestCatalog_TagHistory: every move of an image name to another image is
// kept, with the bundle and sender that moved it (none for a bundle whose
// signer is not the sender's registered key), and outlives the image.
func TestCatalog_TagHistory(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	a, b, x := digest.FromString("a"), digest.FromString("b"), digest.FromString("x")
	put := func(d digest.Digest, bundle *BundleRecord) {
		t.Helper()
		blobs := []BlobRecord{{Digest: d, Size: 1}}
		if err := c.Record(ctx, blobs, []ImageRecord{{Name: "app:1", Digest: d, Blobs: []digest.Digest{d}}}, bundle); err != nil {
			t.Fatal(err)
		}
	}
	put(a, &BundleRecord{ID: "b1", Direction: DirectionLoaded, From: "hq", Sequence: 1, Images: []string{"app:1"}})
	put(b, &BundleRecord{ID: "b2", Direction: DirectionLoaded, From: "hq", Sequence: 2, Images: []string{"app:1"}})
	put(x, &BundleRecord{ID: "f3", Direction: DirectionLoaded, From: "hq", Sequence: 3, Images: []string{"app:1"}, Unregistered: true})
	if err := c.DeleteImage("app:1"); err != nil {
		t.Fatal(err)
	}
	h, err := c.TagHistory("app:1")
	if err != nil || len(h.Replaced) != 2 {
		t.Fatalf("TagHistory = %+v, %v, want two moves", h, err)
	}
	if ch, ok := h.ReplacedBy(a, "hq"); !ok || ch.By != b || ch.Bundle != "b2" || ch.Sequence != 2 {
		t.Errorf("ReplacedBy(a, hq) = %+v, %v, want moved to b by bundle b2", ch, ok)
	}
	if ch, ok := h.ReplacedBy(b, "hq"); ok {
		t.Errorf("ReplacedBy(b, hq) = %+v: an unregistered signer's move was attributed to hq", ch)
	}
	if _, ok := h.ReplacedBy(a, "mirror"); ok {
		t.Errorf("ReplacedBy(a, mirror) found a move by another sender")
	}
}
