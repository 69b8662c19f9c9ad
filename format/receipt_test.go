package format

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// testReceipt returns a receipt of n blobs, not sorted, as a site fills
// it before WriteReceipt.
func testReceipt(n int) *Receipt {
	rc := &Receipt{
		Site:     "plant-7",
		Created:  testTime.Format(time.RFC3339),
		Sequence: 3,
		Loaded: []LoadedBundle{
			{From: "hq", To: "plant-7", Sequence: 12, Bundle: "bcd4d852828cc53750a6f43a6ec8cce1"},
			{From: "depot", Sequence: 2, Bundle: "0123456789abcdef0123456789abcdef"},
		},
	}
	for i := range n {
		rc.Blobs = append(rc.Blobs, ReceiptBlob{Digest: digest.FromString("blob " + strconv.Itoa(i)), Size: int64(i) * 1000})
	}
	return rc
}

func writeReceipt(t testing.TB, rc *Receipt, s ssh.Signer) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReceipt(&buf, rc, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trustSite trusts only k, for any site.
func trustSite(k ssh.PublicKey) func(*Receipt, ssh.PublicKey) error {
	return func(rc *Receipt, key ssh.PublicKey) error {
		if !bytes.Equal(key.Marshal(), k.Marshal()) {
			return fmt.Errorf("key %s is not the one registered for %s: %w", Fingerprint(key), rc.Site, spec.ErrUnknownSite)
		}
		return nil
	}
}

// receiptEntries returns the entries of a receipt file, with archive/tar.
func receiptEntries(t testing.TB, data []byte) []tarEntry {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr: *h, data: b})
	}
}

// signedReceipt is a plain tar of raw and its signature by s in ns.
func signedReceipt(t testing.TB, raw []byte, s ssh.Signer, ns string) []byte {
	t.Helper()
	sig, err := Sign(s, ns, raw)
	if err != nil {
		t.Fatal(err)
	}
	return buildTar(t, []tarEntry{regular(spec.ReceiptEntry, raw), regular(spec.ReceiptSignatureEntry, sig)})
}

// rawReceipt completes rc for s and returns its canonical bytes without
// validating it, so that a test can sign what the writer refuses.
func rawReceipt(t testing.TB, rc *Receipt, s ssh.Signer) []byte {
	t.Helper()
	rc.SchemaVersion, rc.MediaType, rc.Fingerprint = spec.ReceiptSchemaVersion, spec.ReceiptMediaType, Fingerprint(s.PublicKey())
	rc.Blobs, rc.Loaded = nonNil(rc.Blobs), nonNil(rc.Loaded)
	raw, err := encodeReceipt(rc)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestWriteReceipt_RoundTrip(t *testing.T) {
	_, s := testKey(t, 3)
	for _, n := range []int{0, 1, 300} {
		rc := testReceipt(n)
		data := writeReceipt(t, rc, s)
		if rc.SchemaVersion != spec.ReceiptSchemaVersion || rc.MediaType != spec.ReceiptMediaType || rc.Fingerprint != Fingerprint(s.PublicKey()) {
			t.Errorf("WriteReceipt left %d, %q, %q", rc.SchemaVersion, rc.MediaType, rc.Fingerprint)
		}
		if !slices.IsSortedFunc(rc.Blobs, func(a, b ReceiptBlob) int { return strings.Compare(string(a.Digest), string(b.Digest)) }) || rc.Loaded[0].From != "depot" {
			t.Errorf("WriteReceipt did not sort blobs and senders")
		}
		entries := receiptEntries(t, data)
		plain := buildTar(t, entries)
		for name, in := range map[string][]byte{"zstd": data, "plain": plain} {
			got, err := ReadReceipt(bytes.NewReader(in), trustSite(s.PublicKey()))
			if err != nil {
				t.Fatalf("%d blobs, %s: ReadReceipt = %v", n, name, err)
			}
			if !reflect.DeepEqual(got, rc) {
				t.Errorf("%d blobs, %s: ReadReceipt = %+v, want %+v", n, name, got, rc)
			}
		}
		if len(entries) != 2 || entries[0].hdr.Name != spec.ReceiptEntry || entries[1].hdr.Name != spec.ReceiptSignatureEntry ||
			!entries[0].hdr.ModTime.Equal(testTime) || entries[0].hdr.Mode != 0o644 {
			t.Errorf("entries %+v", entries)
		}
	}
}

// TestWriteReceipt_Deterministic: the same receipt, however its blobs are
// ordered, gives the same bytes; the entry is what Canonical makes of it.
func TestWriteReceipt_Deterministic(t *testing.T) {
	_, s := testKey(t, 3)
	a := testReceipt(200)
	b := testReceipt(200)
	slices.Reverse(b.Blobs)
	b.Loaded[0].To = "plant-7"
	da, db := writeReceipt(t, a, s), writeReceipt(t, b, s)
	if !bytes.Equal(da, db) {
		t.Errorf("two writes of one receipt differ (%d and %d bytes)", len(da), len(db))
	}
	canon, err := Canonical(a)
	if err != nil {
		t.Fatal(err)
	}
	if raw := receiptEntries(t, da)[0].data; !bytes.Equal(raw, canon) {
		t.Errorf("receipt entry\n%.300s\nCanonical\n%.300s", raw, canon)
	}
}

// TestWriteReceipt_SSHKeygenVerifies: ssh-keygen checks a receipt's
// signature in namespace ferry-receipt, and refuses it as a bundle's.
func TestWriteReceipt_SSHKeygenVerifies(t *testing.T) {
	needSSHKeygen(t)
	_, s := testKey(t, 3)
	data := writeReceipt(t, testReceipt(20), s)
	dir := t.TempDir()
	for _, e := range receiptEntries(t, data) {
		write(t, filepath.Join(dir, e.hdr.Name), e.data)
	}
	write(t, filepath.Join(dir, "plant-7.pub"), AuthorizedKey(s.PublicKey(), "plant-7@ferry"))
	out := run(t, dir, `
echo "plant-7 $(cat plant-7.pub)" > allowed_signers
ssh-keygen -Y verify -f allowed_signers -I plant-7 -n ferry-receipt -s ferry-receipt.json.sig < ferry-receipt.json`)
	if !strings.Contains(out, `Good "ferry-receipt" signature for plant-7`) {
		t.Errorf("ssh-keygen said:\n%s", out)
	}
	cmd := exec.Command("bash", "-c", "ssh-keygen -Y verify -f allowed_signers -I plant-7 -n ferry-bundle -s ferry-receipt.json.sig < ferry-receipt.json")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("ssh-keygen -n ferry-bundle accepted a receipt:\n%s", out)
	}
	// The commands of spec/receipt-v1.md, section 4, as written there.
	for _, tool := range []string{"tar", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	write(t, filepath.Join(dir, "plant-7-receipt.ferry"), data)
	out = run(t, dir, `
tar --zstd -xOf plant-7-receipt.ferry ferry-receipt.json > receipt.json
tar --zstd -xOf plant-7-receipt.ferry ferry-receipt.json.sig > receipt.json.sig
echo "plant-7 $(cat plant-7.pub)" > allowed_signers
ssh-keygen -Y verify -f allowed_signers -I plant-7 -n ferry-receipt -s receipt.json.sig < receipt.json
tar --zstd -tvf plant-7-receipt.ferry`)
	if !strings.Contains(out, `Good "ferry-receipt" signature for plant-7`) || !strings.Contains(out, "ferry-receipt.json.sig") {
		t.Errorf("tar and ssh-keygen said:\n%s", out)
	}
}

type refusedReceipt struct {
	name    string
	data    []byte
	wantIs  error
	wantErr string
}

func refusedReceipts(t *testing.T) []refusedReceipt {
	_, s := testKey(t, 3)
	good := receiptEntries(t, writeReceipt(t, testReceipt(30), s))
	raw := good[0].data
	plain := buildTar(t, good)
	resigned := func(edit func(*Receipt)) []byte {
		rc := testReceipt(30)
		rc.Blobs = slices.Clone(rc.Blobs)
		slices.SortFunc(rc.Blobs, func(a, b ReceiptBlob) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
		edit(rc)
		return signedReceipt(t, rawReceipt(t, rc, s), s, spec.ReceiptNamespace)
	}
	return []refusedReceipt{
		{"unsorted blobs", resigned(func(rc *Receipt) { rc.Blobs[3], rc.Blobs[4] = rc.Blobs[4], rc.Blobs[3] }), spec.ErrCorrupt, "blobs[4]: sha256:"},
		{"duplicate blob", resigned(func(rc *Receipt) { rc.Blobs[4] = rc.Blobs[3] }), spec.ErrCorrupt, "listed twice"},
		{"duplicate sender", resigned(func(rc *Receipt) { rc.Loaded[1].From = rc.Loaded[0].From }), spec.ErrCorrupt, "loaded[1].from: hq listed twice"},
		{"unknown field", signedReceipt(t, append([]byte(`{"aaa":1,`), raw[1:]...), s, spec.ReceiptNamespace), spec.ErrCorrupt, `unknown field "aaa"`},
		{"not canonical", signedReceipt(t, append(bytes.Clone(raw), '\n'), s, spec.ReceiptNamespace), spec.ErrCorrupt, "not canonical JSON"},
		{"extra entry", buildTar(t, append(good, regular(spec.LayoutEntry, []byte("{}")))), spec.ErrCorrupt, `entry "oci-layout" after ferry-receipt.json.sig`},
		{"a bundle", newFixture(5, 10).write(t, s, WriterOptions{}), spec.ErrCorrupt, "it is a bundle, not a receipt: ferry verify and ferry load read it"},
		{"truncated", plain[:len(plain)-2000], spec.ErrCorrupt, "truncated"},
		{"bad JSON", signedReceipt(t, []byte("{"), s, spec.ReceiptNamespace), spec.ErrCorrupt, "receipt: corrupt"},
	}
}

func TestReadReceipt_Refuses(t *testing.T) {
	_, s := testKey(t, 3)
	for _, tt := range refusedReceipts(t) {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := ReadReceipt(bytes.NewReader(tt.data), trustSite(s.PublicKey()))
			t.Log(err)
			if rc != nil || !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "receipt: ") {
				t.Errorf("ReadReceipt = %v, %v; want %v naming %q", rc, err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

// TestReadReceipt_NoTrust: a caller must say whom it trusts.
func TestReadReceipt_NoTrust(t *testing.T) {
	_, s := testKey(t, 3)
	data := writeReceipt(t, testReceipt(30), s)
	if _, err := ReadReceipt(bytes.NewReader(data), nil); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("ReadReceipt(nil trust) = %v, want ErrBadInput", err)
	}
}

// TestReadReceipt_ZstdBomb: a few hundred KiB that expand to 4 GiB, in the
// receipt entry or after the signature, are refused at once: reading
// stops at the header, well before the cap, and memory does not grow.
func TestReadReceipt_ZstdBomb(t *testing.T) {
	_, s := testKey(t, 3)
	good := receiptEntries(t, writeReceipt(t, testReceipt(30), s))
	const n = 4 << 30
	bomb := func(before []tarEntry, name string) []byte { return zstdBomb(t, before, name, n) }
	tests := []struct {
		name    string
		data    []byte
		wantIs  error
		wantErr string
	}{
		{"in the receipt entry", bomb(nil, spec.ReceiptEntry), spec.ErrTooLarge, "of 4294967296 bytes, at most 67108864"},
		{"in the signature entry", bomb(good[:1], spec.ReceiptSignatureEntry), spec.ErrTooLarge, "of 4294967296 bytes, at most 65536"},
		{"after the signature", bomb(good, "blobs/sha256/"+strings.Repeat("0", 64)), spec.ErrCorrupt, "a receipt holds only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Logf("bomb: %d bytes", len(tt.data))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			in := &countingReader{r: bytes.NewReader(tt.data)}
			_, err := ReadReceipt(in, trustSite(s.PublicKey()))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ReadReceipt = %v, want %v naming %q", err, tt.wantIs, tt.wantErr)
			}
			// Work is measured in bytes, not seconds, so that a busy
			// machine cannot change the outcome.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 || in.n > int64(len(tt.data))/4 {
				t.Errorf("reading allocated %d MiB and consumed %d of %d bytes, want at most 16 MiB and a quarter of the stream", grew>>20, in.n, len(tt.data))
			}
		})
	}
}

// TestReadReceipt_EntryAtTheCap: a receipt entry of exactly
// spec.MaxReceiptSize zero bytes, in a stream that expands to 16 GiB, is
// read up to the cap and no further: the zero blocks after it end the
// archive, and it is refused as unsigned.
func TestReadReceipt_EntryAtTheCap(t *testing.T) {
	_, s := testKey(t, 3)
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: spec.ReceiptEntry, Size: spec.MaxReceiptSize, Mode: 0o644})
	data := append(compress(t, head.Bytes()), zeroFrames(t, 16<<30)...)
	in := &countingReader{r: bytes.NewReader(data)}
	_, err := ReadReceipt(in, trustSite(s.PublicKey()))
	if !errors.Is(err, spec.ErrUnsigned) || in.n > int64(len(data))/4 {
		t.Errorf("ReadReceipt = %v after consuming %d of %d bytes, want ErrUnsigned within the first quarter", err, in.n, len(data))
	}
}

func TestWriteReceipt_Refuses(t *testing.T) {
	_, s := testKey(t, 3)
	tests := []struct {
		name    string
		edit    func(*Receipt)
		signer  ssh.Signer
		wantIs  error
		wantErr string
	}{
		{"no signer", func(*Receipt) {}, nil, spec.ErrBadInput, "receipt: no signer"},
		{"duplicate blob", func(rc *Receipt) { rc.Blobs[7] = rc.Blobs[8] }, s, spec.ErrCorrupt, "listed twice"},
		{"bad site", func(rc *Receipt) { rc.Site = "../x" }, s, spec.ErrCorrupt, `site: "../x" is not a site name`},
		{"version 2", func(rc *Receipt) { rc.SchemaVersion = 2 }, s, spec.ErrUnsupportedVersion, "schemaVersion 2"},
		{"sequence 0", func(rc *Receipt) { rc.Sequence = 0 }, s, spec.ErrCorrupt, "sequence: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := testReceipt(10)
			tt.edit(rc)
			var buf bytes.Buffer
			err := WriteReceipt(&buf, rc, tt.signer)
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) || buf.Len() != 0 {
				t.Errorf("WriteReceipt = %v after writing %d bytes, want %v naming %q and nothing written", err, buf.Len(), tt.wantIs, tt.wantErr)
			}
		})
	}
	t.Run("created now", func(t *testing.T) {
		rc := testReceipt(1)
		rc.Created = ""
		writeReceipt(t, rc, s)
		if c, err := time.Parse(time.RFC3339, rc.Created); err != nil || time.Since(c) > time.Minute {
			t.Errorf("created %q, want now", rc.Created)
		}
	})
}

// TestWriteReceipt_TooLarge: a receipt whose JSON would pass
// spec.MaxReceiptSize is refused by the writer, not left to the reader.
func TestWriteReceipt_TooLarge(t *testing.T) {
	_, s := testKey(t, 3)
	rc := testReceipt(10)
	rc.Loaded[0].Bundle = strings.Repeat("x", spec.MaxReceiptSize)
	var buf bytes.Buffer
	err := WriteReceipt(&buf, rc, s)
	if !errors.Is(err, spec.ErrTooLarge) || !strings.Contains(err.Error(), "at most 67108864") || buf.Len() != 0 {
		t.Errorf("WriteReceipt(over the cap) = %v, want ErrTooLarge and nothing written", err)
	}
}

func TestReceipt_Validate(t *testing.T) {
	_, s := testKey(t, 3)
	valid := func() *Receipt {
		rc := testReceipt(10)
		if _, err := completeReceipt(rc, s); err != nil {
			t.Fatal(err)
		}
		return rc
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	tests := []struct {
		name    string
		edit    func(*Receipt)
		wantIs  error
		wantErr string
	}{
		{"version 0", func(rc *Receipt) { rc.SchemaVersion = 0 }, spec.ErrUnsupportedVersion, "schemaVersion 0"},
		{"version first", func(rc *Receipt) { rc.SchemaVersion, rc.Site = 2, "" }, spec.ErrUnsupportedVersion, "schemaVersion 2"},
		{"media type", func(rc *Receipt) { rc.MediaType = spec.IndexMediaType }, spec.ErrCorrupt, "mediaType:"},
		{"no site", func(rc *Receipt) { rc.Site = "" }, spec.ErrCorrupt, "site:"},
		{"site starts with a dash", func(rc *Receipt) { rc.Site = "-rf" }, spec.ErrCorrupt, "site:"},
		{"site too long", func(rc *Receipt) { rc.Site = strings.Repeat("a", 65) }, spec.ErrCorrupt, "site:"},
		{"fingerprint MD5", func(rc *Receipt) { rc.Fingerprint = "MD5:12:34" }, spec.ErrCorrupt, "fingerprint:"},
		{"fingerprint short", func(rc *Receipt) { rc.Fingerprint = rc.Fingerprint[:40] }, spec.ErrCorrupt, "fingerprint:"},
		{"fingerprint padded", func(rc *Receipt) { rc.Fingerprint += "=" }, spec.ErrCorrupt, "fingerprint:"},
		{"created with fraction", func(rc *Receipt) { rc.Created = "2024-05-01T12:00:00.5Z" }, spec.ErrCorrupt, "created:"},
		{"created with offset", func(rc *Receipt) { rc.Created = "2024-05-01T14:00:00+02:00" }, spec.ErrCorrupt, "created:"},
		{"created not a time", func(rc *Receipt) { rc.Created = "2024-13-01T12:00:00Z" }, spec.ErrCorrupt, "created:"},
		{"sequence 0", func(rc *Receipt) { rc.Sequence = 0 }, spec.ErrCorrupt, "sequence:"},
		{"sha512 digest", func(rc *Receipt) { rc.Blobs[2].Digest = digest.SHA512.FromString("x") }, spec.ErrUnsupportedVersion, "blobs[2].digest:"},
		{"upper-case digest", func(rc *Receipt) { rc.Blobs[2].Digest = digest.Digest(strings.ToUpper(string(rc.Blobs[2].Digest))) }, spec.ErrBadInput, "blobs[2].digest:"},
		{"digest as a path", func(rc *Receipt) { rc.Blobs[2].Digest = "sha256:../../etc/passwd" }, spec.ErrCorrupt, "blobs[2].digest:"},
		{"negative size", func(rc *Receipt) { rc.Blobs[2].Size = -1 }, spec.ErrCorrupt, "blobs[2].size: -1"},
		{"unsorted", func(rc *Receipt) { rc.Blobs[2], rc.Blobs[3] = rc.Blobs[3], rc.Blobs[2] }, spec.ErrCorrupt, "blobs[3]: sha256:"},
		{"duplicate", func(rc *Receipt) { rc.Blobs[3] = rc.Blobs[2] }, spec.ErrCorrupt, "blobs[3]: sha256:"},
		{"too many blobs", func(rc *Receipt) { rc.Blobs = make([]ReceiptBlob, spec.MaxReceiptBlobs+1) }, spec.ErrTooLarge, "blobs: 1000001 blobs"},
		{"too many senders", func(rc *Receipt) { rc.Loaded = make([]LoadedBundle, spec.MaxReceiptSenders+1) }, spec.ErrTooLarge, "loaded: 10001 senders"},
		{"sender unnamed", func(rc *Receipt) { rc.Loaded[1].From = "" }, spec.ErrCorrupt, "loaded[1].from:"},
		{"sender bad to", func(rc *Receipt) { rc.Loaded[1].To = "a b" }, spec.ErrCorrupt, "loaded[1].to:"},
		{"sender no bundle", func(rc *Receipt) { rc.Loaded[1].Bundle = "" }, spec.ErrCorrupt, "loaded[1].bundle: empty"},
		{"senders unsorted", func(rc *Receipt) { rc.Loaded[0], rc.Loaded[1] = rc.Loaded[1], rc.Loaded[0] }, spec.ErrCorrupt, "loaded[1].from: depot after hq"},
		{"long site clipped", func(rc *Receipt) { rc.Site = strings.Repeat("é", 1000) }, spec.ErrCorrupt, "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := valid()
			tt.edit(rc)
			err := rc.Validate()
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) || len(err.Error()) > 400 {
				t.Errorf("Validate = %v, want %v naming %q", err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

func TestParseReceipt(t *testing.T) {
	_, s := testKey(t, 3)
	rc := testReceipt(3)
	raw, err := completeReceipt(rc, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReceipt(raw)
	if err != nil || !reflect.DeepEqual(got, rc) {
		t.Fatalf("ParseReceipt = %+v, %v; want %+v", got, err, rc)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(raw, []byte(old)) {
			t.Fatalf("%s not in %s", old, raw)
		}
		return bytes.Replace(raw, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name    string
		data    []byte
		wantIs  error
		wantErr string
	}{
		{"version 2 with new fields", []byte(`{"schemaVersion":2,"holdings":{}}`), spec.ErrUnsupportedVersion, "receipt: schemaVersion 2: unsupported version (this ferry reads 1)"},
		{"version 1.0", replace(`"schemaVersion":1`, `"schemaVersion":1.0`), spec.ErrUnsupportedVersion, "schemaVersion 1.0"},
		{"no version", replace(`"schemaVersion":1,`, ``), spec.ErrCorrupt, "no schemaVersion"},
		{"not an object", []byte(`[1]`), spec.ErrCorrupt, "receipt: corrupt"},
		{"trailing data", append(bytes.Clone(raw), `{}`...), spec.ErrCorrupt, "receipt: corrupt"},
		{"trailing newline", append(bytes.Clone(raw), '\n'), spec.ErrCorrupt, "not canonical JSON: differs from its canonical form at byte"},
		{"space", replace(`"site":"plant-7"`, `"site": "plant-7"`), spec.ErrCorrupt, "not canonical"},
		{"keys out of order", append([]byte(`{"site":"plant-7",`), replace(`,"site":"plant-7"`, ``)[1:]...), spec.ErrCorrupt, "not canonical"},
		{"duplicate key", replace(`"site":"plant-7"`, `"site":"hq","site":"plant-7"`), spec.ErrCorrupt, "not canonical"},
		{"key in other case", replace(`"site":"plant-7"`, `"Site":"plant-7"`), spec.ErrCorrupt, "not canonical"},
		{"escaped letter", replace(`"site":"plant-7"`, `"site":"\u0070lant-7"`), spec.ErrCorrupt, "not canonical"},
		{"empty to", replace(`"sequence":2}`, `"sequence":2,"to":""}`), spec.ErrCorrupt, "not canonical"},
		{"null blobs", replace(raw2blobs(raw), `"blobs":null`), spec.ErrCorrupt, "not canonical"},
		{"size as float", replace(`"size":0}`, `"size":0.0}`), spec.ErrCorrupt, "receipt: corrupt"},
		{"size as exponent", replace(`"size":1000}`, `"size":1e3}`), spec.ErrCorrupt, "receipt: corrupt"},
		{"unknown field", replace(`"site":"plant-7"`, `"site":"plant-7","zzz":1`), spec.ErrCorrupt, `unknown field "zzz"`},
		{"invalid UTF-8", replace(`"bundle":"0123`, "\"bundle\":\"\xff123"), spec.ErrCorrupt, "not canonical"},
		{"too large", make([]byte, spec.MaxReceiptSize+1), spec.ErrTooLarge, "receipt: 67108865 bytes"},
		{"valid JSON, invalid receipt", replace(`"sequence":3`, `"sequence":0`), spec.ErrCorrupt, "receipt: sequence: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := ParseReceipt(tt.data)
			t.Log(err)
			if rc != nil || !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseReceipt = %v, %v; want %v naming %q", rc, err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

// raw2blobs returns the "blobs":[…] member of raw.
func raw2blobs(raw []byte) string {
	s := string(raw)
	i := strings.Index(s, `"blobs":[`)
	j := strings.Index(s[i:], "]")
	return s[i : i+j+1]
}

// TestEncodeReceipt_Canonical: the struct encoding is Canonical's, also
// for strings that encoding/json escapes.
func TestEncodeReceipt_Canonical(t *testing.T) {
	rc := testReceipt(5)
	rc.Loaded[0].Bundle = "<&> \u2028 \x01 \"é\" \\"
	rc.Loaded = append(rc.Loaded, LoadedBundle{From: "zz", Bundle: "x"})
	got, err := encodeReceipt(rc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Canonical(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encodeReceipt =\n%s\nCanonical =\n%s", got, want)
	}
}

func FuzzParseReceipt(f *testing.F) {
	_, s := testKey(f, 3)
	raw, err := completeReceipt(testReceipt(3), s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"schemaVersion":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var any Receipt
		if json.Unmarshal(data, &any) == nil {
			any.Blobs, any.Loaded = nonNil(any.Blobs), nonNil(any.Loaded) // encodeReceipt writes nil as []
			got, err1 := encodeReceipt(&any)
			want, err2 := Canonical(&any)
			if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
				t.Fatalf("encodeReceipt = %q, %v; Canonical = %q, %v", got, err1, want, err2)
			}
		}
		rc, err := ParseReceipt(data)
		if err != nil {
			return
		}
		again, err := Canonical(rc)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("Canonical(ParseReceipt(data)) = %v, %q; want data", err, again)
		}
	})
}

func FuzzReadReceipt(f *testing.F) {
	_, s := testKey(f, 3)
	data := writeReceipt(f, testReceipt(3), s)
	f.Add(data)
	f.Add(buildTar(f, receiptEntries(f, data)))
	anyKey := func(*Receipt, ssh.PublicKey) error { return nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := ReadReceipt(bytes.NewReader(data), anyKey)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "receipt: ") {
				t.Fatalf("ReadReceipt = %v, want an error starting receipt: ", err)
			}
			return
		}
		if err := rc.Validate(); err != nil {
			t.Fatalf("ReadReceipt returned an invalid receipt: %v", err)
		}
		// What was accepted has one byte form, which reads back the same.
		raw, err := Canonical(rc)
		if err != nil {
			t.Fatalf("Canonical(accepted receipt) = %v", err)
		}
		again, err := ParseReceipt(raw)
		if err != nil || !reflect.DeepEqual(again, rc) {
			t.Fatalf("ParseReceipt(Canonical(rc)) = %+v, %v; want %+v", again, err, rc)
		}
	})
}

// TestWriteReceiptFuzzCorpus rewrites the committed receipt seeds under
// -update.
func TestWriteReceiptFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	_, s := testKey(t, 3)
	data := writeReceipt(t, testReceipt(4), s)
	entries := receiptEntries(t, data)
	seeds := map[string][]byte{
		"FuzzReadReceipt/zstd":     data,
		"FuzzReadReceipt/plain":    buildTar(t, entries),
		"FuzzReadReceipt/unsigned": buildTar(t, entries[:1]),
		"FuzzParseReceipt/receipt": entries[0].data,
	}
	for name, data := range seeds {
		path := filepath.Join("testdata/fuzz", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		writePublic(t, path, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))))
	}
}

// BenchmarkReadReceipt reads a receipt of 100,000 blobs (and writes it, in
// BenchmarkReadReceipt/write).
func BenchmarkReadReceipt(b *testing.B) {
	_, s := testKey(b, 3)
	rc := testReceipt(100_000)
	data := writeReceipt(b, rc, s)
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadReceipt(bytes.NewReader(data), trustSite(s.PublicKey())); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := WriteReceipt(io.Discard, rc, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func ExampleWriteReceipt() {
	s, err := ssh.NewSignerFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize)))
	if err != nil {
		fmt.Println(err)
		return
	}
	rc := &Receipt{
		Site:     "plant-7",
		Created:  "2024-05-01T12:00:00Z",
		Sequence: 1,
		Blobs:    []ReceiptBlob{{Digest: digest.FromString("a layer"), Size: 7}},
		Loaded:   []LoadedBundle{{From: "hq", To: "plant-7", Sequence: 12, Bundle: "bcd4d852828cc53750a6f43a6ec8cce1"}},
	}
	var file bytes.Buffer
	if err := WriteReceipt(&file, rc, s); err != nil {
		fmt.Println(err)
		return
	}
	// At the sender: trust only the key registered for rc.Site.
	got, err := ReadReceipt(&file, func(rc *Receipt, key ssh.PublicKey) error {
		if rc.Site != "plant-7" || Fingerprint(key) != Fingerprint(s.PublicKey()) {
			return fmt.Errorf("key %s not registered for %s: %w", Fingerprint(key), rc.Site, spec.ErrUnknownSite)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Site, got.Sequence, len(got.Blobs), got.Loaded[0].From, got.Loaded[0].Sequence)
	// Output: plant-7 1 1 hq 12
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
