package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// ReceiptApply is a verified receipt from a site, to apply to its
// inventory.
type ReceiptApply struct {
	Site     string
	Sequence uint64 // the receipt's own sequence (the site counts its receipts from 1)
	Created  time.Time
	Held     []Holding // what the site holds: Digest and Size (State, Bundle, Sequence, Time ignored)
	// Covered is the sequence of the newest bundle from this home that
	// had reached the site when it wrote the receipt (its "loaded" entry
	// for this home; 0 for none). Blobs of later bundles were still on
	// their way: the receipt says nothing about them.
	Covered uint64
}

// ApplyResult is what ApplyReceipt changed.
type ApplyResult struct {
	Confirmed int    // rows confirmed after the receipt: the distinct blobs it lists at the right size
	New       int    // of those, rows that were not confirmed before (shipped or missing)
	Reset     int    // rows deleted: shipped (by a bundle the receipt covers) or confirmed but not held, now missing
	InFlight  int    // rows left shipped: blobs of bundles newer than the receipt covers, not held yet
	Stale     bool   // the receipt is not newer than the last one applied: nothing changed
	Last      uint64 // sequence of the last receipt applied before this one (0: none)
	// Mismatched lists, sorted, the blobs the receipt lists at another
	// size than this home knows them: treated as not held.
	Mismatched []digest.Digest
	// Whole lists the layers shipped as deltas that the site does not
	// hold: from now on they travel whole to it (NoDeltas).
	Whole []digest.Digest
}

// ReceiptRecord is the last receipt applied from a site: receipts/<site>.
type ReceiptRecord struct {
	Site     string    `json:"site"`
	Sequence uint64    `json:"sequence"`
	Created  time.Time `json:"created"` // by the site
	Applied  time.Time `json:"applied"` // by this home
	Held     int       `json:"held"`    // distinct blobs it lists
	Bytes    int64     `json:"bytes"`   // and their bytes
	Reset    int       `json:"reset"`   // rows it turned back to missing
}

// ApplyReceipt reconciles the site's inventory with a receipt in one
// write transaction. A receipt whose sequence is not above the last one
// applied from the site changes nothing and is reported Stale. Otherwise
// every blob it lists becomes confirmed (a known row keeps its bundle and
// sequence, a new one names ReceiptBundle), every other row of the site
// is deleted (the receipt is the site's whole inventory, so a blob
// shipped but not held goes back to missing), and the receipt is recorded
// under receipts/<site>.
func (c *Catalog) ApplyReceipt(ctx context.Context, r ReceiptApply) (ApplyResult, error) {
	if err := ctx.Err(); err != nil {
		return ApplyResult{}, err
	}
	held, err := heldSizes(r.Held)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("receipt %d from %s: %w", r.Sequence, r.Site, err)
	}
	var res ApplyResult
	now := time.Now().UTC()
	err = c.update(func(top *bolt.Bucket) error {
		inv, err := requireInventory(top, r.Site)
		if err != nil {
			return err
		}
		receipts := top.Bucket(bucketReceipts)
		var last ReceiptRecord
		if _, err := getJSON(receipts, []byte(r.Site), &last); err != nil {
			return err
		}
		res = ApplyResult{Last: last.Sequence, Stale: r.Sequence <= last.Sequence}
		if res.Stale {
			return nil
		}
		res.Mismatched, err = mismatched(top, inv, held)
		if err != nil {
			return err
		}
		for _, d := range res.Mismatched {
			delete(held, d)
		}
		if res.Reset, res.InFlight, res.Whole, err = resetUnheld(top, r.Site, held, r.Covered, now); err != nil {
			return err
		}
		rec := ReceiptRecord{Site: r.Site, Sequence: r.Sequence, Created: r.Created, Applied: now, Reset: res.Reset}
		for _, d := range slices.Sorted(maps.Keys(held)) {
			changed, err := confirm(inv, d, held[d], now)
			if err != nil {
				return err
			}
			if changed {
				res.New++
			}
			rec.Held++
			rec.Bytes += held[d]
		}
		res.Confirmed = rec.Held
		if err := putJSON(receipts, []byte(r.Site), rec); err != nil {
			return err
		}
		return ctx.Err() // a cancelled context rolls the whole step back
	})
	if err != nil {
		return ApplyResult{}, fmt.Errorf("receipt %d from %s: %w", r.Sequence, r.Site, err)
	}
	return res, nil
}

// heldSizes validates a receipt's list and returns it as digest → size.
func heldSizes(held []Holding) (map[digest.Digest]int64, error) {
	out := make(map[digest.Digest]int64, len(held))
	for _, h := range held {
		if err := spec.ValidateDigest(h.Digest); err != nil {
			return nil, err
		}
		if old, dup := out[h.Digest]; h.Size < 0 || (dup && old != h.Size) {
			return nil, fmt.Errorf("blob %s: size %d: %w", h.Digest, h.Size, spec.ErrBadInput)
		}
		out[h.Digest] = h.Size
	}
	return out, nil
}

// mismatched returns, sorted, the blobs held lists at another size than
// this home knows them by: the site's inventory row, else this home's own
// record of the blob. Such a blob is not what was shipped.
func mismatched(top, inv *bolt.Bucket, held map[digest.Digest]int64) ([]digest.Digest, error) {
	var out []digest.Digest
	for _, d := range slices.Sorted(maps.Keys(held)) {
		var h Holding
		found, err := getJSON(inv, []byte(d), &h)
		if err != nil {
			return nil, err
		}
		if !found {
			var b BlobRecord
			if found, err = getJSON(top.Bucket(bucketBlobs), []byte(d), &b); err != nil {
				return nil, err
			}
			h.Size = b.Size
		}
		if found && h.Size != held[d] {
			out = append(out, d)
		}
	}
	return out, nil
}

// resetUnheld deletes every row of site's inventory whose digest held
// lacks, unless it is a blob shipped in a bundle newer than covered (still
// on its way when the site wrote the receipt), and returns how many it
// deleted and how many it left shipped. A layer it deletes that a delta
// carried is noted to travel whole (noteFailedDeltas), and returned.
func resetUnheld(top *bolt.Bucket, site string, held map[digest.Digest]int64, covered uint64, now time.Time) (reset, inFlight int, whole []digest.Digest, err error) {
	inv := top.Bucket(bucketInventory).Bucket([]byte(site))
	var drop [][]byte
	err = inv.ForEach(func(k, v []byte) error {
		if _, ok := held[digest.Digest(k)]; ok {
			return nil
		}
		var h Holding
		if err := json.Unmarshal(v, &h); err != nil {
			return fmt.Errorf("record %s: %w: %v", k, spec.ErrCorrupt, err)
		}
		if h.State == StateShipped && h.Bundle != ReceiptBundle && h.Sequence > covered {
			inFlight++
			return nil
		}
		drop = append(drop, slices.Clone(k)) // k is valid only in ForEach
		return nil
	})
	if err == nil {
		whole, err = noteFailedDeltas(top, site, drop, now)
	}
	for _, k := range drop {
		if err == nil {
			err = inv.Delete(k)
		}
	}
	return len(drop), inFlight, whole, err
}

// confirm marks d confirmed at size (the receipt's; 0 keeps a known
// size) and reports whether it was not confirmed before.
func confirm(inv *bolt.Bucket, d digest.Digest, size int64, now time.Time) (bool, error) {
	var h Holding
	found, err := getJSON(inv, []byte(d), &h)
	if err != nil {
		return false, err
	}
	if !found {
		h = Holding{Digest: d, Bundle: ReceiptBundle}
	}
	size = cmp.Or(size, h.Size)
	if h.State == StateConfirmed && h.Size == size {
		return false, nil // unchanged, time included
	}
	wasConfirmed := h.State == StateConfirmed
	h.State, h.Size, h.Time = StateConfirmed, size, now
	return !wasConfirmed, putJSON(inv, []byte(d), h)
}
