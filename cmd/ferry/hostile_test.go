package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoad_HostileBundles loads damaged and malicious variants of a good
// bundle. Each must exit 1 with a message naming the fault, leave no
// unverified byte in the store, record no image that lacks a blob, and
// leave `ferry check --read-data` clean.
func TestLoad_HostileBundles(t *testing.T) {
	evil := filepath.Join(os.TempDir(), "ferry-evil-"+itoa(os.Getpid()))
	defer os.Remove(evil)
	cases := []struct {
		name   string
		mutate func(t *testing.T, es []entry) []entry
		// want is text the report or error must contain.
		want string
		// images lists what `ferry ls` must show afterwards.
		images []string
		// truncate keeps only this fraction of the file's bytes.
		truncate float64
	}{
		{name: "flipped byte in a layer", want: "digest mismatch", images: []string{"v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v1")[0])
				es[i].data[len(es[i].data)/2] ^= 0xff
				return es
			}},
		// What verified before the break is kept: v1's blobs all come first.
		{name: "truncated file", want: "truncated", truncate: 0.6, images: []string{"v1"}},
		{name: "extra entry", want: "not listed", images: []string{"v1", "v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				data := []byte("not in the index")
				return append(es, entry{tar.Header{Name: "blobs/sha256/" + strings.TrimPrefix(sha(data), "sha256:"), Size: int64(len(data)), Mode: 0o644, Typeflag: tar.TypeReg}, data})
			}},
		{name: "missing entry", want: "not in the bundle", images: []string{"v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v1")[0])
				return append(es[:i:i], es[i+1:]...)
			}},
		{name: "duplicated entry", want: "duplicate", images: []string{"v1", "v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v2")[0])
				return append(es, es[i])
			}},
		{name: "dot-dot name", want: "refused", images: []string{"v1", "v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				return append(es, entry{tar.Header{Name: "blobs/sha256/../../../../../../.." + evil, Size: 4, Mode: 0o644, Typeflag: tar.TypeReg}, []byte("evil")})
			}},
		{name: "absolute path", want: "refused", images: []string{"v1", "v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				return append(es, entry{tar.Header{Name: evil, Size: 4, Mode: 0o644, Typeflag: tar.TypeReg}, []byte("evil")})
			}},
		{name: "symlink", want: "refused", images: []string{"v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v1")[0])
				es[i] = entry{tar.Header{Name: es[i].hdr.Name, Linkname: evil, Mode: 0o777, Typeflag: tar.TypeSymlink}, nil}
				return es
			}},
		{name: "hard link", want: "refused", images: []string{"v2"},
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v1")[0])
				es[i] = entry{tar.Header{Name: es[i].hdr.Name, Linkname: "/etc/passwd", Typeflag: tar.TypeLink}, nil}
				return es
			}},
		{name: "declared size far larger than the data", want: "truncated",
			mutate: func(t *testing.T, es []entry) []entry {
				i := entryIndex(t, es, layersOf(t, es, "v1")[0])
				es[i].hdr.Size = 1 << 40
				es[i].hdr.Format = tar.FormatPAX
				return es[:i+1]
			}},
		{name: "index over the size cap", want: "limit",
			mutate: func(t *testing.T, es []entry) []entry {
				es[0].data = append(es[0].data, bytes.Repeat([]byte(" "), 5<<20)...)
				es[0].hdr.Size = int64(len(es[0].data))
				return es
			}},
		{name: "zstd stream that expands without bound", want: "limit",
			mutate: func(t *testing.T, es []entry) []entry {
				big := make([]byte, 256<<20) // zeros: compresses to almost nothing
				return []entry{{tar.Header{Name: "ferry-index.json", Size: int64(len(big)), Mode: 0o644, Typeflag: tar.TypeReg}, big}}
			}},
		{name: "modified index", want: "signature",
			mutate: func(t *testing.T, es []entry) []entry {
				es[0].data = bytes.Replace(es[0].data, []byte(`"v1"`), []byte(`"v9"`), 1)
				return es
			}},
		{name: "missing signature", want: "not signed",
			mutate: func(t *testing.T, es []entry) []entry {
				return append(es[:1:1], es[2:]...)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, good := goodBundle(t)
			bad := filepath.Join(s.dir, "bad.ferry")
			if tc.mutate != nil {
				writeEntries(t, bad, tc.mutate(t, readEntries(t, good)))
			} else {
				b, _ := os.ReadFile(good)
				os.WriteFile(bad, b[:int(float64(len(b))*tc.truncate)], 0o644)
			}
			for _, cmd := range []string{"verify", "load"} {
				r := run(t, s.site, cmd, bad)
				if r.code != 1 {
					t.Errorf("%s: %s, want exit 1", cmd, r)
				}
				if !strings.Contains(r.stdout+r.stderr, tc.want) {
					t.Errorf("%s: %s, want it to say %q", cmd, r, tc.want)
				}
			}
			if _, err := os.Lstat(evil); err == nil {
				t.Errorf("a hostile entry name wrote %s", evil)
			}
			must(t, s.site, "check", "--read-data")
			if names := lsNames(t, s.site); strings.Join(names, ",") != strings.Join(tc.images, ",") {
				t.Errorf("ls after load = %v, want images %v", names, tc.images)
			}
			if len(tc.images) == 0 {
				blobs, _ := os.ReadDir(filepath.Join(s.site, "store", "blobs", "sha256"))
				if tc.truncate == 0 && tc.want != "truncated" && len(blobs) != 0 {
					t.Errorf("a refused bundle left %d blobs in the store", len(blobs))
				}
			}
		})
	}
}

// TestLoad_GoodBundleTwice: a second load of the same bundle is a replay;
// with --allow-replay it re-reads and re-checks every entry and succeeds.
func TestLoad_GoodBundleTwice(t *testing.T) {
	s, good := goodBundle(t)
	must(t, s.site, "load", good)
	r := must(t, s.site, "load", "--allow-replay", good)
	if !strings.Contains(r.stdout, "already held") {
		t.Errorf("second load = %s, want it to report blobs already held", r)
	}
}

// TestLoad_DamagedThenGood: a bundle that arrived damaged does not count
// as loaded: a good copy of it loads without --allow-replay, and brings
// the image the damage left out.
func TestLoad_DamagedThenGood(t *testing.T) {
	s, good := goodBundle(t)
	es := readEntries(t, good)
	i := entryIndex(t, es, layersOf(t, es, "v1")[0])
	es[i].data[0] ^= 0xff
	bad := filepath.Join(s.dir, "scratched.ferry")
	writeEntries(t, bad, es)
	if r := run(t, s.site, "load", bad); r.code != 1 {
		t.Fatalf("load of a scratched bundle = %s, want exit 1", r)
	}
	must(t, s.site, "load", good)
	if names := lsNames(t, s.site); strings.Join(names, ",") != "v1,v2" {
		t.Errorf("after the good copy, ls = %v, want v1,v2", names)
	}
}
