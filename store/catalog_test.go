package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/ferryhq/ferry/spec"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := OpenCatalog(filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatalf("OpenCatalog = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCatalog_Record(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	b1, b2 := digest.FromString("layer"), digest.FromString("manifest")
	blobs := []BlobRecord{{Digest: b1, Size: 5, MediaType: "l", Added: when}, {Digest: b2, Size: 8, Added: when}}
	im := ImageRecord{Name: "app:1", Digest: b2, MediaType: ocispec.MediaTypeImageManifest, Size: 8,
		Platforms: []string{"linux/amd64"}, Blobs: []digest.Digest{b1, b2}, Updated: when, Bundle: "b-1"}
	bun := BundleRecord{ID: "b-1", Direction: DirectionLoaded, From: "hq", To: "plant", Sequence: 3,
		Created: when, Recorded: when, Blobs: 2, Size: 13, Images: []string{"app:1"}, Damaged: []digest.Digest{b1}}
	if err := c.Record(ctx, blobs, []ImageRecord{im}, &bun); err != nil {
		t.Fatalf("Record = %v", err)
	}
	if got, err := c.Blob(b1); err != nil || !reflect.DeepEqual(got, blobs[0]) {
		t.Errorf("Blob = %+v, %v, want %+v", got, err, blobs[0])
	}
	if got, err := c.Image("app:1"); err != nil || !reflect.DeepEqual(got, im) {
		t.Errorf("Image = %+v, %v, want %+v", got, err, im)
	}
	if got, err := c.Bundle("b-1"); err != nil || !reflect.DeepEqual(got, bun) {
		t.Errorf("Bundle = %+v, %v, want %+v", got, err, bun)
	}
	if got, err := c.Bundles(); err != nil || len(got) != 1 {
		t.Errorf("Bundles = %v, %v", got, err)
	}
	var n int
	c.Blobs(func(BlobRecord) error { n++; return nil })
	if n != 2 {
		t.Errorf("Blobs visited %d records, want 2", n)
	}
	for _, err := range []error{errOf(c.Blob(digest.FromString("x"))), errOf(c.Image("nope")), errOf(c.Bundle("nope"))} {
		if !errors.Is(err, spec.ErrNotFound) {
			t.Errorf("get of absent record = %v, want ErrNotFound", err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestCatalog_RecordIncomplete(t *testing.T) {
	c := newCatalog(t)
	b1, missing := digest.FromString("a"), digest.FromString("b")
	err := c.Record(context.Background(), []BlobRecord{{Digest: b1, Size: 1}},
		[]ImageRecord{{Name: "app:1", Digest: b1, Blobs: []digest.Digest{b1, missing}}}, nil)
	if !errors.Is(err, spec.ErrIncomplete) || !strings.Contains(err.Error(), string(missing)) {
		t.Fatalf("Record(image lacking a blob) = %v, want ErrIncomplete naming %s", err, missing)
	}
	if _, err := c.Blob(b1); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Record was not one transaction: blob recorded after a refused image (%v)", err)
	}
}

func TestCatalog_Images(t *testing.T) {
	c := newCatalog(t)
	d := digest.FromString("m")
	c.Record(context.Background(), []BlobRecord{{Digest: d, Size: 1}}, nil, nil)
	for _, name := range []string{"zeta:1", "app:2", "app:1"} {
		if err := c.Record(context.Background(), nil, []ImageRecord{{Name: name, Digest: d, Blobs: []digest.Digest{d}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteImage("app:2"); err != nil {
		t.Fatalf("DeleteImage = %v", err)
	}
	if err := c.DeleteImage("app:2"); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("DeleteImage(absent) = %v, want ErrNotFound", err)
	}
	images, _ := c.Images()
	var names []string
	for _, im := range images {
		names = append(names, im.Name)
	}
	if strings.Join(names, " ") != "app:1 zeta:1" {
		t.Errorf("Images = %v, want [app:1 zeta:1]", names)
	}
}

func TestCatalog_PutSite(t *testing.T) {
	c := newCatalog(t)
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK hq"
	tests := []struct {
		name    string
		site    Site
		wantErr error
	}{
		{"new", Site{Name: "hq", Key: key, Fingerprint: "SHA256:a"}, nil},
		{"same key, other comment", Site{Name: "hq", Key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK other"}, nil},
		{"other key", Site{Name: "hq", Key: "ssh-ed25519 AAAAOTHER hq"}, spec.ErrExists},
		{"bad name", Site{Name: "../x", Key: key}, spec.ErrBadInput},
	}
	for _, tt := range tests {
		if err := c.PutSite(tt.site); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("PutSite(%s) = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if s, err := c.Site("hq"); err != nil || s.Key != key || s.Added.IsZero() {
		t.Errorf("Site(hq) = %+v, %v", s, err)
	}
	if _, err := c.Site("nowhere"); !errors.Is(err, spec.ErrUnknownSite) || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("Site(nowhere) = %v, want ErrUnknownSite naming it", err)
	}
	if sites, _ := c.Sites(); len(sites) != 1 {
		t.Errorf("Sites = %v, want one", sites)
	}
}

func TestOpenCatalog_Locked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := OpenCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// That it returns at all is what is tested: without the timeout bbolt
	// waits for the lock forever (and go test's own timeout fails the test).
	_, err = OpenCatalogWith(path, CatalogOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, spec.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("second OpenCatalog = %v, want ErrLocked naming %s", err, path)
	}
}

// TestOpenCatalog_CurrentNotWritten: opening a catalog at this build's
// schema version writes nothing to it (no transaction commits, and so no
// sync of it at each command's start); opening an older one migrates it.
func TestOpenCatalog_CurrentNotWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := OpenCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err = OpenCatalog(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("opening a current catalog changed its file")
	}
}

func TestOpenCatalog_Migrations(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(tx *bolt.Tx) error
		wantErr error
	}{
		{"empty file", func(*bolt.Tx) error { return nil }, nil},
		{"version 0", func(tx *bolt.Tx) error {
			top, _ := tx.CreateBucket(bucketV1)
			_, err := top.CreateBucket(bucketMeta)
			return err
		}, nil},
		{"newer version", func(tx *bolt.Tx) error {
			top, _ := tx.CreateBucket(bucketV1)
			meta, _ := top.CreateBucket(bucketMeta)
			return meta.Put(keyVersion, []byte("99"))
		}, spec.ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.db")
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tt.prepare); err != nil {
				t.Fatal(err)
			}
			db.Close()
			c, err := OpenCatalog(path)
			if tt.wantErr != nil {
				upTo := fmt.Sprintf("up to %d", spec.CatalogSchemaVersion)
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), upTo) {
					t.Errorf("OpenCatalog = %v, want %v naming versions 99 and %d", err, tt.wantErr, spec.CatalogSchemaVersion)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenCatalog = %v", err)
			}
			defer c.Close()
			if v, err := c.SchemaVersion(); v != spec.CatalogSchemaVersion || err != nil {
				t.Errorf("SchemaVersion = %d, %v, want %d", v, err, spec.CatalogSchemaVersion)
			}
			if err := c.PutSite(Site{Name: "hq", Key: "ssh-ed25519 AAAA"}); err != nil {
				t.Errorf("PutSite after migration = %v", err)
			}
		})
	}
}

func TestMigrations_Ordered(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 {
			t.Errorf("migrations[%d].version = %d, want %d", i, m.version, i+1)
		}
	}
	if last := migrations[len(migrations)-1].version; last != spec.CatalogSchemaVersion {
		t.Errorf("last migration %d, spec.CatalogSchemaVersion %d", last, spec.CatalogSchemaVersion)
	}
}
