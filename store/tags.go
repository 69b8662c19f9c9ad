package store

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// TagHistory is tags/<name>: every image an image name pointed at before
// the one it points at now, oldest first. It outlives the image record
// (a repair or an rm), so a tag cannot be moved back by deleting it first.
type TagHistory struct {
	Name     string      `json:"name"`
	Replaced []TagChange `json:"replaced"`
}

// TagChange is one move of a tag: from Digest to By, by a bundle
// (Bundle, Sequence) from a sender (From), or by this home itself
// (receipt create --include: From and Bundle empty).
type TagChange struct {
	Digest   digest.Digest `json:"digest"`
	By       digest.Digest `json:"by"`
	From     string        `json:"from,omitempty"`
	Bundle   string        `json:"bundle,omitempty"`
	Sequence uint64        `json:"sequence,omitempty"`
	Time     time.Time     `json:"time"`
}

// ReplacedBy returns the change by which a bundle from sender moved this
// tag away from d, if one did.
func (h TagHistory) ReplacedBy(d digest.Digest, sender string) (TagChange, bool) {
	for _, c := range h.Replaced {
		if c.Digest == d && c.From == sender {
			return c, true
		}
	}
	return TagChange{}, false
}

// noteMove appends to name's history that it moved from old to the image
// of r, by bundle (nil for this home's own import). A bundle whose
// signer is not its sender's registered key is not attributed to the
// sender.
func noteMove(top *bolt.Bucket, old, r ImageRecord, bundle *BundleRecord, now time.Time) error {
	b := top.Bucket(bucketTags)
	var h TagHistory
	if _, err := getJSON(b, []byte(r.Name), &h); err != nil {
		return err
	}
	h.Name = r.Name
	c := TagChange{Digest: old.Digest, By: r.Digest, Time: now}
	if bundle != nil && !bundle.Unregistered {
		c.From, c.Bundle, c.Sequence = bundle.From, bundle.ID, bundle.Sequence
	}
	h.Replaced = append(h.Replaced, c)
	return putJSON(b, []byte(r.Name), h)
}

// TagHistory returns what the image name pointed at before; an empty
// history when it never moved.
func (c *Catalog) TagHistory(name string) (TagHistory, error) {
	h := TagHistory{Name: name}
	err := c.view(func(top *bolt.Bucket) error {
		_, err := getJSON(top.Bucket(bucketTags), []byte(name), &h)
		return err
	})
	if err != nil {
		return h, fmt.Errorf("tag history of %s: %w", name, err)
	}
	return h, nil
}
