package store

import (
	"context"
	"github.com/opencontainers/go-digest"
	"reflect"
	"testing"
)

// TestCatalog_Sender: the loaded index keeps, per sender and whatever
// the addressing, the newest bundle whose images were recorded (the
// replay check's bar) and the newest that arrived (what a receipt names).
// A replay never lowers them; a bundle counts for the bar only when it
// recorded images (a damaged one is marked, and its good copy clears the
// mark); a bundle whose signer is not the sender's registered key touches
// nothing.
func TestCatalog_Sender(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	damage := []digest.Digest{digest.FromString("x")}
	loads := []BundleRecord{
		{ID: "h5", From: "hq", To: "plant", Sequence: 5},
		{ID: "h7", From: "hq", To: "plant", Sequence: 7},
		{ID: "h3", From: "hq", To: "plant", Sequence: 3}, // a replay (--allow-replay): must not lower it
		{ID: "h7again", From: "hq", To: "plant", Sequence: 7},
		{ID: "any2", From: "hq", Sequence: 2}, // addressed to any site: the same counter
		{ID: "m9", From: "mirror", To: "plant", Sequence: 9},
		{ID: "m10", From: "mirror", To: "plant", Sequence: 10, Damaged: damage},    // no image recorded: arrived only
		{ID: "m11", From: "mirror", To: "plant", Sequence: 11, Images: []string{}}, // every image refused (downgrades): arrived only
		{ID: "d4", From: "depot", Sequence: 4, Damaged: damage, Images: []string{"app:1"}},
		{ID: "d4", From: "depot", Sequence: 4, Images: []string{"app:1", "db:1"}}, // its good copy
		{ID: "f9", From: "forger", Sequence: 1000000000, Unregistered: true},
		{ID: "s3", From: "solo", Sequence: 3},
	}
	for _, b := range loads {
		b.Direction = DirectionLoaded
		if b.Images == nil && b.Damaged == nil {
			b.Images = []string{"app:1"}
		}
		if err := c.Record(ctx, nil, nil, &b); err != nil {
			t.Fatalf("Record(%s) = %v", b.ID, err)
		}
	}
	c.Record(ctx, nil, nil, &BundleRecord{ID: "made", Direction: DirectionMade, From: "plant", To: "hq", Sequence: 40})
	if err := c.NoteArrival("solo", SenderBundle{Sequence: 5, Bundle: "s5"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from              string
		recorded, arrived SenderBundle
	}{
		{"hq", SenderBundle{Sequence: 7, Bundle: "h7", To: "plant"}, SenderBundle{Sequence: 7, Bundle: "h7", To: "plant"}},
		{"mirror", SenderBundle{Sequence: 9, Bundle: "m9", To: "plant"}, SenderBundle{Sequence: 11, Bundle: "m11", To: "plant"}},
		{"depot", SenderBundle{Sequence: 4, Bundle: "d4"}, SenderBundle{Sequence: 4, Bundle: "d4"}},
		{"forger", SenderBundle{}, SenderBundle{}},
		{"solo", SenderBundle{Sequence: 3, Bundle: "s3"}, SenderBundle{Sequence: 5, Bundle: "s5"}},
		{"plant", SenderBundle{}, SenderBundle{}}, // made here, not loaded
		{"nobody", SenderBundle{}, SenderBundle{}},
	}
	for _, tt := range tests {
		s, err := c.Sender(tt.from)
		if err != nil || s.Recorded != tt.recorded || s.Arrived != tt.arrived {
			t.Errorf("Sender(%q) = %+v, %v, want recorded %+v, arrived %+v", tt.from, s, err, tt.recorded, tt.arrived)
		}
	}
	got, err := c.LoadedFrom()
	want := []LoadedBundle{{From: "depot", Sequence: 4, Bundle: "d4"}, {From: "hq", To: "plant", Sequence: 7, Bundle: "h7"},
		{From: "mirror", To: "plant", Sequence: 11, Bundle: "m11"}, {From: "solo", Sequence: 5, Bundle: "s5"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LoadedFrom = %+v, %v, want %+v", got, err, want)
	}
}

// TestCatalog_NextSequence: one counter for every bundle this home makes,
// whatever its addressee, so that a site can order all of them.
func TestCatalog_NextSequence(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	if got, err := c.NextSequence(); err != nil || got != 1 {
		t.Errorf("NextSequence of a new home = %d, %v, want 1", got, err)
	}
	for _, b := range []*BundleRecord{
		{ID: "p1", Direction: DirectionMade, To: "plant", Sequence: 1},
		{ID: "p4", Direction: DirectionMade, To: "plant", Sequence: 4},
		{ID: "p2", Direction: DirectionMade, To: "plant", Sequence: 2},
		{ID: "a7", Direction: DirectionMade, Sequence: 7},
		{ID: "l9", Direction: DirectionLoaded, From: "plant", To: "hq", Sequence: 90},
	} {
		if err := c.Record(ctx, nil, nil, b); err != nil {
			t.Fatal(err)
		}
	}
	c.RecordShipment(ctx, "plant", &BundleRecord{ID: "p5", Sequence: 5}, nil)
	if got, err := c.NextSequence(); err != nil || got != 8 {
		t.Errorf("NextSequence = %d, %v, want 8 (one more than any bundle made, loaded ones aside)", got, err)
	}
}

func TestCatalog_NextReceiptSequence(t *testing.T) {
	c := newCatalog(t)
	for want := uint64(1); want <= 3; want++ {
		if got, err := c.NextReceiptSequence(); err != nil || got != want {
			t.Errorf("NextReceiptSequence = %d, %v, want %d", got, err, want)
		}
	}
	path := c.Path()
	c.Close()
	c, err := OpenCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := c.NextReceiptSequence(); err != nil || got != 4 {
		t.Errorf("NextReceiptSequence after reopen = %d, %v, want 4", got, err)
	}
}
