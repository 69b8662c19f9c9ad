package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// frame is one zstd frame of a stream, as zstdFrames splits them.
type frame struct {
	raw     bool // every block raw
	content []byte
}

// zstdFrames splits a zstd stream into frames, decoding each on its own
// (so each is a whole frame), and says which hold only raw blocks.
func zstdFrames(t *testing.T, b []byte) []frame {
	t.Helper()
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []frame
	for len(b) > 0 {
		n, raw := frameLen(t, b)
		content, err := dec.DecodeAll(b[:n], nil)
		if err != nil {
			t.Fatalf("frame %d: %v", len(out), err)
		}
		out = append(out, frame{raw: raw, content: content})
		b = b[n:]
	}
	return out
}

// frameLen parses the frame at the start of b (RFC 8878 §3.1.1).
func frameLen(t *testing.T, b []byte) (int, bool) {
	t.Helper()
	if !bytes.HasPrefix(b, zstdMagic) {
		t.Fatalf("no zstd magic at % x", b[:min(len(b), 8)])
	}
	fhd := b[4]
	single := fhd>>5&1 == 1
	n := 5
	if !single {
		n++ // Window_Descriptor
	}
	n += []int{0, 1, 2, 4}[fhd&3]
	fcs := []int{0, 2, 4, 8}[fhd>>6]
	if fcs == 0 && single {
		fcs = 1
	}
	n += fcs
	raw := true
	for {
		h := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16
		n += 3
		size := int(h >> 3)
		switch typ := h >> 1 & 3; typ {
		case 0:
		case 1:
			raw, size = false, 1
		default:
			raw = false
		}
		n += size
		if h&1 == 1 {
			break
		}
	}
	if fhd>>2&1 == 1 {
		n += 4
	}
	return n, raw
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// TestWriter_Frames: every entry starts a frame; a blob's data is a frame
// of its own, of raw blocks when it is compressed already; and the frames
// decode to exactly the uncompressed bundle.
func TestWriter_Frames(t *testing.T) {
	_, s := testKey(t, 1)
	gz := gzipped(t, randomBytes(7, 300<<10))
	f := newFixtureData(7, compressible(8, 5000), gz, []byte{})
	zst := f.write(t, s, WriterOptions{ModTime: testTime})
	plain := f.write(t, s, WriterOptions{Compression: CompressionNone, ModTime: testTime})
	frames := zstdFrames(t, zst)
	var joined []byte
	for _, fr := range frames {
		joined = append(joined, fr.content...)
	}
	if !bytes.Equal(joined, plain) {
		t.Fatalf("the frames decode to %d bytes, not the %d of the uncompressed bundle", len(joined), len(plain))
	}
	// index, signature, oci-layout, index.json; per blob its header and
	// (when it has bytes) its data; the end-of-archive marker.
	if want := 4 + 2 + 2 + 1 + 1; len(frames) != want {
		t.Fatalf("%d frames, want %d", len(frames), want)
	}
	var rawData, total int
	for _, fr := range frames {
		if fr.raw && len(fr.content) >= len(gz) {
			rawData++
			if !bytes.Equal(fr.content[:len(gz)], gz) {
				t.Errorf("the raw frame is not the gzip blob")
			}
		}
		total += len(fr.content)
	}
	if rawData != 1 {
		t.Errorf("%d raw frames holding the gzip blob, want 1", rawData)
	}
	zstdCommand(t, zst, plain)
	if len(zst) > len(plain)-4000 {
		t.Errorf("bundle of %d bytes for %d of tar: the compressible blob did not compress", len(zst), len(plain))
	}
}

// TestRawFrame: a raw frame is the same whatever the writes were, carries
// no checksum, and decodes with zstd's own decoder and the zstd command.
func TestRawFrame(t *testing.T) {
	for _, n := range []int{0, 1, rawBlockMax - 1, rawBlockMax, rawBlockMax + 1, 3 * rawBlockMax} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := randomBytes(uint64(n), n)
			var outs [][]byte
			for _, chunk := range []int{1 << 20, 1000, rawBlockMax} {
				var buf bytes.Buffer
				f := newRawFrame(&buf)
				for p := data; len(p) > 0; p = p[min(chunk, len(p)):] {
					if _, err := f.Write(p[:min(chunk, len(p))]); err != nil {
						t.Fatal(err)
					}
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, buf.Bytes())
			}
			for i := range outs[1:] {
				if !bytes.Equal(outs[0], outs[i+1]) {
					t.Fatalf("writes of another size gave other bytes")
				}
			}
			got := decodeChecked(t, outs[0])
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want %d", len(got), n)
			}
			// header, then each block (3 bytes and its content), nothing after
			if want := len(rawFrameHeader) + 3*(n/rawBlockMax+1) + n; len(outs[0]) != want {
				t.Errorf("frame of %d bytes, want %d: header, blocks and no checksum", len(outs[0]), want)
			}
			zstdCommand(t, outs[0], data)
		})
	}
}

// decodeChecked decodes a stream with the frame checksums checked.
func decodeChecked(t *testing.T, b []byte) []byte {
	t.Helper()
	dec, err := zstd.NewReader(bytes.NewReader(b), zstd.IgnoreChecksum(false))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	got, err := io.ReadAll(dec)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got
}

// zstdCommand checks that the zstd command (the reference decoder) tests
// and decodes b to want, when it is installed.
func zstdCommand(t *testing.T, b, want []byte) {
	t.Helper()
	bin, err := exec.LookPath("zstd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zstd is required under CI=true")
		}
		t.Skip("zstd not installed")
	}
	cmd := exec.Command(bin, "-d", "-c")
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd -d: %v: %s", err, stderr.String())
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("zstd -d gave %d bytes, want %d", len(got), len(want))
	}
}

// TestReader_RawFramesWithChecksum: a bundle whose frames of raw blocks
// carry a content checksum, as ferry wrote them until 2026-12, reads
// whole and verified.
func TestReader_RawFramesWithChecksum(t *testing.T) {
	_, s := testKey(t, 1)
	gz := gzipped(t, randomBytes(16, 300<<10))
	f := newFixtureData(16, compressible(17, 5000), gz)
	b := f.write(t, s, WriterOptions{ModTime: testTime})
	var old []byte
	var raws int
	for len(b) > 0 {
		n, raw := frameLen(t, b)
		fr := b[:n]
		if raw && bytes.HasPrefix(fr, rawFrameHeader) {
			raws++
			content := zstdFrames(t, fr)[0].content
			fr = append(append([]byte{}, fr...), 0, 0, 0, 0)
			fr[4] |= 1 << 2 // Content_Checksum_flag
			binary.LittleEndian.PutUint32(fr[len(fr)-4:], uint32(xxhash.Sum64(content)))
		}
		old = append(old, fr...)
		b = b[n:]
	}
	if raws == 0 {
		t.Fatal("the bundle has no frame of raw blocks")
	}
	decodeChecked(t, old) // a well-formed stream, the checksums right
	r, err := NewReader(bytes.NewReader(old), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res := drain(r)
	if res.fatal != nil || len(res.errs) > 0 || len(res.missing) > 0 {
		t.Fatalf("read of the bundle with checksummed raw frames: fatal %v, faults %v, missing %v", res.fatal, res.errs, res.missing)
	}
	var found bool
	for _, got := range res.good {
		found = found || bytes.Equal(got, gz)
	}
	if !found {
		t.Errorf("the gzip blob is not among the %d entries read", len(res.good))
	}
}
