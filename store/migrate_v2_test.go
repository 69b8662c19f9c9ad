package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

// writeV1 makes a version-1 catalog at path: migration 1 alone, then the
// records a version-1 ferry wrote.
func writeV1(t *testing.T, path string, bundles []BundleRecord) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		if err := migrations[0].migrate(tx); err != nil {
			return err
		}
		top := tx.Bucket(bucketV1)
		if err := top.Bucket(bucketMeta).Put(keyVersion, []byte(strconv.Itoa(1))); err != nil {
			return err
		}
		if err := putJSON(top.Bucket(bucketSites), []byte("hq"), Site{Name: "hq", Key: "ssh-ed25519 AAAAhq"}); err != nil {
			return err
		}
		for _, b := range bundles {
			if err := putJSON(top.Bucket(bucketBundles), []byte(b.ID), b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("writing a version-1 catalog: %v", err)
	}
}

func TestMigrateV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	writeV1(t, path, []BundleRecord{
		{ID: "h2", Direction: DirectionLoaded, From: "hq", To: "plant", Sequence: 2, Recorded: when, Images: []string{"app:1"}},
		{ID: "h6", Direction: DirectionLoaded, From: "hq", To: "plant", Sequence: 6, Recorded: when, Images: []string{"app:1"}},
		{ID: "h4", Direction: DirectionLoaded, From: "hq", To: "plant", Sequence: 4, Recorded: when, Images: []string{"app:1"}},
		{ID: "any1", Direction: DirectionLoaded, From: "hq", Sequence: 1, Recorded: when, Images: []string{"app:1"}},
		{ID: "p3", Direction: DirectionMade, From: "plant", To: "hq", Sequence: 3, Recorded: when},
	})
	c, err := OpenCatalog(path)
	if err != nil {
		t.Fatalf("OpenCatalog(version 1) = %v", err)
	}
	defer c.Close()
	if v, err := c.SchemaVersion(); v != spec.CatalogSchemaVersion || err != nil {
		t.Errorf("SchemaVersion = %d, %v, want %d", v, err, spec.CatalogSchemaVersion)
	}
	// Migrated on to version 3: one Sender per sender, the highest of its
	// addressees.
	if s, err := c.Sender("hq"); err != nil || s.Recorded.Sequence != 6 || s.Recorded.Bundle != "h6" || s.Arrived != s.Recorded {
		t.Errorf("Sender(hq) after migration = %+v, %v, want bundle h6, sequence 6", s, err)
	}
	if s, err := c.Sender("plant"); err != nil || s.Recorded.Bundle != "" {
		t.Errorf("Sender(plant) after migration = %+v, %v, want none (it was made here)", s, err)
	}
	if next, err := c.NextSequence(); next != 4 || err != nil {
		t.Errorf("NextSequence after migration = %d, %v, want 4", next, err)
	}
	// The buckets version 2 added are usable.
	ctx := context.Background()
	if _, err := c.ApplyReceipt(ctx, ReceiptApply{Site: "hq", Sequence: 1, Held: held("a")}); err != nil {
		t.Errorf("ApplyReceipt after migration = %v", err)
	}
	if n, err := c.NextReceiptSequence(); n != 1 || err != nil {
		t.Errorf("NextReceiptSequence after migration = %d, %v, want 1", n, err)
	}
}
