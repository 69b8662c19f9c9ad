package store

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// benchDigest is the i-th digest of a benchmark catalog.
func benchDigest(i int) digest.Digest {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return digest.FromBytes(b[:])
}

// benchCatalog is a catalog of sites × perSite inventory rows, written
// in transactions of about 100,000 rows without fsync. Site s holds the
// digests s*perSite … (s+1)*perSite-1.
func benchCatalog(b *testing.B, sites, perSite int) *Catalog {
	b.Helper()
	c, err := OpenCatalog(filepath.Join(b.TempDir(), "catalog.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	c.db.NoSync = true
	when := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	perTx := max(1, 100_000/perSite)
	for first := 0; first < sites; first += perTx {
		err := c.update(func(top *bolt.Bucket) error {
			for s := first; s < min(first+perTx, sites); s++ {
				name := fmt.Sprintf("site-%03d", s)
				if err := putJSON(top.Bucket(bucketSites), []byte(name), Site{Name: name, Key: "ssh-ed25519 AAAA" + name}); err != nil {
					return err
				}
				inv, err := siteInventory(top, name)
				if err != nil {
					return err
				}
				rows := make([]Holding, perSite)
				for i := range rows {
					rows[i] = Holding{Digest: benchDigest(s*perSite + i), Size: int64(i) << 10, State: StateShipped,
						Bundle: "bundle-1", Sequence: 1, Time: when}
					if i%2 == 0 {
						rows[i].State = StateConfirmed
					}
				}
				slices.SortFunc(rows, func(a, b Holding) int { return cmp.Compare(a.Digest, b.Digest) })
				for _, h := range rows {
					if err := putJSON(inv, []byte(h.Digest), h); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	c.db.NoSync = false
	return c
}

// BenchmarkCatalog_Holdings is the planning query of issue 3: 350 blobs
// (50 images of about 7 blobs, half held at the site) against a catalog
// of 1,000,000 inventory rows over 100 sites. Target: the whole planning
// step under 100 ms.
func BenchmarkCatalog_Holdings(b *testing.B) {
	const sites, perSite, query = 100, 10_000, 350
	start := time.Now()
	c := benchCatalog(b, sites, perSite)
	b.Logf("setup: %d inventory rows over %d sites in %v", sites*perSite, sites, time.Since(start).Round(time.Millisecond))
	site, s := "site-042", 42
	ds := make([]digest.Digest, query)
	for i := range ds {
		if i%2 == 0 {
			ds[i] = benchDigest(s*perSite + i*7) // held
		} else {
			ds[i] = benchDigest(sites*perSite + i) // in no inventory
		}
	}
	for b.Loop() {
		got, err := c.Holdings(site, ds)
		if err != nil || len(got) != query/2 {
			b.Fatalf("Holdings = %d blobs, %v, want %d", len(got), err, query/2)
		}
	}
}
