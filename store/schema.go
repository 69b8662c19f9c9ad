// Package store is a ferry home: the blob store, an OCI image layout that
// skopeo, umoci and crane read as is, and the catalog that indexes it.
//
// The catalog is a bbolt file, catalog.db, beside the blob store. Its
// bucket tree (spec/catalog-v1.md is the normative description):
//
//	v1                                   top bucket: schema generation 1
//	├── meta
//	│   ├── version  = "1"               decimal ASCII schema version
//	│   ├── self     = "plant-7"         this site's name
//	│   └── created  = RFC 3339 time     when ferry init ran
//	├── blobs
//	│   └── <digest>  = BlobRecord JSON  "sha256:<hex>" → {digest,size,mediaType,added}
//	├── images
//	│   └── <name>    = ImageRecord JSON "app:1.0" → {name,digest,…,blobs,updated,bundle}
//	├── sites
//	│   └── <name>    = Site JSON        "hq" → {name,key,fingerprint,added}
//	├── bundles
//	│   └── <id>      = BundleRecord JSON
//	├── inventory                        reserved: what each site holds
//	│   └── <site>                       one bucket per site
//	│       └── <digest> = JSON {state: confirmed|shipped, bundle, sequence, time}
//	└── diffids                          reserved: layer DiffID → blob digest
//	    └── <diffID>  = "sha256:<hex>"
//
// Keys are byte strings; values are JSON objects except under meta and
// diffids. Every write happens in one bbolt transaction per command step
// (one per bundle), so a crash leaves the catalog as it was before the
// step or after it.
package store

import (
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

var (
	// bucketV1 is the top bucket; a schema generation that cannot be
	// reached by migrations would get a new top bucket.
	bucketV1 = []byte("v1")
	// bucketMeta holds the schema version, this site's name and the
	// creation time.
	bucketMeta = []byte("meta")
	// bucketBlobs maps a blob digest to its BlobRecord.
	bucketBlobs = []byte("blobs")
	// bucketImages maps an image name to its ImageRecord.
	bucketImages = []byte("images")
	// bucketSites maps a site name to its Site.
	bucketSites = []byte("sites")
	// bucketBundles maps a bundle id to its BundleRecord.
	bucketBundles = []byte("bundles")
	// bucketInventory holds one bucket per site, mapping a blob digest
	// to what is known of that site holding it (reserved).
	bucketInventory = []byte("inventory")
	// bucketDiffIDs maps a layer's DiffID to its blob digest (reserved).
	bucketDiffIDs = []byte("diffids")

	// keyVersion under meta: the schema version, decimal ASCII.
	keyVersion = []byte("version")
	// keySelf under meta: this site's name.
	keySelf = []byte("self")
	// keyCreated under meta: when the catalog was created, RFC 3339.
	keyCreated = []byte("created")
)

// migration brings the catalog from version-1 to version. Migrations run
// in order, each inside the same write transaction as the version bump.
type migration struct {
	version int
	name    string
	migrate func(tx *bolt.Tx) error
}

// migrations is the ordered list of every schema change. Append only:
// never edit or reorder a released entry.
var migrations = []migration{
	{version: 1, name: "create the v1 bucket tree", migrate: createV1},
}

func createV1(tx *bolt.Tx) error {
	top, err := tx.CreateBucketIfNotExists(bucketV1)
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketMeta, bucketBlobs, bucketImages,
		bucketSites, bucketBundles, bucketInventory, bucketDiffIDs} {
		if _, err := top.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return top.Bucket(bucketMeta).Put(keyCreated,
		[]byte(time.Now().UTC().Format(time.RFC3339)))
}

// readVersion returns the schema version recorded in tx, 0 for an empty
// catalog.
func readVersion(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketV1).Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keyVersion)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("schema version %q: %w", v, spec.ErrCorrupt)
	}
	return n, nil
}

// migrate runs every migration newer than the catalog's version, and
// refuses a catalog newer than this build.
func migrate(tx *bolt.Tx, path string) error {
	var have int
	if tx.Bucket(bucketV1) != nil {
		v, err := readVersion(tx)
		if err != nil {
			return fmt.Errorf("catalog %s: %w", path, err)
		}
		have = v
	}
	if have > spec.CatalogSchemaVersion {
		return fmt.Errorf("catalog %s has schema version %d, this ferry knows up to %d: upgrade ferry: %w",
			path, have, spec.CatalogSchemaVersion, spec.ErrUnsupportedVersion)
	}
	for _, m := range migrations {
		if m.version <= have {
			continue
		}
		if err := m.migrate(tx); err != nil {
			return fmt.Errorf("catalog %s: migration %d (%s): %w", path, m.version, m.name, err)
		}
		v := []byte(strconv.Itoa(m.version))
		if err := tx.Bucket(bucketV1).Bucket(bucketMeta).Put(keyVersion, v); err != nil {
			return err
		}
	}
	return nil
}
