package format

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/spec"
)

// TestReader_ZstdBomb: 2 GiB of zeros in a small stream. The entry is
// refused, and the stream is refused as fatal once it holds more bytes
// than the index accounts for, long before the 2 GiB; memory does not
// grow meanwhile. (A bomb in the index entry is refused by its size: see
// TestReader_Hostile "index declares 1 TiB"; a frame that asks for a
// window over the cap by "zstd window over the cap".)
func TestReader_ZstdBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("expands 2 GiB")
	}
	_, s := testKey(t, 1)
	f := newFixture(11, 10)
	_, head := signedHeader(t, f.index(), s, spec.SignatureNamespace)
	data := zstdBomb(t, append(head, f.bodyEntries()...), spec.BlobPrefix+strings.Repeat("0", 64), 2<<30)
	t.Logf("bomb: %d bytes", len(data))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(bytes.NewReader(data), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	res := drain(r)
	r.Close()
	runtime.ReadMemStats(&after)
	if !errors.Is(res.fatal, spec.ErrTooLarge) || len(res.errs) != 1 || !strings.Contains(res.errs[0].Error(), "not listed") {
		t.Errorf("drain: fatal %v, errs %v; want the unlisted entry refused, then ErrTooLarge", res.fatal, res.errs)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("reading allocated %d MiB, want at most 64", grew>>20)
	}
	t.Logf("allocated %d KiB in total, heap %d KiB", (after.TotalAlloc-before.TotalAlloc)>>10, after.HeapInuse>>10)
}

// TestReader_TooManyEntries: more than spec.MaxEntries+2 entries after the
// header is fatal.
func TestReader_TooManyEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100,003 entries")
	}
	_, s := testKey(t, 1)
	f := newFixture(12, 10)
	_, head := signedHeader(t, f.index(), s, spec.SignatureNamespace)
	var buf bytes.Buffer
	zw, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	tw := tar.NewWriter(zw)
	for _, e := range head {
		tw.WriteHeader(&e.hdr)
		tw.Write(e.data)
	}
	for i := range spec.MaxEntries + 3 {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("e%d", i), Mode: 0o644})
	}
	tw.Close()
	zw.Close()
	r, err := NewReader(&buf, ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := drain(r)
	if !errors.Is(res.fatal, spec.ErrTooLarge) || len(res.errs) != spec.MaxEntries+2 {
		t.Errorf("drain: fatal %v after %d refused entries, want ErrTooLarge after %d", res.fatal, len(res.errs), spec.MaxEntries+2)
	}
	if _, err := io.Copy(io.Discard, r); err != res.fatal {
		t.Errorf("Read after fatal = %v, want %v", err, res.fatal)
	}
}
