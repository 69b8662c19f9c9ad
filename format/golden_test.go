package format

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

var update = flag.Bool("update", false, "rewrite format/testdata/golden.ferry and the fuzz seed corpus")

const goldenPath = "testdata/golden.ferry"

// goldenBundle is the golden bundle's content: fixed key, time and blobs.
func goldenBundle(t testing.TB) []byte {
	_, s := testKey(t, 1)
	return newFixture(42, 1200, 200, 4000).write(t, s, WriterOptions{ModTime: testTime})
}

// TestWriter_Golden: the Writer's output for a fixed input never changes
// by accident. Regenerate with go test ./format -update.
func TestWriter_Golden(t *testing.T) {
	got := goldenBundle(t)
	if *update {
		writePublic(t, goldenPath, got)
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./format -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Writer output (%d bytes) differs from %s (%d bytes); if the change is meant, run go test ./format -update and bump the version history in spec/bundle-v1.md", len(got), goldenPath, len(want))
	}
	_, s := testKey(t, 1)
	r, err := NewReader(bytes.NewReader(want), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if res := drain(r); res.fatal != nil || len(res.errs) > 0 || len(res.good) != 5 {
		t.Errorf("reading %s: fatal %v, errs %v, %d good", goldenPath, res.fatal, res.errs, len(res.good))
	}
}

// earlierGolden is the golden bundle as the writer wrote it before
// bundle-v1's framing (2026-12): one zstd frame for the whole stream.
const earlierGolden = "testdata/golden-2026.ferry"

// TestReader_EarlierGolden: a bundle written before the framing reads and
// verifies as it always did.
func TestReader_EarlierGolden(t *testing.T) {
	data, err := os.ReadFile(earlierGolden)
	if err != nil {
		t.Fatal(err)
	}
	if frames := zstdFrames(t, data); len(frames) != 1 {
		t.Fatalf("%s: %d zstd frames, want the 1 of the earlier writer", earlierGolden, len(frames))
	}
	_, s := testKey(t, 1)
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := drain(r)
	if res.fatal != nil || len(res.errs) > 0 || len(res.good) != 5 {
		t.Fatalf("reading %s: fatal %v, errs %v, %d good", earlierGolden, res.fatal, res.errs, len(res.good))
	}
	now, err := NewReader(bytes.NewReader(goldenBundle(t)), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer now.Close()
	for name, b := range drain(now).good {
		if !bytes.Equal(res.good[name], b) {
			t.Errorf("entry %s differs from today's writer's", name)
		}
	}
}

// TestWriteFuzzCorpus rewrites the committed seed corpus under -update.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	_, s := testKey(t, 1)
	f := newFixture(43, 100, 30)
	plain := f.write(t, s, WriterOptions{Compression: CompressionNone, ModTime: testTime})
	damaged := bytes.Clone(plain)
	damaged[len(damaged)-1100] ^= 1 // inside the last blob
	raw, _ := signedHeader(t, f.index(), s, "ferry-bundle")
	seeds := map[string][]byte{
		"FuzzReader/plain":       plain,
		"FuzzReader/damaged":     damaged,
		"FuzzReader/zstd":        f.write(t, s, WriterOptions{ModTime: testTime}),
		"FuzzReader/symlink":     symlinkSeed(t, f, s),
		"FuzzParseIndex/index":   raw,
		"FuzzParseIndex/v2":      bytes.Replace(raw, []byte(`"schemaVersion":1`), []byte(`"schemaVersion":2`), 1),
		"FuzzParseIndex/unknown": append([]byte(`{"aaa":[1,2],`), raw[1:]...),
	}
	for name, data := range seeds {
		path := filepath.Join("testdata/fuzz", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writePublic(t, path, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))))
	}
}

// symlinkSeed is f's bundle with a symlink where its first blob should be.
func symlinkSeed(t *testing.T, f *fixture, s ssh.Signer) []byte {
	_, head := signedHeader(t, f.index(), s, spec.SignatureNamespace)
	link := tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: spec.BlobPrefix + f.order[0].Encoded(), Linkname: "/etc/shadow"}}
	return buildTar(t, append(append(head, link), f.bodyEntries()[2:]...))
}

func writePublic(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
