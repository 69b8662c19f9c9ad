package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// NoDelta is a layer that this home shipped to a site as a delta, and
// that a receipt then showed the site does not hold: the delta failed
// there (damaged, a base damaged, a recipe its ferry cannot follow), or
// never arrived. Save ships it whole to that site from then on. A row of
// nodelta/<site>.
type NoDelta struct {
	Digest   digest.Digest `json:"digest"`
	Bundle   string        `json:"bundle"`   // the bundle that carried the delta
	Sequence uint64        `json:"sequence"` // its sequence
	Time     time.Time     `json:"time"`     // when the receipt showed it
}

// bucketNoDelta holds one bucket per site, mapping a layer's digest to
// its NoDelta. Created on first use (2026-12, no schema version change:
// a ferry before it ignores the bucket, and ships no deltas).
var bucketNoDelta = []byte("nodelta")

// NoDeltas returns, in one read transaction, the layers of ds that must
// travel whole to site, because a delta of them failed there.
func (c *Catalog) NoDeltas(site string, ds []digest.Digest) (map[digest.Digest]NoDelta, error) {
	out := map[digest.Digest]NoDelta{}
	err := c.view(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketNoDelta)
		if b != nil {
			b = b.Bucket([]byte(site))
		}
		if b == nil {
			return nil
		}
		for _, d := range ds {
			var n NoDelta
			found, err := getJSON(b, []byte(d), &n)
			if err != nil {
				return fmt.Errorf("nodelta of %s: %w", site, err)
			}
			if found {
				out[d] = n
			}
		}
		return nil
	})
	return out, err
}

// noteFailedDeltas records, for each row of dropped that a delta
// shipped, that its layer travels whole to site from now on.
func noteFailedDeltas(top *bolt.Bucket, site string, dropped [][]byte, now time.Time) ([]digest.Digest, error) {
	var out []digest.Digest
	var b *bolt.Bucket
	inv := top.Bucket(bucketInventory).Bucket([]byte(site))
	for _, k := range dropped {
		var h Holding
		if err := json.Unmarshal(inv.Get(k), &h); err != nil {
			return nil, fmt.Errorf("record %s: %w: %v", k, spec.ErrCorrupt, err)
		}
		if !h.Delta || h.State != StateShipped {
			continue
		}
		if b == nil {
			all, err := top.CreateBucketIfNotExists(bucketNoDelta)
			if err != nil {
				return nil, err
			}
			if b, err = all.CreateBucketIfNotExists([]byte(site)); err != nil {
				return nil, err
			}
		}
		if err := putJSON(b, k, NoDelta{Digest: h.Digest, Bundle: h.Bundle, Sequence: h.Sequence, Time: now}); err != nil {
			return nil, err
		}
		out = append(out, h.Digest)
	}
	return out, nil
}
