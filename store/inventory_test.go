package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// catalogWithSites is a fresh catalog with the named sites registered.
func catalogWithSites(t testing.TB, sites ...string) *Catalog {
	t.Helper()
	c, err := OpenCatalog(t.TempDir() + "/catalog.db")
	if err != nil {
		t.Fatalf("OpenCatalog = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	for _, s := range sites {
		if err := c.PutSite(Site{Name: s, Key: "ssh-ed25519 AAAA" + s}); err != nil {
			t.Fatalf("PutSite(%s) = %v", s, err)
		}
	}
	return c
}

// blob is the test digest named name.
func blob(name string) digest.Digest { return digest.FromString(name) }

// held lists name:size pairs as receipt or shipment holdings.
func held(names ...string) []Holding {
	var out []Holding
	for _, n := range names {
		out = append(out, Holding{Digest: blob(n), Size: int64(len(n))})
	}
	return out
}

func made(id string, seq uint64) *BundleRecord {
	return &BundleRecord{ID: id, Direction: DirectionMade, From: "hq", To: "plant", Sequence: seq}
}

// states is the site's inventory as "name=state@bundle" for the names.
func states(t *testing.T, c *Catalog, site string, names ...string) string {
	t.Helper()
	ds := make([]digest.Digest, len(names))
	for i, n := range names {
		ds[i] = blob(n)
	}
	got, err := c.Holdings(site, ds)
	if err != nil {
		t.Fatalf("Holdings(%s) = %v", site, err)
	}
	var parts []string
	for _, n := range names {
		if h, ok := got[blob(n)]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s@%s/%d", n, h.State, h.Bundle, h.Sequence))
		} else {
			parts = append(parts, n+"=missing")
		}
	}
	return strings.Join(parts, " ")
}

func TestCatalog_RecordShipment(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant", "other")
	if err := c.RecordShipment(ctx, "plant", made("b1", 1), held("a", "b")); err != nil {
		t.Fatalf("RecordShipment(b1) = %v", err)
	}
	if _, err := c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 1, Held: held("a", "b")}); err != nil {
		t.Fatal(err)
	}
	if err := c.RecordShipment(ctx, "plant", made("b2", 2), held("b", "c")); err != nil {
		t.Fatalf("RecordShipment(b2) = %v", err)
	}
	want := "a=confirmed@b1/1 b=confirmed@b1/1 c=shipped@b2/2 d=missing"
	if got := states(t, c, "plant", "a", "b", "c", "d"); got != want {
		t.Errorf("after shipping b, c in b2: %s, want %s", got, want)
	}
	if got := states(t, c, "other", "a"); got != "a=missing" {
		t.Errorf("other site: %s, want a=missing", got)
	}
	if r, err := c.Bundle("b2"); err != nil || r.Direction != DirectionMade || r.Recorded.IsZero() {
		t.Errorf("Bundle(b2) = %+v, %v, want a made record", r, err)
	}
	var rows int
	c.Inventory("plant", func(Holding) error { rows++; return nil })
	if rows != 3 {
		t.Errorf("Inventory(plant) visited %d rows, want 3", rows)
	}

	tests := []struct {
		name    string
		site    string
		bundle  *BundleRecord
		shipped []Holding
		wantErr error
	}{
		{"unknown site", "nowhere", &BundleRecord{ID: "x1", Sequence: 1}, nil, spec.ErrUnknownSite},
		{"no bundle", "plant", nil, nil, spec.ErrBadInput},
		{"loaded bundle", "plant", &BundleRecord{ID: "x2", Direction: DirectionLoaded, From: "plant"}, nil, spec.ErrBadInput},
		{"other addressee", "other", made("x3", 1), nil, spec.ErrBadInput},
		{"bad digest", "plant", made("x4", 3), []Holding{{Digest: "sha256:nope"}}, spec.ErrBadInput},
	}
	for _, tt := range tests {
		err := c.RecordShipment(ctx, tt.site, tt.bundle, tt.shipped)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("RecordShipment(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if _, err := c.Bundle("x4"); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("a refused shipment left its bundle record (%v)", err)
	}
	for _, err := range []error{errOf(c.Holdings("nowhere", nil)), c.Inventory("nowhere", nil), errOf(c.SiteSummary("nowhere"))} {
		if !errors.Is(err, spec.ErrUnknownSite) || !strings.Contains(err.Error(), "nowhere") {
			t.Errorf("call on an unknown site = %v, want ErrUnknownSite naming it", err)
		}
	}
}

func TestCatalog_ApplyReceipt(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	// b1 shipped a, b, c; the site already held x.
	if err := c.RecordShipment(ctx, "plant", made("b1", 1), held("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	names := []string{"a", "b", "c", "x", "y"}
	tests := []struct {
		name string
		r    ReceiptApply
		want ApplyResult
		rows string
	}{
		{"first receipt: a, b and x held, c lost",
			ReceiptApply{Site: "plant", Sequence: 3, Held: held("a", "b", "x", "a"), Covered: 1},
			ApplyResult{Confirmed: 3, New: 3, Reset: 1},
			"a=confirmed@b1/1 b=confirmed@b1/1 c=missing x=confirmed@receipt/0 y=missing"},
		{"stale receipt changes nothing",
			ReceiptApply{Site: "plant", Sequence: 2, Held: held("y"), Covered: 1},
			ApplyResult{Stale: true, Last: 3},
			"a=confirmed@b1/1 b=confirmed@b1/1 c=missing x=confirmed@receipt/0 y=missing"},
		{"same sequence is stale",
			ReceiptApply{Site: "plant", Sequence: 3},
			ApplyResult{Stale: true, Last: 3},
			"a=confirmed@b1/1 b=confirmed@b1/1 c=missing x=confirmed@receipt/0 y=missing"},
		{"next receipt: b removed by the site, y added",
			ReceiptApply{Site: "plant", Sequence: 4, Held: held("a", "x", "y"), Covered: 1},
			ApplyResult{Confirmed: 3, New: 1, Reset: 1, Last: 3},
			"a=confirmed@b1/1 b=missing c=missing x=confirmed@receipt/0 y=confirmed@receipt/0"},
	}
	for _, tt := range tests {
		got, err := c.ApplyReceipt(ctx, tt.r)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ApplyReceipt(%s) = %+v, %v, want %+v", tt.name, got, err, tt.want)
		}
		if rows := states(t, c, "plant", names...); rows != tt.rows {
			t.Errorf("after %s: %s, want %s", tt.name, rows, tt.rows)
		}
	}
	s, err := c.SiteSummary("plant")
	if err != nil || s.LastReceipt == nil || s.LastReceipt.Sequence != 4 || s.LastReceipt.Held != 3 ||
		s.LastReceipt.Bytes != 3 || s.LastReceipt.Applied.IsZero() {
		t.Errorf("SiteSummary(plant).LastReceipt = %+v, %v, want sequence 4, 3 blobs of 3 bytes", s.LastReceipt, err)
	}

	bad := []struct {
		name    string
		r       ReceiptApply
		wantErr error
	}{
		{"unknown site", ReceiptApply{Site: "nowhere", Sequence: 9}, spec.ErrUnknownSite},
		{"bad digest", ReceiptApply{Site: "plant", Sequence: 9, Held: []Holding{{Digest: "md5:x"}}}, spec.ErrBadInput},
		{"two sizes", ReceiptApply{Site: "plant", Sequence: 9, Held: []Holding{{Digest: blob("a"), Size: 1}, {Digest: blob("a"), Size: 2}}}, spec.ErrBadInput},
	}
	for _, tt := range bad {
		if _, err := c.ApplyReceipt(ctx, tt.r); !errors.Is(err, tt.wantErr) {
			t.Errorf("ApplyReceipt(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.ApplyReceipt(cancelled, ReceiptApply{Site: "plant", Sequence: 9}); !errors.Is(err, context.Canceled) {
		t.Errorf("ApplyReceipt(cancelled) = %v, want context.Canceled", err)
	}
}

func TestCatalog_SiteSummary(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c.RecordShipment(ctx, "plant", made("b2", 2), held("bb", "ccc"))
	c.RecordShipment(ctx, "plant", made("b1", 1), held("a"))
	c.Record(ctx, nil, nil, &BundleRecord{ID: "r1", Direction: DirectionLoaded, From: "plant", To: "hq", Sequence: 7, Created: when})
	c.Record(ctx, nil, nil, &BundleRecord{ID: "r0", Direction: DirectionLoaded, From: "elsewhere", Sequence: 1})
	c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 1, Created: when, Held: held("a", "dddd"), Covered: 2})
	c.RecordShipment(ctx, "plant", made("b3", 3), held("eeeee", "a"))

	s, err := c.SiteSummary("plant")
	if err != nil {
		t.Fatalf("SiteSummary = %v", err)
	}
	var madeIDs, loadedIDs []string
	for _, b := range s.Made {
		madeIDs = append(madeIDs, b.ID)
	}
	for _, b := range s.Loaded {
		loadedIDs = append(loadedIDs, b.ID)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"Confirmed", s.Confirmed, 2}, // a, dddd
		{"ConfirmedBytes", s.ConfirmedBytes, int64(5)},
		{"Shipped", s.Shipped, 1}, // eeeee (bb, ccc reset by the receipt)
		{"ShippedBytes", s.ShippedBytes, int64(5)},
		{"Made", strings.Join(madeIDs, " "), "b1 b2 b3"},
		{"Loaded", strings.Join(loadedIDs, " "), "r1"},
		{"LastReceipt.Created", s.LastReceipt.Created, when},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("SiteSummary(plant).%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if s, err := catalogWithSites(t, "new").SiteSummary("new"); err != nil || s.LastReceipt != nil || s.Confirmed+s.Shipped != 0 {
		t.Errorf("SiteSummary(new site) = %+v, %v, want empty", s, err)
	}
}

// TestCatalog_ApplyReceiptInFlight: a receipt covers the bundles that had
// reached the site when it was written. Blobs of a newer bundle stay
// shipped (trip 1's receipt, back after trip 2 left, does not make trip 3
// carry trip 2's layers again); blobs of covered bundles that the site
// lacks go back to missing. Before, every unlisted row went back.
func TestCatalog_ApplyReceiptInFlight(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	c.RecordShipment(ctx, "plant", made("b1", 1), held("a", "b"))
	c.RecordShipment(ctx, "plant", made("b2", 2), held("big", "c"))
	// Written after trip 1 was loaded, before trip 2 arrived; b was lost.
	got, err := c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 1, Held: held("a"), Covered: 1})
	want := ApplyResult{Confirmed: 1, New: 1, Reset: 1, InFlight: 2}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyReceipt(covers trip 1) = %+v, %v, want %+v", got, err, want)
	}
	if rows := states(t, c, "plant", "a", "b", "big", "c"); rows != "a=confirmed@b1/1 b=missing big=shipped@b2/2 c=shipped@b2/2" {
		t.Errorf("after the receipt of trip 1: %s, want trip 2's blobs still shipped", rows)
	}
	// The next receipt covers trip 2, which lost c.
	got, err = c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 2, Held: held("a", "big"), Covered: 2})
	want = ApplyResult{Confirmed: 2, New: 1, Reset: 1, Last: 1}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyReceipt(covers trip 2) = %+v, %v, want %+v", got, err, want)
	}
	if rows := states(t, c, "plant", "a", "big", "c"); rows != "a=confirmed@b1/1 big=confirmed@b2/2 c=missing" {
		t.Errorf("after the receipt of trip 2: %s", rows)
	}
}

// TestCatalog_ApplyReceiptWrongSize: a receipt that lists a blob at
// another size than the one shipped (or the one this home holds) does not
// confirm it: the blob is treated as not held and reported. Before, it
// became confirmed at the receipt's size.
func TestCatalog_ApplyReceiptWrongSize(t *testing.T) {
	ctx := context.Background()
	c := catalogWithSites(t, "plant")
	c.RecordShipment(ctx, "plant", made("b1", 1), held("a", "b"))
	own := blob("own")
	c.Record(ctx, []BlobRecord{{Digest: own, Size: 3}}, nil, nil)
	wrong := []Holding{{Digest: blob("a"), Size: 99}, {Digest: blob("b"), Size: 1}, {Digest: own, Size: 4}}
	got, err := c.ApplyReceipt(ctx, ReceiptApply{Site: "plant", Sequence: 1, Held: wrong, Covered: 1})
	want := ApplyResult{Confirmed: 1, New: 1, Reset: 1, Mismatched: []digest.Digest{blob("a"), own}}
	slices.Sort(want.Mismatched)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ApplyReceipt(wrong sizes) = %+v, %v, want %+v", got, err, want)
	}
	if rows := states(t, c, "plant", "a", "b", "own"); rows != "a=missing b=confirmed@b1/1 own=missing" {
		t.Errorf("after a receipt with wrong sizes: %s, want a and own not held", rows)
	}
}
