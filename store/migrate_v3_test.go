package store

import (
	"path/filepath"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestMigrateV3: a version-2 catalog's loaded index, one bucket per sender
// by addressee, becomes one Sender per sender holding the highest sequence
// of any addressee (a sender counts all its bundles with one counter now),
// and the tags bucket is created.
func TestMigrateV3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, m := range migrations[:2] {
			if err := m.migrate(tx); err != nil {
				return err
			}
		}
		top := tx.Bucket(bucketV1)
		if err := top.Bucket(bucketMeta).Put(keyVersion, []byte(strconv.Itoa(2))); err != nil {
			return err
		}
		hq, err := top.Bucket(bucketLoaded).CreateBucket([]byte("hq"))
		if err != nil {
			return err
		}
		putJSON(hq, []byte("plant"), lastBundle{Sequence: 3, Bundle: "p3"})
		putJSON(hq, []byte(anyKey), lastBundle{Sequence: 8, Bundle: "any8"})
		mirror, _ := top.Bucket(bucketLoaded).CreateBucket([]byte("mirror"))
		return putJSON(mirror, []byte("plant"), lastBundle{Sequence: 2, Bundle: "m2"})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenCatalog(path)
	if err != nil {
		t.Fatalf("OpenCatalog(version 2) = %v", err)
	}
	defer c.Close()
	for from, want := range map[string]SenderBundle{"hq": {Sequence: 8, Bundle: "any8"}, "mirror": {Sequence: 2, Bundle: "m2", To: "plant"}} {
		if s, err := c.Sender(from); err != nil || s.Recorded != want || s.Arrived != want {
			t.Errorf("Sender(%s) after migration = %+v, %v, want %+v", from, s, err, want)
		}
	}
	if h, err := c.TagHistory("app:1"); err != nil || len(h.Replaced) != 0 {
		t.Errorf("TagHistory after migration = %+v, %v, want empty", h, err)
	}
}
