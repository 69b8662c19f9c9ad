package store

import (
	"context"
	"github.com/opencontainers/go-digest"
	"reflect"
	"testing"
)

func TestCatalog_LastLoaded(t *testing.T) {
	ctx := context.Background()
	c := newCatalog(t)
	loads := []BundleRecord{
		{ID: "h5", From: "hq", To: "plant", Sequence: 5},
		{ID: "h7", From: "hq", To: "plant", Sequence: 7},
		{ID: "h3", From: "hq", To: "plant", Sequence: 3}, // a replay (--allow-replay): must not lower it
		{ID: "h7again", From: "hq", To: "plant", Sequence: 7},
		{ID: "any2", From: "hq", Sequence: 2},
		{ID: "m9", From: "mirror", To: "plant", Sequence: 9},
		{ID: "m10", From: "mirror", To: "plant", Sequence: 10, Damaged: []digest.Digest{digest.FromString("x")}}, // arrived damaged: a good copy must still load
		{ID: "s3", From: "solo", Sequence: 3},
	}
	for _, b := range loads {
		b.Direction = DirectionLoaded
		if err := c.Record(ctx, nil, nil, &b); err != nil {
			t.Fatalf("Record(%s) = %v", b.ID, err)
		}
	}
	c.Record(ctx, nil, nil, &BundleRecord{ID: "made", Direction: DirectionMade, From: "plant", To: "hq", Sequence: 40})
	tests := []struct {
		from, to string
		wantSeq  uint64
		wantID   string
	}{
		{"hq", "plant", 7, "h7"},
		{"hq", "", 2, "any2"},
		{"mirror", "plant", 9, "m9"},
		{"mirror", "", 0, ""},
		{"plant", "hq", 0, ""}, // made here, not loaded
		{"nobody", "plant", 0, ""},
		{"", "", 0, ""},
	}
	for _, tt := range tests {
		seq, id, err := c.LastLoaded(tt.from, tt.to)
		if err != nil || seq != tt.wantSeq || id != tt.wantID {
			t.Errorf("LastLoaded(%q, %q) = %d, %q, %v, want %d, %q", tt.from, tt.to, seq, id, err, tt.wantSeq, tt.wantID)
		}
	}
	got, err := c.LoadedFrom()
	// One per sender: hq's bundle to plant wins over its bundle to no site.
	want := []LoadedBundle{{From: "hq", To: "plant", Sequence: 7, Bundle: "h7"},
		{From: "mirror", To: "plant", Sequence: 9, Bundle: "m9"}, {From: "solo", Sequence: 3, Bundle: "s3"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LoadedFrom = %+v, %v, want %+v", got, err, want)
	}
}

func TestCatalog_NextSequence(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	for _, b := range []*BundleRecord{
		{ID: "p1", Direction: DirectionMade, To: "plant", Sequence: 1},
		{ID: "p4", Direction: DirectionMade, To: "plant", Sequence: 4},
		{ID: "p2", Direction: DirectionMade, To: "plant", Sequence: 2},
		{ID: "a1", Direction: DirectionMade, Sequence: 1},
		{ID: "l9", Direction: DirectionLoaded, From: "plant", To: "hq", Sequence: 9},
	} {
		if err := c.Record(ctx, nil, nil, b); err != nil {
			t.Fatal(err)
		}
	}
	c.RecordShipment(ctx, "plant", &BundleRecord{ID: "p5", Sequence: 5}, nil)
	tests := []struct {
		to   string
		want uint64
	}{{"plant", 6}, {"", 2}, {"hq", 1}, {"elsewhere", 1}}
	for _, tt := range tests {
		if got, err := c.NextSequence(tt.to); err != nil || got != tt.want {
			t.Errorf("NextSequence(%q) = %d, %v, want %d", tt.to, got, err, tt.want)
		}
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
