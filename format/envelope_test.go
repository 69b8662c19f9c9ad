package format

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// signedKind is one kind of signed file as the envelope's hostile cases
// build and read it.
type signedKind struct {
	name     string
	doc, sig string // entry names
	ns       string // its signature's namespace
	otherNS  string // the other kind's
	noun     string // how a fault names the document
	// document returns a valid document naming s's key, as s would sign
	// it, and the entries that follow its signature.
	document func(t *testing.T, s ssh.Signer) (raw []byte, rest []tarEntry)
	// read reads a whole file trusting only key and returns its fault.
	read func(r io.Reader, key ssh.PublicKey) error
}

func signedKinds() []signedKind {
	return []signedKind{
		{name: "bundle", doc: spec.IndexEntry, sig: spec.SignatureEntry, ns: spec.SignatureNamespace, otherNS: spec.ReceiptNamespace, noun: "index",
			document: func(t *testing.T, s ssh.Signer) ([]byte, []tarEntry) {
				f := newFixture(10, 300, 5000)
				raw, _ := signedHeader(t, f.index(), s, spec.SignatureNamespace)
				return raw, f.bodyEntries()
			},
			read: func(in io.Reader, key ssh.PublicKey) error {
				r, err := NewReader(in, ReaderOptions{Trust: trustKey(key)})
				if err != nil {
					return err
				}
				defer r.Close()
				res := drain(r)
				if res.fatal != nil {
					return res.fatal
				}
				return errors.Join(res.errs...)
			}},
		{name: "receipt", doc: spec.ReceiptEntry, sig: spec.ReceiptSignatureEntry, ns: spec.ReceiptNamespace, otherNS: spec.SignatureNamespace, noun: "receipt",
			document: func(t *testing.T, s ssh.Signer) ([]byte, []tarEntry) {
				return receiptEntries(t, writeReceipt(t, testReceipt(30), s))[0].data, nil
			},
			read: func(in io.Reader, key ssh.PublicKey) error {
				_, err := ReadReceipt(in, trustSite(key))
				return err
			}},
	}
}

// signedParts are what a hostile case builds its stream from.
type signedParts struct {
	k        signedKind
	raw      []byte     // the document, signed by s
	rest     []tarEntry // what follows the signature
	s, other ssh.Signer // s is trusted
}

func (p signedParts) signed(raw []byte, s ssh.Signer, ns string) tarEntry {
	sig, err := Sign(s, ns, raw)
	if err != nil {
		panic(err)
	}
	return regular(p.k.sig, sig)
}

// file is a plain tar of document raw, the entry sig and the rest.
func (p signedParts) file(t *testing.T, raw []byte, sig tarEntry) []byte {
	return buildTar(t, append([]tarEntry{regular(p.k.doc, raw), sig}, p.rest...))
}

func (p signedParts) good(t *testing.T) []byte {
	return p.file(t, p.raw, p.signed(p.raw, p.s, p.k.ns))
}

// envelopeCase is a hostile signed file, of either kind, and what reading
// it must give. wantErr may name the document's entry ({doc}), the
// signature's ({sig}), the namespace ({ns}), the other kind's ({otherNS})
// and the document's noun ({noun}).
type envelopeCase struct {
	name     string
	data     func(t *testing.T, p signedParts) []byte
	wantIs   error
	wantErr  string
	zstdOnly bool // data is compressed already
}

func envelopeCases() []envelopeCase {
	header := func(name string, typ byte, size int64) tarEntry {
		return tarEntry{hdr: tar.Header{Typeflag: typ, Name: name, Size: size, Mode: 0o644, Linkname: "/etc/shadow"}}
	}
	return []envelopeCase{
		{name: "empty", data: func(*testing.T, signedParts) []byte { return nil }, wantIs: spec.ErrCorrupt, wantErr: "empty stream"},
		{name: "not a tar", data: func(*testing.T, signedParts) []byte { return []byte("hello, world") }, wantIs: spec.ErrCorrupt},
		{name: "signature first", wantIs: spec.ErrCorrupt, wantErr: `entry "{sig}" where {doc} should be`,
			data: func(t *testing.T, p signedParts) []byte {
				return buildTar(t, []tarEntry{p.signed(p.raw, p.s, p.k.ns), regular(p.k.doc, p.raw)})
			}},
		{name: "document is a symlink", wantIs: spec.ErrCorrupt, wantErr: "type symlink refused",
			data: func(t *testing.T, p signedParts) []byte {
				return buildTar(t, []tarEntry{header(p.k.doc, tar.TypeSymlink, 0), p.signed(p.raw, p.s, p.k.ns)})
			}},
		{name: "document declares 1 TiB", wantIs: spec.ErrTooLarge, wantErr: "of 1099511627776 bytes, at most",
			data: func(t *testing.T, p signedParts) []byte {
				return buildTar(t, []tarEntry{header(p.k.doc, tar.TypeReg, 1<<40)})
			}},
		{name: "no signature", wantIs: spec.ErrUnsigned, wantErr: "{sig}",
			data: func(t *testing.T, p signedParts) []byte {
				return buildTar(t, append([]tarEntry{regular(p.k.doc, p.raw)}, p.rest...))
			}},
		{name: "signature declares 1 TiB", wantIs: spec.ErrTooLarge, wantErr: "signature: entry",
			data: func(t *testing.T, p signedParts) []byte {
				return buildTar(t, []tarEntry{regular(p.k.doc, p.raw), header(p.k.sig, tar.TypeReg, 1<<40)})
			}},
		{name: "signature not armored", wantIs: spec.ErrBadSignature, wantErr: "not an armored SSH signature",
			data: func(t *testing.T, p signedParts) []byte { return p.file(t, p.raw, regular(p.k.sig, p.raw)) }},
		{name: "signature in the other namespace", wantIs: spec.ErrBadSignature, wantErr: `namespace "{otherNS}", want "{ns}"`,
			data: func(t *testing.T, p signedParts) []byte { return p.file(t, p.raw, p.signed(p.raw, p.s, p.k.otherNS)) }},
		{name: "document changed after signing", wantIs: spec.ErrBadSignature, wantErr: "does not match",
			data: func(t *testing.T, p signedParts) []byte {
				changed := append(bytes.Clone(p.raw[:len(p.raw)-1]), ' ', '}')
				return p.file(t, changed, p.signed(p.raw, p.s, p.k.ns))
			}},
		{name: "signed by a key the document does not name", wantIs: spec.ErrBadSignature, wantErr: "but the {noun} names",
			data: func(t *testing.T, p signedParts) []byte { return p.file(t, p.raw, p.signed(p.raw, p.other, p.k.ns)) }},
		{name: "signed by an untrusted key", wantIs: spec.ErrUnknownSite,
			data: func(t *testing.T, p signedParts) []byte {
				raw, _ := p.k.document(t, p.other)
				return p.file(t, raw, p.signed(raw, p.other, p.k.ns))
			}},
		{name: "newer schemaVersion", wantIs: spec.ErrUnsupportedVersion, wantErr: "schemaVersion 2: unsupported version",
			data: func(t *testing.T, p signedParts) []byte {
				raw := bytes.Replace(p.raw, []byte(`"schemaVersion":1`), []byte(`"schemaVersion":2,"aNewField":[]`), 1)
				return p.file(t, raw, p.signed(raw, p.s, p.k.ns))
			}},
		{name: "no end-of-archive marker", wantIs: spec.ErrCorrupt, wantErr: "no end-of-archive marker",
			data: func(t *testing.T, p signedParts) []byte { g := p.good(t); return g[:len(g)-1024] }},
		{name: "truncated zstd", wantIs: spec.ErrCorrupt, zstdOnly: true,
			data: func(t *testing.T, p signedParts) []byte { c := compress(t, p.good(t)); return c[:len(c)/2] }},
		{name: "zstd window over the cap", wantIs: spec.ErrTooLarge, wantErr: "zstd:", zstdOnly: true,
			data: func(t *testing.T, p signedParts) []byte { return bigWindow(t, p.good(t)) }},
		{name: "zstd bomb in the document", wantIs: spec.ErrTooLarge, wantErr: "of 4294967296 bytes, at most", zstdOnly: true,
			data: func(t *testing.T, p signedParts) []byte { return zstdBomb(t, nil, p.k.doc, 4<<30) }},
	}
}

// TestEnvelope_Hostile runs one table of hostile signed files against
// both kinds, plain and compressed: each is refused with the sentinel and
// the words the table gives, having read at most a quarter of the input.
func TestEnvelope_Hostile(t *testing.T) {
	_, s := testKey(t, 3)
	_, other := testKey(t, 4)
	for _, k := range signedKinds() {
		raw, rest := k.document(t, s)
		p := signedParts{k: k, raw: raw, rest: rest, s: s, other: other}
		if err := k.read(bytes.NewReader(p.good(t)), s.PublicKey()); err != nil {
			t.Fatalf("%s: the good file: %v", k.name, err)
		}
		for _, c := range envelopeCases() {
			for _, z := range []string{"tar", "zstd"} {
				if c.zstdOnly && z == "tar" {
					continue
				}
				t.Run(k.name+"/"+c.name+"/"+z, func(t *testing.T) {
					data := c.data(t, p)
					if z == "zstd" && !c.zstdOnly {
						data = compress(t, data)
					}
					in := &countingReader{r: bytes.NewReader(data)}
					err := k.read(in, s.PublicKey())
					want := strings.NewReplacer("{doc}", k.doc, "{sig}", k.sig, "{ns}", k.ns, "{otherNS}", k.otherNS, "{noun}", k.noun).Replace(c.wantErr)
					if !errors.Is(err, c.wantIs) || !strings.Contains(fmt.Sprint(err), want) {
						t.Errorf("read = %v, want %v naming %q", err, c.wantIs, want)
					}
					if len(data) > 1<<20 && in.n > int64(len(data))/4 {
						t.Errorf("read %d of %d bytes, want at most a quarter", in.n, len(data))
					}
				})
			}
		}
	}
}

// TestEnvelope_ReadError: the input's own error is returned as such, not
// as a corrupt file, at the start and in the middle.
func TestEnvelope_ReadError(t *testing.T) {
	_, s := testKey(t, 3)
	usb := errors.New("usb stick removed")
	for _, k := range signedKinds() {
		raw, rest := k.document(t, s)
		data := compress(t, signedParts{k: k, raw: raw, rest: rest, s: s}.good(t))
		for _, r := range []io.Reader{iotest.ErrReader(usb), io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(usb))} {
			if err := k.read(r, s.PublicKey()); !errors.Is(err, usb) || errors.Is(err, spec.ErrCorrupt) {
				t.Errorf("%s: read = %v, want the reader's error only", k.name, err)
			}
		}
	}
}

// bigWindow compresses data in a frame whose header asks for a 128 MiB
// window, twice the decoder's cap.
func bigWindow(t *testing.T, data []byte) []byte {
	c := compress(t, data, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithSingleSegment(false))
	if c[4]&0x20 != 0 {
		t.Fatalf("frame header descriptor %#x, want no single segment (a window descriptor)", c[4])
	}
	c[5] = 17 << 3 // window log 10+17: 128 MiB
	return c
}

// zeroFrames is a zstd stream that decodes to n zero bytes (n a multiple
// of 16 MiB): one small frame, repeated.
func zeroFrames(t *testing.T, n int64) []byte {
	t.Helper()
	frame := compress(t, make([]byte, 16<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
	return bytes.Repeat(frame, int(n/(16<<20)))
}

// zstdBomb is a zstd stream of the entries before, then an entry called
// name of n zero bytes (n a multiple of 16 MiB), then the end of the
// archive: a few hundred KiB that expand to n.
func zstdBomb(t *testing.T, before []tarEntry, name string, n int64) []byte {
	t.Helper()
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	for _, e := range before {
		tw.WriteHeader(&e.hdr)
		tw.Write(e.data)
	}
	tw.Flush()
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: n, Mode: 0o644})
	out := append(compress(t, head.Bytes()), zeroFrames(t, n)...)
	return append(out, compress(t, make([]byte, 1024))...)
}
