package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrateV3 brings a version-2 catalog to version 3. The loaded index was
// one bucket per sender holding the highest sequence per addressee; a
// sender numbers all its bundles with one counter now, so it becomes one
// Sender value per sender whose Recorded and Arrived are the highest of
// those entries. The tags bucket (tag history, for the downgrade check) is
// created empty.
func migrateV3(tx *bolt.Tx) error {
	top := tx.Bucket(bucketV1)
	if _, err := top.CreateBucketIfNotExists(bucketTags); err != nil {
		return fmt.Errorf("bucket %s: %w", bucketTags, err)
	}
	loaded := top.Bucket(bucketLoaded)
	var senders [][]byte
	err := loaded.ForEachBucket(func(from []byte) error {
		senders = append(senders, append([]byte(nil), from...))
		return nil
	})
	if err != nil {
		return err
	}
	for _, from := range senders {
		var best SenderBundle
		old := loaded.Bucket(from)
		err := old.ForEach(func(to, _ []byte) error {
			var last lastBundle
			if _, err := getJSON(old, to, &last); err != nil {
				return err
			}
			if last.Sequence > best.Sequence {
				best = SenderBundle{Sequence: last.Sequence, Bundle: last.Bundle, To: string(to)}
				if best.To == anyKey {
					best.To = ""
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("loaded from %s: %w", from, err)
		}
		if err := loaded.DeleteBucket(from); err != nil {
			return fmt.Errorf("loaded from %s: %w", from, err)
		}
		if err := putJSON(loaded, from, Sender{Recorded: best, Arrived: best}); err != nil {
			return err
		}
	}
	return nil
}
