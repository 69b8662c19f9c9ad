package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// damageBlob flips one byte of a blob file in a home's store, keeping its
// size: bit rot, or an edit.
func damageBlob(t *testing.T, home, d string) {
	t.Helper()
	runtimetest.DamageFile(t, filepath.Join(home, "store", "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
}

// layoutIntact fails the test unless every blob file of an OCI layout
// holds the bytes its name promises.
func layoutIntact(t *testing.T, layout string) {
	t.Helper()
	dir := filepath.Join(layout, "blobs", "sha256")
	files, err := os.ReadDir(dir)
	if err != nil || len(files) == 0 {
		t.Fatalf("layout %s: %v, %d blobs", layout, err, len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.Name() {
			t.Errorf("layout %s holds a damaged blob %s", layout, f.Name())
		}
	}
}

// TestLoad_DamagedStoreBlob: a blob damaged in the store (same size) is
// never trusted: a load of a bundle that carries it replaces it with the
// bundle's verified copy and says so, and the target gets good bytes;
// a copy that needs it refuses to link or copy it, saying how to repair;
// check --read-data --repair removes it and the image that needs it; a
// later load brings both back. Before, load called it "already held",
// threw the good copy away and hard-linked the damaged file.
func TestLoad_DamagedStoreBlob(t *testing.T) {
	s, good := goodBundle(t)
	must(t, s.site, "load", good)
	layer := layersOf(t, readEntries(t, good), "v1")[0]
	damageBlob(t, s.site, layer)

	out := filepath.Join(s.dir, "out")
	r := must(t, s.site, "load", "--allow-replay", good, "--into", "oci:"+out)
	if !strings.Contains(r.stdout, "REPAIRED blob "+layer) {
		t.Errorf("load over a damaged store = %s, want it to say it repaired %s", r, layer)
	}
	layoutIntact(t, out)
	must(t, s.site, "check", "--read-data")

	damageBlob(t, s.site, layer)
	copied := filepath.Join(s.dir, "copied")
	r = run(t, s.site, "copy", "v1", "oci:"+copied)
	if r.code != 1 || !strings.Contains(r.stderr, layer) || !strings.Contains(r.stderr, "--repair") {
		t.Errorf("copy of an image with a damaged blob = %s, want exit 1 naming %s and the repair", r, layer)
	}
	if _, err := os.Stat(filepath.Join(copied, "blobs", "sha256", strings.TrimPrefix(layer, "sha256:"))); err == nil {
		t.Errorf("copy wrote the damaged blob into its target")
	}
	if r := run(t, s.site, "check", "--read-data"); r.code != 1 || !strings.Contains(r.stdout, layer) {
		t.Errorf("check --read-data of a damaged store = %s, want exit 1 naming %s", r, layer)
	}
	r = must(t, s.site, "check", "--read-data", "--repair")
	if !strings.Contains(r.stdout, "removed blob "+layer) || !strings.Contains(r.stdout, "removed image v1") {
		t.Errorf("check --repair = %s, want it to name the blob and the image it removed", r)
	}
	must(t, s.site, "check", "--read-data")
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v2" {
		t.Errorf("after the repair ls = %v, want v2", names)
	}
	must(t, s.site, "load", "--allow-replay", good)
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1,v2" {
		t.Errorf("after loading again ls = %v, want v1,v2", names)
	}
	must(t, s.site, "check", "--read-data")
}
