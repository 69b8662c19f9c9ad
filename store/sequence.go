package store

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// lastBundle is a value of the made index: the bundle with the highest
// sequence made for one addressee.
type lastBundle struct {
	Sequence uint64 `json:"sequence"`
	Bundle   string `json:"bundle"`
}

// SenderBundle is one bundle of a sender, as the loaded index keeps it.
type SenderBundle struct {
	Sequence uint64 `json:"sequence"`
	Bundle   string `json:"bundle"`
	To       string `json:"to,omitempty"` // its addressee; "" for any site
	// Damaged is set when the bundle arrived damaged: some of its images
	// were recorded, not all. A good copy of the same bundle may still
	// load; no other bundle with its sequence may.
	Damaged bool `json:"damaged,omitempty"`
}

// Sender is loaded/<from>: what this home knows of the bundles of one
// sender whose registered key signed them, whatever their addressee (a
// sender numbers all its bundles with one counter).
type Sender struct {
	// Recorded is the newest bundle whose images this home recorded (one
	// or more): no bundle from the sender that is not newer loads after
	// it, unless --allow-replay.
	Recorded SenderBundle `json:"recorded"`
	// Arrived is the newest bundle that reached this home addressed to
	// it or to any site, loaded or not (a missing prerequisite, say): a
	// receipt names it, so that the sender knows which of its bundles
	// the site has seen.
	Arrived SenderBundle `json:"arrived"`
}

// LoadedBundle is, for a receipt, the newest bundle that arrived from a
// sender.
type LoadedBundle struct {
	From     string `json:"from"`
	To       string `json:"to,omitempty"`
	Sequence uint64 `json:"sequence"`
	Bundle   string `json:"bundle"`
}

// anyKey is the made index's key of bundles addressed to no site; no
// site name can be "*".
const anyKey = "*"

// toKey is the made index's key of addressee to.
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

// newer reports whether b should replace old as a sender's newest: a
// higher sequence, or the same bundle arriving whole after it arrived
// damaged.
func newer(b, old SenderBundle) bool {
	return b.Sequence > old.Sequence || (b.Bundle == old.Bundle && old.Damaged && !b.Damaged)
}

// indexBundle keeps the made or loaded index up to date with r. A loaded
// bundle whose signer is not the key registered for its sender
// (Unregistered: --key, --insecure-skip-signature) touches nothing.
func indexBundle(top *bolt.Bucket, r BundleRecord) error {
	switch r.Direction {
	case DirectionMade:
		return raise(top.Bucket(bucketMade), toKey(r.To), lastBundle{Sequence: r.Sequence, Bundle: r.ID})
	case DirectionLoaded:
		if r.From == "" {
			return fmt.Errorf("loaded bundle %s names no sender: %w", r.ID, spec.ErrBadInput)
		}
		if r.Unregistered {
			return nil
		}
		b := SenderBundle{Sequence: r.Sequence, Bundle: r.ID, To: r.To, Damaged: len(r.Damaged) > 0}
		counts := len(r.Images) > 0 // it recorded images: nothing not newer may load after it
		return updateSender(top, r.From, func(s *Sender) {
			if newer(b, s.Arrived) {
				s.Arrived = b
			}
			if counts && newer(b, s.Recorded) {
				s.Recorded = b
			}
		})
	}
	return nil
}

// updateSender reads loaded/<from>, lets fn change it, and writes it.
func updateSender(top *bolt.Bucket, from string, fn func(*Sender)) error {
	b := top.Bucket(bucketLoaded)
	var s Sender
	if _, err := getJSON(b, []byte(from), &s); err != nil {
		return fmt.Errorf("loaded from %s: %w", from, err)
	}
	fn(&s)
	return putJSON(b, []byte(from), s)
}

// NoteArrival records that bundle b from sender from reached this home,
// addressed to it, signed by the sender's registered key, even though it
// was not loaded (a missing prerequisite, say): the next receipt names
// it, so that the sender sends again what that bundle and the ones
// before it carried. A bundle not newer than the last arrival changes
// nothing.
func (c *Catalog) NoteArrival(from string, b SenderBundle) error {
	if err := spec.ValidateSiteName(from); err != nil {
		return err
	}
	return c.update(func(top *bolt.Bucket) error {
		return updateSender(top, from, func(s *Sender) {
			if newer(b, s.Arrived) {
				s.Arrived = b
			}
		})
	})
}

// NextSequence is the sequence number of the next bundle this home makes,
// whatever its addressee: one more than the highest it ever made (the
// made index). One counter for all addressees, so that a site can order
// every bundle of this sender, whether addressed to it or to any site.
func (c *Catalog) NextSequence() (uint64, error) {
	var max uint64
	err := c.view(func(top *bolt.Bucket) error {
		return top.Bucket(bucketMade).ForEach(func(k, _ []byte) error {
			var last lastBundle
			if _, err := getJSON(top.Bucket(bucketMade), k, &last); err != nil {
				return err
			}
			max = maxOf(max, last.Sequence)
			return nil
		})
	})
	return max + 1, err
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// Sender returns what this home knows of sender from's bundles; the zero
// Sender when it loaded none.
func (c *Catalog) Sender(from string) (Sender, error) {
	var s Sender
	err := c.view(func(top *bolt.Bucket) error {
		_, err := getJSON(top.Bucket(bucketLoaded), []byte(from), &s)
		return err
	})
	return s, err
}

// LoadedFrom lists, one per sender in name order, the newest bundle that
// arrived from it, for a receipt's "loaded" list.
func (c *Catalog) LoadedFrom() ([]LoadedBundle, error) {
	var out []LoadedBundle
	err := c.view(func(top *bolt.Bucket) error {
		loaded := top.Bucket(bucketLoaded)
		return loaded.ForEach(func(from, raw []byte) error {
			var s Sender
			if _, err := getJSON(loaded, from, &s); err != nil {
				return fmt.Errorf("loaded from %s: %w", from, err)
			}
			if a := s.Arrived; a.Bundle != "" {
				out = append(out, LoadedBundle{From: string(from), To: a.To, Sequence: a.Sequence, Bundle: a.Bundle})
			}
			return nil
		})
	})
	return out, err
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
