package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrateV2 brings a version-1 catalog to version 2: it creates the
// receipts, loaded and made buckets (and inventory and diffids, which
// version 1 reserved, should they be missing) and back-fills the loaded
// and made indexes from the bundle records.
func migrateV2(tx *bolt.Tx) error {
	top := tx.Bucket(bucketV1)
	for _, name := range [][]byte{bucketInventory, bucketDiffIDs, bucketReceipts, bucketLoaded, bucketMade} {
		if _, err := top.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return eachJSON(top.Bucket(bucketBundles), func(r BundleRecord) error {
		if r.Direction == DirectionLoaded && r.From == "" {
			return nil // nothing to index it by; v1 never wrote one
		}
		if err := indexBundle(top, r); err != nil {
			return fmt.Errorf("bundle %s: %w", r.ID, err)
		}
		return nil
	})
}
