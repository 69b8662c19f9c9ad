package store

import (
	"fmt"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// putDiffID indexes r under its DiffID. The first blob recorded for a
// DiffID keeps it (two compressions of one layer share a DiffID) unless
// that blob is no longer recorded.
func putDiffID(top *bolt.Bucket, r BlobRecord) error {
	if r.DiffID == "" {
		return nil
	}
	b := top.Bucket(bucketDiffIDs)
	if old := b.Get([]byte(r.DiffID)); old != nil && top.Bucket(bucketBlobs).Get(old) != nil {
		return nil
	}
	if err := b.Put([]byte(r.DiffID), []byte(r.Digest)); err != nil {
		return fmt.Errorf("blob %s: diffID %s: %w", r.Digest, r.DiffID, err)
	}
	return nil
}

// deleteDiffID removes r's DiffID from the index if it points to r.
func deleteDiffID(top *bolt.Bucket, r BlobRecord) error {
	b := top.Bucket(bucketDiffIDs)
	if r.DiffID == "" || string(b.Get([]byte(r.DiffID))) != string(r.Digest) {
		return nil
	}
	return b.Delete([]byte(r.DiffID))
}

// BlobByDiffID returns the digest of the blob recorded for a layer whose
// uncompressed digest is diffID (so a layer that went through docker load
// is still recognised), or an error wrapping spec.ErrNotFound.
func (c *Catalog) BlobByDiffID(diffID digest.Digest) (digest.Digest, error) {
	if err := spec.ValidateDigest(diffID); err != nil {
		return "", fmt.Errorf("diffID: %w", err)
	}
	var d digest.Digest
	err := c.view(func(top *bolt.Bucket) error {
		d = digest.Digest(top.Bucket(bucketDiffIDs).Get([]byte(diffID))) // the conversion copies
		if d == "" {
			return fmt.Errorf("layer with diffID %s: %w in the catalog", diffID, spec.ErrNotFound)
		}
		return nil
	})
	return d, err
}
