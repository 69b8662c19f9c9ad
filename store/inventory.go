package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// Inventory states of a blob at a site. A blob with no row is missing.
const (
	StateConfirmed = "confirmed" // the site said it holds it (a receipt)
	StateShipped   = "shipped"   // sent in a bundle, not yet confirmed
)

// ReceiptBundle is the Bundle of a Holding known only from a receipt.
const ReceiptBundle = "receipt"

// Holding is what this home knows of one blob at one site: a row of
// inventory/<site>.
type Holding struct {
	Digest   digest.Digest `json:"digest"`
	Size     int64         `json:"size"`
	State    string        `json:"state"`    // StateConfirmed or StateShipped
	Bundle   string        `json:"bundle"`   // id of the bundle that carried it, or ReceiptBundle when only a receipt says so
	Sequence uint64        `json:"sequence"` // that bundle's sequence (0 for ReceiptBundle)
	Time     time.Time     `json:"time"`     // when this home set the state
	// Layer is set for a layer this home shipped: save looks among them
	// for the bases of a delta.
	Layer *LayerOf `json:"layer,omitempty"`
	// Delta marks a layer shipped as a delta entry (spec/delta-v1.md): if
	// a receipt shows the site does not hold it, its next trip is whole.
	Delta bool `json:"delta,omitempty"`
}

// LayerOf is what this home knows of a layer it shipped.
type LayerOf struct {
	MediaType string `json:"mediaType"`
	// Repository is that of the image that brought it ("" when that
	// image's name has none).
	Repository string `json:"repository,omitempty"`
}

// SiteSummary is what this home knows of a site, for ferry site show.
type SiteSummary struct {
	Site                         string
	Confirmed, Shipped           int // rows in each state
	ConfirmedBytes, ShippedBytes int64
	LastReceipt                  *ReceiptRecord // nil if none applied
	Made                         []BundleRecord // bundles made for the site, by sequence
	Loaded                       []BundleRecord // bundles loaded from the site, by sequence
}

// requireSite returns an error wrapping spec.ErrUnknownSite unless site
// is registered.
func requireSite(top *bolt.Bucket, site string) error {
	if site != "" && top.Bucket(bucketSites).Get([]byte(site)) != nil {
		return nil
	}
	return fmt.Errorf("site %q: %w: add it with ferry site add %s --key FILE.pub", site, spec.ErrUnknownSite, site)
}

// siteInventory returns the inventory bucket of a registered site,
// creating it in a write transaction; nil in a read transaction if the
// site has none yet.
func siteInventory(top *bolt.Bucket, site string) (*bolt.Bucket, error) {
	inv := top.Bucket(bucketInventory)
	if !inv.Tx().Writable() {
		return inv.Bucket([]byte(site)), nil
	}
	b, err := inv.CreateBucketIfNotExists([]byte(site))
	if err != nil {
		return nil, fmt.Errorf("inventory of %s: %w", site, err)
	}
	return b, nil
}

// Holdings returns, in one read transaction, the blobs of ds that site is
// known to hold (confirmed or shipped); a blob absent from the map is
// missing there. An unknown site is an error wrapping spec.ErrUnknownSite.
func (c *Catalog) Holdings(site string, ds []digest.Digest) (map[digest.Digest]Holding, error) {
	out := make(map[digest.Digest]Holding)
	err := c.view(func(top *bolt.Bucket) error {
		inv, err := requireInventory(top, site)
		if inv == nil || err != nil {
			return err
		}
		for _, d := range ds {
			var h Holding
			found, err := getJSON(inv, []byte(d), &h)
			if err != nil {
				return fmt.Errorf("inventory of %s: %w", site, err)
			}
			if found && (h.State == StateConfirmed || h.State == StateShipped) {
				out[d] = h
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// requireInventory is siteInventory for a site that must be registered.
func requireInventory(top *bolt.Bucket, site string) (*bolt.Bucket, error) {
	if err := requireSite(top, site); err != nil {
		return nil, err
	}
	return siteInventory(top, site)
}

// Inventory calls fn for every row of site's inventory in digest order,
// inside one read transaction: fn must not write to the catalog.
func (c *Catalog) Inventory(site string, fn func(Holding) error) error {
	return c.view(func(top *bolt.Bucket) error {
		inv, err := requireInventory(top, site)
		if inv == nil || err != nil {
			return err
		}
		return eachJSON(inv, fn)
	})
}

// RecordShipment records, in one write transaction, bundle (made by this
// home for site) and every blob of shipped as StateShipped with the
// bundle's id and sequence. A blob already confirmed at the site keeps
// its row unchanged; a blob shipped before now names this bundle. The
// bundle's Direction and To default to DirectionMade and site; others are
// refused with spec.ErrBadInput. Zero times are set to now.
func (c *Catalog) RecordShipment(ctx context.Context, site string, bundle *BundleRecord, shipped []Holding) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if bundle == nil {
		return fmt.Errorf("shipment to %s without a bundle record: %w", site, spec.ErrBadInput)
	}
	r := *bundle
	r.Direction = cmp.Or(r.Direction, DirectionMade)
	r.To = cmp.Or(r.To, site)
	if r.Direction != DirectionMade || r.To != site {
		return fmt.Errorf("bundle %s (%s, to %s) is not a bundle made for %s: %w", r.ID, r.Direction, r.To, site, spec.ErrBadInput)
	}
	now := time.Now().UTC()
	return c.update(func(top *bolt.Bucket) error {
		inv, err := requireInventory(top, site)
		if err != nil {
			return err
		}
		if err := putBundle(top, r, now); err != nil {
			return err
		}
		for _, h := range shipped {
			if err := ship(inv, h, r, now); err != nil {
				return fmt.Errorf("bundle %s to %s: %w", r.ID, site, err)
			}
		}
		return ctx.Err() // a cancelled context rolls the whole step back
	})
}

// ship writes h as shipped in bundle r unless the row is confirmed.
func ship(inv *bolt.Bucket, h Holding, r BundleRecord, now time.Time) error {
	if err := spec.ValidateDigest(h.Digest); err != nil {
		return err
	}
	if h.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d: %w", h.Digest, h.Size, spec.ErrBadInput)
	}
	var old Holding
	found, err := getJSON(inv, []byte(h.Digest), &old)
	if err != nil || (found && old.State == StateConfirmed) {
		return err
	}
	row := Holding{Digest: h.Digest, Size: h.Size, State: StateShipped, Bundle: r.ID, Sequence: r.Sequence,
		Time: cmp.Or(h.Time, now), Layer: h.Layer, Delta: h.Delta}
	return putJSON(inv, []byte(h.Digest), row)
}

// SiteSummary counts site's inventory by state and lists the last
// receipt applied and the bundles exchanged with it, in one read
// transaction.
func (c *Catalog) SiteSummary(site string) (SiteSummary, error) {
	s := SiteSummary{Site: site}
	err := c.view(func(top *bolt.Bucket) error {
		inv, err := requireInventory(top, site)
		if err != nil {
			return err
		}
		if inv != nil {
			if err := eachJSON(inv, s.count); err != nil {
				return fmt.Errorf("inventory of %s: %w", site, err)
			}
		}
		var rec ReceiptRecord
		found, err := getJSON(top.Bucket(bucketReceipts), []byte(site), &rec)
		if err != nil {
			return fmt.Errorf("receipt of %s: %w", site, err)
		}
		if found {
			s.LastReceipt = &rec
		}
		return eachJSON(top.Bucket(bucketBundles), func(b BundleRecord) error {
			if b.Direction == DirectionMade && b.To == site {
				s.Made = append(s.Made, b)
			}
			if b.Direction == DirectionLoaded && b.From == site {
				s.Loaded = append(s.Loaded, b)
			}
			return nil
		})
	})
	bySequence := func(a, b BundleRecord) int {
		return cmp.Or(cmp.Compare(a.Sequence, b.Sequence), a.Recorded.Compare(b.Recorded))
	}
	slices.SortFunc(s.Made, bySequence)
	slices.SortFunc(s.Loaded, bySequence)
	return s, err
}

func (s *SiteSummary) count(h Holding) error {
	switch h.State {
	case StateConfirmed:
		s.Confirmed++
		s.ConfirmedBytes += h.Size
	case StateShipped:
		s.Shipped++
		s.ShippedBytes += h.Size
	}
	return nil
}
