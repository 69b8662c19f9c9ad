package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ferryhq/ferry/spec"
)

// DefaultLockTimeout is how long OpenCatalog waits for another process to
// release the catalog.
const DefaultLockTimeout = 3 * time.Second

// Catalog is the bbolt index of a home: blobs, images, sites and bundles.
// Lifecycle: OpenCatalog (which takes an exclusive lock on the file and
// runs migrations), any number of reads and writes from any goroutine,
// Close. A second process opening the same file waits up to the lock
// timeout and then fails with spec.ErrLocked.
type Catalog struct {
	db   *bolt.DB
	path string
}

// CatalogOptions tune OpenCatalogWith. The zero value is the default.
type CatalogOptions struct {
	// Timeout is how long to wait for the file lock; 0 means
	// DefaultLockTimeout.
	Timeout time.Duration
	// ReadOnly opens the file for reading only, under a shared lock, so
	// that a catalog on a read-only medium (a site's audit copy) can be
	// read. It runs no migration: a catalog of an older schema is
	// refused, saying to open it once writable.
	ReadOnly bool
}

// OpenCatalog opens (creating if needed) the catalog at path with the
// default options.
func OpenCatalog(path string) (*Catalog, error) {
	return OpenCatalogWith(path, CatalogOptions{})
}

// OpenCatalogWith opens (creating if needed, unless ReadOnly) the catalog
// at path, waits for its lock and runs the migrations it lacks.
func OpenCatalogWith(path string, opts CatalogOptions) (*Catalog, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("home %s is in use by another ferry process (catalog %s locked); wait for it to finish: %w",
			filepath.Dir(path), path, spec.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	// A catalog at this build's version is only read: a write transaction
	// that changes nothing still commits (two fdatasyncs of the file) at
	// every command's start. The lock held since Open keeps the version
	// from changing between the read and the migrations.
	err = db.View(func(tx *bolt.Tx) error { return current(tx, path) })
	if err != nil && !opts.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error { return migrate(tx, path) })
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Catalog{db: db, path: path}, nil
}

// current refuses, for a read-only open, a catalog that is not at this
// build's schema version: an older one needs its migrations, which write.
func current(tx *bolt.Tx, path string) error {
	v := 0
	if tx.Bucket(bucketV1) != nil {
		var err error
		if v, err = readVersion(tx); err != nil {
			return fmt.Errorf("catalog %s: %w", path, err)
		}
	}
	if v != spec.CatalogSchemaVersion {
		return fmt.Errorf("catalog %s has schema version %d, this ferry reads %d: open it once where it can be written "+
			"(any ferry command on a writable copy migrates it): %w", path, v, spec.CatalogSchemaVersion, spec.ErrUnsupportedVersion)
	}
	return nil
}

// Close releases the catalog and its lock.
func (c *Catalog) Close() error { return c.db.Close() }

// Path is the catalog's file.
func (c *Catalog) Path() string { return c.path }

// view runs fn in a read transaction on the v1 bucket.
func (c *Catalog) view(fn func(top *bolt.Bucket) error) error {
	return c.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketV1)) })
}

// update runs fn in a write transaction on the v1 bucket.
func (c *Catalog) update(fn func(top *bolt.Bucket) error) error {
	return c.db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketV1)) })
}

// SchemaVersion is the catalog's schema version.
func (c *Catalog) SchemaVersion() (int, error) {
	var v int
	err := c.db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	return v, err
}

// Self is this site's name, as ferry init set it.
func (c *Catalog) Self() (string, error) {
	var self string
	err := c.view(func(top *bolt.Bucket) error {
		self = string(top.Bucket(bucketMeta).Get(keySelf)) // string() copies
		return nil
	})
	if err == nil && self == "" {
		err = fmt.Errorf("catalog %s: this site's name: %w", c.path, spec.ErrNotFound)
	}
	return self, err
}

// setSelf records this site's name; it refuses to rename a site.
func (c *Catalog) setSelf(name string) error {
	return c.update(func(top *bolt.Bucket) error {
		meta := top.Bucket(bucketMeta)
		if old := meta.Get(keySelf); old != nil && string(old) != name {
			return fmt.Errorf("catalog %s already belongs to site %s: %w", c.path, old, spec.ErrExists)
		}
		return meta.Put(keySelf, []byte(name))
	})
}

// getJSON decodes the value of key in bucket b into v; found is false when
// the key is absent. Decoding copies the bytes out of the transaction.
func getJSON(b *bolt.Bucket, key []byte, v any) (found bool, err error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("record %s: %w: %v", key, spec.ErrCorrupt, err)
	}
	return true, nil
}

// putJSON stores v as JSON under key in bucket b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// eachJSON decodes every value of bucket b, in key order, and passes it
// to fn.
func eachJSON[T any](b *bolt.Bucket, fn func(T) error) error {
	return b.ForEach(func(k, raw []byte) error {
		if raw == nil {
			return nil // a nested bucket
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("record %s: %w: %v", k, spec.ErrCorrupt, err)
		}
		return fn(v)
	})
}
