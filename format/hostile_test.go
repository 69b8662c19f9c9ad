package format

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// hostile is a damaged or malicious stream and what reading it must give.
type hostile struct {
	name     string
	data     []byte
	wantErr  string
	wantIs   error
	fatal    bool // the stream stops; else only that entry is lost
	wantGood int  // entries read and verified, for a non-fatal fault
	zstdOnly bool // data is already compressed
}

// hostileStreams builds the table. The fixture has 2 files and 4 blobs.
func hostileStreams(t *testing.T) []hostile {
	_, s := testKey(t, 1)
	f := newFixture(10, 300, 10, 5000, 70000)
	raw, head := signedHeader(t, f.index(), s, spec.SignatureNamespace)
	body := f.bodyEntries()
	stream := func(parts ...[]tarEntry) []byte { return buildTar(t, slices.Concat(parts...)) }
	full := stream(head, body)
	with := func(i int, e tarEntry) []tarEntry { return slices.Concat(body[:i], []tarEntry{e}, body[i:]) }
	blob := body[2] // the smallest blob
	named := func(typ byte, name string) tarEntry {
		return tarEntry{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: "/etc/passwd", Mode: 0o644}}
	}
	flipped := regular(blob.hdr.Name, bytes.Clone(blob.data))
	flipped.data[3] ^= 0x40
	longer := regular(blob.hdr.Name, append(bytes.Clone(blob.data), 'x'))
	other := randomBytes(4242, 50)
	prereq := regular(spec.BlobPrefix+f.prereq.Digest.Encoded(), randomBytes(10*1000+999, 64))
	huge := tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: body[5].hdr.Name, Size: 1 << 30, Mode: 0o644}, data: body[5].data}
	bigIndex := tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: spec.IndexEntry, Size: 1 << 40, Mode: 0o644}}
	return []hostile{
		{name: "flipped byte in a blob", data: stream(head, body[:2], []tarEntry{flipped}, body[3:]), wantErr: "digest mismatch", wantIs: spec.ErrDigestMismatch, wantGood: 5},
		{name: "truncated in a blob", data: full[:len(full)-40000], wantErr: "bundle truncated", wantIs: io.ErrUnexpectedEOF, fatal: true},
		{name: "truncated at an entry boundary", data: full[:len(full)-1024], wantErr: "bundle truncated: no end-of-archive marker", wantIs: io.ErrUnexpectedEOF, fatal: true},
		{name: "header size far larger than data", data: stream(head, body[:5], []tarEntry{huge}), wantErr: "bundle truncated", fatal: true},
		{name: "extra unlisted entry", data: stream(head, with(3, regular(spec.BlobPrefix+digest.FromBytes(other).Encoded(), other))), wantErr: "not listed in the index", wantGood: 6},
		{name: "missing entry", data: stream(head, body[:5]), wantErr: "missing " + body[5].hdr.Name, wantGood: 5},
		{name: "duplicated entry", data: stream(head, body, []tarEntry{blob}), wantErr: "duplicate entry", wantGood: 6},
		{name: "name with ..", data: stream(head, with(2, regular("blobs/sha256/../../../etc/passwd", other))), wantErr: `entry name "blobs/sha256/../../../etc/passwd" refused`, wantGood: 6},
		{name: "absolute path", data: stream(head, with(2, regular("/etc/passwd", other))), wantErr: `entry name "/etc/passwd" refused`, wantGood: 6},
		{name: "uppercase hex", data: stream(head, with(2, regular(strings.ToUpper(blob.hdr.Name), other))), wantErr: "refused", wantGood: 6},
		{name: "symlink", data: stream(head, with(2, named(tar.TypeSymlink, blob.hdr.Name))), wantErr: "type symlink refused", wantGood: 6},
		{name: "hard link", data: stream(head, with(2, named(tar.TypeLink, blob.hdr.Name))), wantErr: "type hardlink refused", wantGood: 6},
		{name: "directory", data: stream(head, with(2, named(tar.TypeDir, blob.hdr.Name))), wantErr: "type directory refused", wantGood: 6},
		{name: "char device", data: stream(head, with(2, named(tar.TypeChar, blob.hdr.Name))), wantErr: "type char device refused", wantGood: 6},
		{name: "header size not the listed size", data: stream(head, body[:2], []tarEntry{longer}, body[3:]), wantErr: "size 11, the index lists 10", wantGood: 5},
		{name: "prerequisite present", data: stream(head, with(6, prereq)), wantErr: "listed as a prerequisite", wantGood: 6},
		{name: "index entry again", data: stream(head, body, []tarEntry{regular(spec.IndexEntry, raw)}), wantErr: `entry name "ferry-index.json" refused`, wantGood: 6},
		{name: "unknown blob kind", data: unknownKind(t, f), wantErr: `kind "patch" unknown to this ferry`, wantGood: 5},
		{name: "unknown schemaVersion", data: futureIndex(t, f, raw), wantErr: "bundle index: schemaVersion 2: unsupported version", wantIs: spec.ErrUnsupportedVersion, fatal: true},
		{name: "index over the cap", data: stream([]tarEntry{regular(spec.IndexEntry, bytes.Repeat([]byte(" "), spec.MaxIndexSize+1))}), wantErr: "bundle index: entry \"ferry-index.json\" of 4194305 bytes", wantIs: spec.ErrTooLarge, fatal: true},
		{name: "index declares 1 TiB", data: stream([]tarEntry{bigIndex}), wantErr: "1099511627776 bytes, at most 4194304", wantIs: spec.ErrTooLarge, fatal: true},
		{name: "signature over the cap", data: stream(head[:1], []tarEntry{regular(spec.SignatureEntry, make([]byte, spec.MaxSignatureSize+1))}), wantIs: spec.ErrTooLarge, fatal: true},
		{name: "index is a symlink", data: stream([]tarEntry{named(tar.TypeSymlink, spec.IndexEntry)}), wantErr: "type symlink refused", fatal: true},
		{name: "first entry not the index", data: stream(body), wantErr: `entry "oci-layout" where ferry-index.json should be`, fatal: true},
		{name: "truncated zstd", data: compress(t, full)[:len(compress(t, full))/2], wantErr: "bundle truncated", fatal: true, zstdOnly: true},
		{name: "zstd window over the cap", data: bigWindow(t, full), wantErr: "bundle index: bundle: zstd:", wantIs: spec.ErrTooLarge, fatal: true, zstdOnly: true},
	}
}

// unknownKind lists one shipped blob with kind "patch", which this ferry does not know.
func unknownKind(t *testing.T, f *fixture) []byte {
	_, s := testKey(t, 1)
	ix := f.index()
	ix.Blobs[1].Kind = "patch"
	_, head := signedHeader(t, ix, s, spec.SignatureNamespace)
	return buildTar(t, append(head, f.bodyEntries()...))
}

// futureIndex is a signed index of schemaVersion 2 with a field v1 does
// not know.
func futureIndex(t *testing.T, f *fixture, raw []byte) []byte {
	_, s := testKey(t, 1)
	raw = bytes.Replace(raw, []byte(`"schemaVersion":1`), []byte(`"schemaVersion":2`), 1)
	raw = bytes.Replace(raw, []byte(`{"blobs"`), []byte(`{"blobs"`), 1)
	raw = append([]byte(`{"aNewField":[],`), raw[1:]...)
	sig, err := Sign(s, spec.SignatureNamespace, raw)
	if err != nil {
		t.Fatal(err)
	}
	return buildTar(t, append([]tarEntry{regular(spec.IndexEntry, raw), regular(spec.SignatureEntry, sig)}, f.bodyEntries()...))
}

func compress(t *testing.T, data []byte, opts ...zstd.EOption) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReader_Hostile(t *testing.T) {
	_, s := testKey(t, 1)
	for _, h := range hostileStreams(t) {
		for _, c := range []string{"tar", "zstd"} {
			if h.zstdOnly && c == "tar" {
				continue
			}
			t.Run(h.name+"/"+c, func(t *testing.T) {
				data := h.data
				if c == "zstd" && !h.zstdOnly {
					data = compress(t, data)
				}
				checkHostile(t, h, data, ReaderOptions{Trust: trustKey(s.PublicKey())})
			})
		}
	}
}

func checkHostile(t *testing.T, h hostile, data []byte, opts ReaderOptions) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		if !h.fatal {
			t.Fatalf("NewReader = %v, want a non-fatal %q", err, h.wantErr)
		}
		checkErr(t, err, h)
		return
	}
	defer r.Close()
	res := drain(r)
	if h.fatal {
		checkErr(t, res.fatal, h)
		if _, again := r.Next(); again != res.fatal {
			t.Errorf("Next after %v = %v, want the same (sticky)", res.fatal, again)
		}
		return
	}
	if res.fatal != nil {
		t.Fatalf("fatal %v, want only %q", res.fatal, h.wantErr)
	}
	errs := res.errs
	for _, m := range res.missing {
		errs = append(errs, errors.New("missing "+m))
	}
	if len(errs) != 1 {
		t.Fatalf("faults %v, want one: %q", errs, h.wantErr)
	}
	checkErr(t, errs[0], h)
	if len(res.good) != h.wantGood {
		t.Errorf("%d entries verified, want %d", len(res.good), h.wantGood)
	}
}

func checkErr(t *testing.T, err error, h hostile) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), h.wantErr) {
		t.Errorf("err = %v, want %q", err, h.wantErr)
	}
	if h.wantIs != nil && !errors.Is(err, h.wantIs) {
		t.Errorf("err = %v, want errors.Is %v", err, h.wantIs)
	}
}
