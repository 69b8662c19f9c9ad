package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/klauspost/compress/zstd"
)

// entry is one tar member of a bundle, held in memory (test bundles are
// small).
type entry struct {
	hdr  tar.Header
	data []byte
}

// readEntries decompresses and splits a bundle file.
func readEntries(t testing.TB, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{*h, b})
	}
}

// writeEntries writes entries as a zstd tar, trusting each header's size
// as given (so a test can lie about it).
func writeEntries(t testing.TB, path string, es []entry) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(e.data) > 0 {
			tw.Write(e.data) // a short write is the point of some tests
		}
	}
	tw.Flush()
	zw.Close() // no tar trailer when a header lied: the stream just ends
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bundleIndex is what the tests need of a bundle's index.
type bundleIndex struct {
	Images []struct{ Name, Digest string }
	Blobs  []struct {
		Digest, MediaType string
		Size              int64
	}
}

func parseIndex(t testing.TB, es []entry) bundleIndex {
	t.Helper()
	var ix bundleIndex
	if err := json.Unmarshal(es[0].data, &ix); err != nil {
		t.Fatal(err)
	}
	return ix
}

// layersOf returns the layer digests of the image named name, read from
// the bundle's own manifest entry.
func layersOf(t testing.TB, es []entry, name string) []string {
	t.Helper()
	ix := parseIndex(t, es)
	for _, im := range ix.Images {
		if im.Name != name {
			continue
		}
		for _, e := range es {
			if e.hdr.Name == "blobs/sha256/"+strings.TrimPrefix(im.Digest, "sha256:") {
				var m struct{ Layers []struct{ Digest string } }
				json.Unmarshal(e.data, &m)
				var out []string
				for _, l := range m.Layers {
					out = append(out, l.Digest)
				}
				return out
			}
		}
	}
	t.Fatalf("no image %s in bundle", name)
	return nil
}

func entryIndex(t testing.TB, es []entry, d string) int {
	t.Helper()
	for i, e := range es {
		if e.hdr.Name == "blobs/sha256/"+strings.TrimPrefix(d, "sha256:") {
			return i
		}
	}
	t.Fatalf("no entry for %s", d)
	return -1
}

var (
	goodOnce   sync.Once
	goodDir    string
	goodSrcErr string
)

// goodBundle is a bundle of two umoci-made images (v1, v2) from hq for
// plant-7, made once per test binary, with the two homes' keys. Each test
// gets fresh copies of the homes.
func goodBundle(t *testing.T) (s sites, bundle string) {
	t.Helper()
	runtimetest.NeedTool(t, "umoci")
	goodOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-good-")
		if err != nil {
			goodSrcErr = err.Error()
			return
		}
		goodDir = dir
		src := filepath.Join(dir, "src")
		runtimetest.UmociImage(t, src, "v1", 1, 2, 4096)
		runtimetest.UmociImage(t, src, "v2", 2, 2, 8192)
		must(t, filepath.Join(dir, "hq"), "init", "--site", "hq")
		must(t, filepath.Join(dir, "hq"), "save", "oci:"+src+":v1", "oci:"+src+":v2", "-o", filepath.Join(dir, "good.ferry"))
	})
	if goodSrcErr != "" {
		t.Fatal(goodSrcErr)
	}
	s = sites{dir: t.TempDir()}
	s.hq = filepath.Join(goodDir, "hq")
	s.site = filepath.Join(s.dir, "plant-7")
	must(t, s.site, "init", "--site", "plant-7")
	must(t, s.site, "site", "add", "hq", "--key", filepath.Join(s.hq, "keys", "id_ed25519.pub"))
	return s, filepath.Join(goodDir, "good.ferry")
}

func TestMain(m *testing.M) {
	// Run as the ferry command itself, for tests that need a process of
	// their own (to kill it).
	if os.Getenv("FERRY_TEST_AS_FERRY") == "1" {
		quietStdLogger()
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if goodDir != "" {
		os.RemoveAll(goodDir)
	}
	os.Exit(code)
}
