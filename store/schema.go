// Package store owns a ferry home: its blob store (Store, an OCI image
// layout that skopeo, umoci and crane read as is, into which blobs enter
// only verified) and the catalog that indexes it (Catalog).
//
// The catalog is a bbolt file, catalog.db, beside the blob store. Its
// bucket tree at schema version 3 (spec/catalog-v1.md is the normative
// description):
//
//	v1                                   top bucket: schema generation 1
//	├── meta
//	│   ├── version     = "3"            decimal ASCII schema version
//	│   ├── self        = "plant-7"      this site's name
//	│   ├── created     = RFC 3339 time  when ferry init ran
//	│   └── receipt_seq = "4"            last sequence of this home's own receipts (v2)
//	├── blobs
//	│   └── <digest>  = BlobRecord JSON  "sha256:<hex>" → {digest,size,mediaType,diffID,added}
//	├── images
//	│   └── <name>    = ImageRecord JSON "app:1.0" → {name,digest,…,blobs,updated,bundle}
//	├── sites
//	│   └── <name>    = Site JSON        "hq" → {name,key,fingerprint,added}
//	├── bundles
//	│   └── <id>      = BundleRecord JSON
//	├── inventory                        what each other site holds (used from v2)
//	│   └── <site>                       one bucket per site
//	│       └── <digest> = Holding JSON  {digest,size,state: confirmed|shipped,bundle,sequence,time,layer,delta}
//	├── diffids                          layer DiffID → blob digest (used from v2)
//	│   └── <diffID>  = "sha256:<hex>"
//	├── receipts                         (v2) the last receipt applied per site
//	│   └── <site>    = ReceiptRecord JSON
//	├── loaded                           (v3) replay index of bundles from registered senders
//	│   └── <from>    = Sender JSON      {recorded: {sequence,bundle,to,damaged}, arrived: {…}}
//	├── made                             (v2) sequence index of bundles made here
//	│   └── <to>      = {sequence,bundle} highest sequence made; <to> is "*" for no site
//	├── tags                             (v3) what each image name pointed at before
//	│   └── <name>    = TagHistory JSON  {name, replaced: [{digest,by,from,bundle,sequence,time}]}
//	└── nodelta                          layers whose delta a site did not take (created on first use)
//	    └── <site>
//	        └── <digest> = NoDelta JSON  {digest,bundle,sequence,time}
//
// Keys are byte strings; values are JSON objects except under meta and
// diffids. Every write happens in one bbolt transaction per command step
// (one per bundle, one per receipt), so a crash leaves the catalog as it
// was before the step or after it.
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
	// to the Holding: what is known of that site holding it.
	bucketInventory = []byte("inventory")
	// bucketDiffIDs maps a layer's DiffID to its blob digest.
	bucketDiffIDs = []byte("diffids")
	// bucketReceipts maps a site name to the ReceiptRecord of the last
	// receipt applied from it (v2).
	bucketReceipts = []byte("receipts")
	// bucketLoaded maps a sender's name to its Sender: the newest bundle
	// recorded and the newest arrived from it (v3; in v2 one bucket per
	// sender, by addressee).
	bucketLoaded = []byte("loaded")
	// bucketMade maps the addressee (toKey) to the lastBundle this home
	// made for it (v2).
	bucketMade = []byte("made")
	// bucketTags maps an image name to its TagHistory: the images it
	// pointed at before, and which bundle moved it (v3).
	bucketTags = []byte("tags")

	// keyVersion under meta: the schema version, decimal ASCII.
	keyVersion = []byte("version")
	// keySelf under meta: this site's name.
	keySelf = []byte("self")
	// keyCreated under meta: when the catalog was created, RFC 3339.
	keyCreated = []byte("created")
	// keyReceiptSeq under meta: the sequence of the last receipt this
	// home made, decimal ASCII (v2).
	keyReceiptSeq = []byte("receipt_seq")
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
	{version: 2, name: "receipts, replay and sequence indexes", migrate: migrateV2},
	{version: 3, name: "one sequence per sender, tag history", migrate: migrateV3},
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
