package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// lastBundle is a value of the loaded and made indexes: the bundle with
// the highest sequence for one sender and addressee.
type lastBundle struct {
	Sequence uint64 `json:"sequence"`
	Bundle   string `json:"bundle"`
}

// LoadedBundle is the last bundle loaded from one sender to one
// addressee (To is "" for a bundle addressed to no site).
type LoadedBundle struct {
	From     string `json:"from"`
	To       string `json:"to,omitempty"`
	Sequence uint64 `json:"sequence"`
	Bundle   string `json:"bundle"`
}

// anyKey is the index key of bundles addressed to no site; no site name
// can be "*".
const anyKey = "*"

// toKey is the index key of addressee to.
func toKey(to string) []byte {
	if to == "" {
		return []byte(anyKey)
	}
	return []byte(to)
}

// raise stores r under key in b unless b already holds a sequence at
// least as high: the highest sequence wins, so a replayed bundle never
// lowers it.
func raise(b *bolt.Bucket, key []byte, r lastBundle) error {
	var old lastBundle
	found, err := getJSON(b, key, &old)
	if err != nil || (found && old.Sequence >= r.Sequence) {
		return err
	}
	return putJSON(b, key, r)
}

// indexBundle keeps the loaded or made index up to date with r.
func indexBundle(top *bolt.Bucket, r BundleRecord) error {
	last := lastBundle{Sequence: r.Sequence, Bundle: r.ID}
	switch r.Direction {
	case DirectionMade:
		return raise(top.Bucket(bucketMade), toKey(r.To), last)
	case DirectionLoaded:
		if r.From == "" {
			return fmt.Errorf("loaded bundle %s names no sender: %w", r.ID, spec.ErrBadInput)
		}
		if len(r.Damaged) > 0 {
			// A bundle that arrived damaged does not count as loaded for
			// replay protection: a good copy of it must still load.
			return nil
		}
		from, err := top.Bucket(bucketLoaded).CreateBucketIfNotExists([]byte(r.From))
		if err != nil {
			return fmt.Errorf("bundle %s: sender %s: %w", r.ID, r.From, err)
		}
		return raise(from, toKey(r.To), last)
	}
	return nil
}

// NextSequence is the sequence number of the next bundle this home makes
// for site to ("" for bundles to any site): one more than the highest
// recorded (made index, one read).
func (c *Catalog) NextSequence(to string) (uint64, error) {
	var last lastBundle
	err := c.view(func(top *bolt.Bucket) error {
		_, err := getJSON(top.Bucket(bucketMade), toKey(to), &last)
		return err
	})
	return last.Sequence + 1, err
}

// LastLoaded is the replay check of the receiving side: the highest
// sequence, and its bundle id, loaded from sender from addressed to to
// ("" = addressed to no particular site). It is 0, "" if none was.
func (c *Catalog) LastLoaded(from, to string) (seq uint64, bundleID string, err error) {
	var last lastBundle
	err = c.view(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketLoaded).Bucket([]byte(from))
		if from == "" || b == nil {
			return nil
		}
		_, err := getJSON(b, toKey(to), &last)
		return err
	})
	return last.Sequence, last.Bundle, err
}

// LoadedFrom lists, one per sender in name order, the last bundle
// loaded from it, for a receipt's "loaded" list. A sender's bundles
// addressed to a site (this one) win over those addressed to no site,
// which it counts apart; among several addressees the highest sequence
// wins.
func (c *Catalog) LoadedFrom() ([]LoadedBundle, error) {
	var out []LoadedBundle
	err := c.view(func(top *bolt.Bucket) error {
		loaded := top.Bucket(bucketLoaded)
		return loaded.ForEachBucket(func(from []byte) error {
			lb, err := lastFrom(loaded.Bucket(from))
			if err != nil {
				return fmt.Errorf("loaded from %s: %w", from, err)
			}
			if lb.Bundle != "" {
				lb.From = string(from)
				out = append(out, lb)
			}
			return nil
		})
	})
	return out, err
}

// lastFrom picks the entry of one sender's bucket that LoadedFrom lists.
func lastFrom(b *bolt.Bucket) (LoadedBundle, error) {
	var best LoadedBundle
	err := b.ForEach(func(to, _ []byte) error {
		var last lastBundle
		if _, err := getJSON(b, to, &last); err != nil {
			return err
		}
		lb := LoadedBundle{To: string(to), Sequence: last.Sequence, Bundle: last.Bundle}
		if lb.To == anyKey {
			lb.To = ""
		}
		addressed, bestAddressed := lb.To != "", best.To != ""
		if best.Bundle == "" || (addressed && !bestAddressed) ||
			(addressed == bestAddressed && lb.Sequence > best.Sequence) {
			best = lb
		}
		return nil
	})
	return best, err
}

// NextReceiptSequence returns the sequence of the next receipt this home
// makes, 1 for the first, and persists it (meta/receipt_seq) in one write
// transaction, so that no two receipts share a sequence.
func (c *Catalog) NextReceiptSequence() (uint64, error) {
	var next uint64
	err := c.update(func(top *bolt.Bucket) error {
		meta := top.Bucket(bucketMeta)
		if raw := meta.Get(keyReceiptSeq); raw != nil {
			n, err := strconv.ParseUint(string(raw), 10, 64)
			if err != nil {
				return fmt.Errorf("receipt sequence %q: %w", raw, spec.ErrCorrupt)
			}
			next = n
		}
		next++
		return meta.Put(keyReceiptSeq, []byte(strconv.FormatUint(next, 10)))
	})
	if err != nil {
		return 0, fmt.Errorf("catalog %s: %w", c.path, err)
	}
	return next, nil
}
