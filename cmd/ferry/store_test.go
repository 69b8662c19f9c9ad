package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/store"
)

func TestStoreCommands(t *testing.T) {
	s, good := goodBundle(t)
	must(t, s.site, "load", good)
	r := must(t, s.site, "--json", "du")
	var du struct {
		Total  int64
		Images map[string]int64
	}
	if err := json.Unmarshal([]byte(r.stdout), &du); err != nil || du.Total == 0 || len(du.Images) != 2 {
		t.Errorf("du --json = %s (%v), want a total and two images", r.stdout, err)
	}
	// An image copied out of the store comes back under its name.
	out := filepath.Join(s.dir, "copy")
	must(t, s.site, "copy", "v2", "oci:"+out)
	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		t.Errorf("copy to oci: wrote no layout: %v", err)
	}
	if r := run(t, s.site, "copy", "nosuch:1", "oci:"+out); r.code != 1 || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("copy of an image the store lacks = %s, want exit 1 naming it", r)
	}
	// gc keeps referenced blobs and removes a stray one.
	stray := filepath.Join(s.site, "store", "blobs", "sha256", strings.TrimPrefix(sha([]byte("stray")), "sha256:"))
	os.WriteFile(stray, []byte("stray"), 0o444)
	r = must(t, s.site, "gc")
	if _, err := os.Stat(stray); err == nil {
		t.Errorf("gc kept an unreferenced blob: %s", r)
	}
	must(t, s.site, "check", "--read-data")
	// check finds a flipped byte on disk.
	blobs, _ := filepath.Glob(filepath.Join(s.site, "store", "blobs", "sha256", "*"))
	var biggest string
	var size int64
	for _, b := range blobs {
		if st, _ := os.Stat(b); st.Size() > size {
			biggest, size = b, st.Size()
		}
	}
	os.Chmod(biggest, 0o644)
	data, _ := os.ReadFile(biggest)
	data[0] ^= 1
	os.WriteFile(biggest, data, 0o644)
	if r := run(t, s.site, "check"); r.code != 0 {
		t.Errorf("check without --read-data of a same-size change = %s, want exit 0", r)
	}
	if r := run(t, s.site, "check", "--read-data"); r.code != 1 || !strings.Contains(r.stdout, filepath.Base(biggest)) {
		t.Errorf("check --read-data after a flipped byte = %s, want exit 1 naming the blob", r)
	}
}

// TestHome_SecondProcessWaits: a second ferry on a home in use waits a
// bounded time, then fails naming the home.
func TestHome_SecondProcessWaits(t *testing.T) {
	home := filepath.Join(t.TempDir(), "h")
	must(t, home, "init", "--site", "hq")
	h, err := store.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Returning at all is the bound: a wait without one would hang until
	// go test's own timeout.
	r := run(t, home, "ls")
	if r.code == 0 || !strings.Contains(r.stderr, home) || !strings.Contains(r.stderr, "another ferry") {
		t.Errorf("ls on a home in use = %s, want a failure naming %s", r, home)
	}
}
