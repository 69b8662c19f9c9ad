package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Site is another place ferry exchanges bundles with, known by its
// public key.
type Site struct {
	Name        string    `json:"name"`
	Key         string    `json:"key"` // an authorized_keys line
	Fingerprint string    `json:"fingerprint"`
	Added       time.Time `json:"added"`
}

// BlobRecord is a blob the store holds.
type BlobRecord struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType,omitempty"`
	// DiffID is a layer's uncompressed digest, when known; Record
	// indexes it under diffids (see BlobByDiffID).
	DiffID digest.Digest `json:"diffID,omitempty"`
	Added  time.Time     `json:"added"`
}

// ImageRecord is a named image whose blobs are all in the store.
type ImageRecord struct {
	Name      string          `json:"name"`
	Digest    digest.Digest   `json:"digest"` // root manifest or index
	MediaType string          `json:"mediaType"`
	Size      int64           `json:"size"`
	Platforms []string        `json:"platforms,omitempty"`
	Blobs     []digest.Digest `json:"blobs"` // every blob of its graph, root included
	Updated   time.Time       `json:"updated"`
	Bundle    string          `json:"bundle,omitempty"` // bundle id it came from
	// Chart is set when the image is a Helm chart's artifact (named
	// charts/<name>:<tag>): the chart and the images it needs.
	Chart *ChartRecord `json:"chart,omitempty"`
}

// ChartRecord says which Helm chart an image record holds.
type ChartRecord struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	Images  []string `json:"images,omitempty"` // normalised references
}

// Image is the record as a runtime.Image: its name and root descriptor.
func (r ImageRecord) Image() runtime.Image {
	return runtime.Image{Name: r.Name, Desc: ocispec.Descriptor{MediaType: r.MediaType, Digest: r.Digest, Size: r.Size}}
}

// Bundle directions.
const (
	DirectionMade   = "made"
	DirectionLoaded = "loaded"
)

// BundleRecord is a bundle this home made or loaded.
type BundleRecord struct {
	ID        string          `json:"id"`
	Direction string          `json:"direction"` // DirectionMade or DirectionLoaded
	From      string          `json:"from"`
	To        string          `json:"to,omitempty"`
	Sequence  uint64          `json:"sequence"`
	Created   time.Time       `json:"created"`
	Recorded  time.Time       `json:"recorded"`
	Path      string          `json:"path,omitempty"`
	Blobs     int             `json:"blobs"`
	Size      int64           `json:"size"`
	Images    []string        `json:"images,omitempty"`
	Damaged   []digest.Digest `json:"damaged,omitempty"`
	// Unregistered is set on a loaded bundle whose signer is not the key
	// registered for From (--key, --insecure-skip-signature): it is kept
	// for the record but never counts for that sender's replay bookkeeping.
	Unregistered bool `json:"unregistered,omitempty"`
}

// PutSite registers a site. Re-adding the same key is a no-op; another
// key under a registered name is refused with spec.ErrExists.
func (c *Catalog) PutSite(s Site) error {
	if err := spec.ValidateSiteName(s.Name); err != nil {
		return err
	}
	if s.Added.IsZero() {
		s.Added = time.Now().UTC()
	}
	return c.update(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketSites)
		var old Site
		found, err := getJSON(b, []byte(s.Name), &old)
		if err != nil || (found && sameKey(old.Key, s.Key)) {
			return err
		}
		if found {
			return spec.Mark(fmt.Errorf("site %s is registered with another key (%s), and a site's key does not change: "+
				"if %s was set up again, its store starts empty; register it under a new name", s.Name, old.Fingerprint, s.Name), spec.ErrExists)
		}
		return putJSON(b, []byte(s.Name), s)
	})
}

// sameKey compares two authorized_keys lines by key type and key,
// ignoring comments.
func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}

// Site returns a registered site, or an error wrapping spec.ErrUnknownSite.
func (c *Catalog) Site(name string) (Site, error) {
	var s Site
	err := c.view(func(top *bolt.Bucket) error {
		found, err := getJSON(top.Bucket(bucketSites), []byte(name), &s)
		if err == nil && !found {
			err = fmt.Errorf("site %s: %w: add it with ferry site add %s --key FILE.pub", name, spec.ErrUnknownSite, name)
		}
		return err
	})
	return s, err
}

// Sites lists the registered sites by name.
func (c *Catalog) Sites() ([]Site, error) {
	var out []Site
	err := c.view(func(top *bolt.Bucket) error {
		return eachJSON(top.Bucket(bucketSites), func(s Site) error { out = append(out, s); return nil })
	})
	return out, err
}

// Record writes blobs, images and the bundle (which may be nil) in one
// write transaction. A blob already recorded keeps its record. An image
// is refused with spec.ErrIncomplete unless every one of its Blobs is
// recorded (before or in this call). Zero times are set to now. A blob
// record with a DiffID is indexed under diffids, and gives its DiffID to
// an earlier record that lacked one. A bundle record keeps the made or
// loaded sequence index (see NextSequence, LastLoaded) up to date.
func (c *Catalog) Record(ctx context.Context, blobs []BlobRecord, images []ImageRecord, bundle *BundleRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now().UTC()
	return c.update(func(top *bolt.Bucket) error {
		if err := putBlobs(top, blobs, now); err != nil {
			return err
		}
		if err := putImages(top, images, bundle, now); err != nil {
			return err
		}
		if bundle == nil {
			return ctx.Err()
		}
		if err := putBundle(top, *bundle, now); err != nil {
			return err
		}
		return ctx.Err() // a cancelled context rolls the whole step back
	})
}

func putBlobs(top *bolt.Bucket, blobs []BlobRecord, now time.Time) error {
	b := top.Bucket(bucketBlobs)
	for _, r := range blobs {
		if err := spec.ValidateDigest(r.Digest); err != nil {
			return err
		}
		if r.Size < 0 {
			return fmt.Errorf("blob %s: negative size %d: %w", r.Digest, r.Size, spec.ErrBadInput)
		}
		if r.DiffID != "" {
			if err := spec.ValidateDigest(r.DiffID); err != nil {
				return fmt.Errorf("blob %s: diffID: %w", r.Digest, err)
			}
		}
		var err error
		if b.Get([]byte(r.Digest)) != nil {
			if r.DiffID == "" {
				continue // kept as it is
			}
			r, err = addDiffID(b, r)
		} else {
			if r.Added.IsZero() {
				r.Added = now
			}
			err = putJSON(b, []byte(r.Digest), r)
		}
		if err != nil {
			return err
		}
		if err := putDiffID(top, r); err != nil {
			return err
		}
	}
	return nil
}

// addDiffID gives the recorded blob r.Digest the DiffID of r if it has
// none, and returns the record as it now is.
func addDiffID(b *bolt.Bucket, r BlobRecord) (BlobRecord, error) {
	var old BlobRecord
	if _, err := getJSON(b, []byte(r.Digest), &old); err != nil || old.DiffID != "" {
		return old, err
	}
	old.DiffID = r.DiffID
	return old, putJSON(b, []byte(r.Digest), old)
}

// putImages records images, each only with all its blobs recorded, and
// notes in the tag history every name that moves to another image.
func putImages(top *bolt.Bucket, images []ImageRecord, bundle *BundleRecord, now time.Time) error {
	blobs := top.Bucket(bucketBlobs)
	for _, r := range images {
		if r.Name == "" {
			return fmt.Errorf("image record without a name: %w", spec.ErrBadInput)
		}
		if err := spec.ValidateImageName(r.Name); err != nil {
			return err
		}
		if err := spec.ValidateDigest(r.Digest); err != nil {
			return fmt.Errorf("image %s: %w", r.Name, err)
		}
		for _, d := range r.Blobs {
			if blobs.Get([]byte(d)) == nil {
				return fmt.Errorf("image %s lacks blob %s: %w", r.Name, d, spec.ErrIncomplete)
			}
		}
		if r.Updated.IsZero() {
			r.Updated = now
		}
		var old ImageRecord
		found, err := getJSON(top.Bucket(bucketImages), []byte(r.Name), &old)
		if err != nil {
			return err
		}
		if found && old.Digest != r.Digest {
			if err := noteMove(top, old, r, bundle, now); err != nil {
				return fmt.Errorf("image %s: %w", r.Name, err)
			}
		}
		if err := putJSON(top.Bucket(bucketImages), []byte(r.Name), r); err != nil {
			return err
		}
	}
	return nil
}

// putBundle stores a bundle record and updates the sequence index of its
// direction.
func putBundle(top *bolt.Bucket, r BundleRecord, now time.Time) error {
	if r.ID == "" {
		return fmt.Errorf("bundle record without an id: %w", spec.ErrBadInput)
	}
	if r.Recorded.IsZero() {
		r.Recorded = now
	}
	if err := indexBundle(top, r); err != nil {
		return err
	}
	return putJSON(top.Bucket(bucketBundles), []byte(r.ID), r)
}

// Blob returns a blob's record, or an error wrapping spec.ErrNotFound.
func (c *Catalog) Blob(d digest.Digest) (BlobRecord, error) {
	var r BlobRecord
	err := c.view(func(top *bolt.Bucket) error {
		found, err := getJSON(top.Bucket(bucketBlobs), []byte(d), &r)
		if err == nil && !found {
			err = fmt.Errorf("blob %s: %w", d, spec.ErrNotFound)
		}
		return err
	})
	return r, err
}

// Blobs calls fn for every blob record in digest order, inside one read
// transaction: fn must not write to the catalog.
func (c *Catalog) Blobs(fn func(BlobRecord) error) error {
	return c.view(func(top *bolt.Bucket) error { return eachJSON(top.Bucket(bucketBlobs), fn) })
}

// DeleteBlobs removes blob records, and the DiffIDs that point to them,
// in one transaction; absent ones are skipped. It does not look at
// images: callers (GC) delete only blobs no image needs.
func (c *Catalog) DeleteBlobs(ds []digest.Digest) error {
	return c.update(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketBlobs)
		for _, d := range ds {
			var r BlobRecord
			if _, err := getJSON(b, []byte(d), &r); err != nil {
				return err
			}
			if err := deleteDiffID(top, r); err != nil {
				return err
			}
			if err := b.Delete([]byte(d)); err != nil {
				return fmt.Errorf("blob %s: %w", d, err)
			}
		}
		return nil
	})
}

// Image returns an image's record, or an error wrapping spec.ErrNotFound.
func (c *Catalog) Image(name string) (ImageRecord, error) {
	var r ImageRecord
	err := c.view(func(top *bolt.Bucket) error {
		found, err := getJSON(top.Bucket(bucketImages), []byte(name), &r)
		if err == nil && !found {
			err = fmt.Errorf("image %s: %w in the store", name, spec.ErrNotFound)
		}
		return err
	})
	return r, err
}

// Images lists the image records sorted by name.
func (c *Catalog) Images() ([]ImageRecord, error) {
	var out []ImageRecord
	err := c.view(func(top *bolt.Bucket) error {
		return eachJSON(top.Bucket(bucketImages), func(r ImageRecord) error { out = append(out, r); return nil })
	})
	return out, err // bbolt keeps keys in byte order, which is name order
}

// DeleteImage removes an image record (not its blobs: see Home.GC).
func (c *Catalog) DeleteImage(name string) error {
	return c.update(func(top *bolt.Bucket) error {
		b := top.Bucket(bucketImages)
		if b.Get([]byte(name)) == nil {
			return fmt.Errorf("image %s: %w in the store", name, spec.ErrNotFound)
		}
		return b.Delete([]byte(name))
	})
}

// Bundle returns a bundle's record, or an error wrapping spec.ErrNotFound.
func (c *Catalog) Bundle(id string) (BundleRecord, error) {
	var r BundleRecord
	err := c.view(func(top *bolt.Bucket) error {
		found, err := getJSON(top.Bucket(bucketBundles), []byte(id), &r)
		if err == nil && !found {
			err = fmt.Errorf("bundle %s: %w", id, spec.ErrNotFound)
		}
		return err
	})
	return r, err
}

// Bundles lists the bundle records in the order they were recorded.
func (c *Catalog) Bundles() ([]BundleRecord, error) {
	var out []BundleRecord
	err := c.view(func(top *bolt.Bucket) error {
		return eachJSON(top.Bucket(bucketBundles), func(r BundleRecord) error { out = append(out, r); return nil })
	})
	slices.SortStableFunc(out, func(a, b BundleRecord) int { return a.Recorded.Compare(b.Recorded) })
	return out, err
}
