package format

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// TestNewReader_Signature: every way a header can fail, and what it wraps.
func TestNewReader_Signature(t *testing.T) {
	_, s := testKey(t, 1)
	_, other := testKey(t, 9)
	f := newFixture(8, 10, 20)
	good := func() []byte { return f.write(t, s, WriterOptions{Compression: CompressionNone}) }
	header := func(signer ssh.Signer, ns string, edit func(raw []byte)) []byte {
		raw, entries := signedHeader(t, f.index(), signer, ns)
		if edit != nil {
			edit(raw)
		}
		return buildTar(t, append(entries, f.bodyEntries()...))
	}
	tests := []struct {
		name    string
		data    []byte
		opts    ReaderOptions
		wantIs  error
		wantErr string
	}{
		{"other key, not trusted", f.write(t, other, WriterOptions{}), ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrUnknownSite, "signature: site hq: key"},
		{"index byte modified", header(s, spec.SignatureNamespace, func(raw []byte) { raw[bytes.Index(raw, []byte("plant-7"))] = 'P' }), ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrBadSignature, "signature: bad signature: signature by SHA256:"},
		{"wrong namespace", header(s, spec.ReceiptNamespace, nil), ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrBadSignature, `namespace "ferry-receipt"`},
		{"missing signature", buildTar(t, append([]tarEntry{regular(spec.IndexEntry, mustCanonicalIndex(t, f, s))}, f.bodyEntries()...)), ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrUnsigned, "signature: no ferry-index.json.sig entry"},
		{"index names another key", signedBy(t, f, s, other), ReaderOptions{Trust: trustKey(other.PublicKey())}, spec.ErrBadSignature, "signature: made by key " + Fingerprint(other.PublicKey())},
		{"no trust function", good(), ReaderOptions{}, spec.ErrBadInput, "Trust is required"},
		{"empty stream", nil, ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrCorrupt, "not a ferry bundle (no ferry-index.json entry first): bundle: empty stream"},
		{"not a bundle", []byte("hello world, this is not a tar stream at all"), ReaderOptions{Trust: trustKey(s.PublicKey())}, spec.ErrCorrupt, "bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), tt.opts)
			if err == nil {
				r.Close()
			}
			if !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewReader = %v, want %v with %q", err, tt.wantIs, tt.wantErr)
			}
		})
	}
}

// mustCanonicalIndex returns the fixture's completed index bytes.
func mustCanonicalIndex(t *testing.T, f *fixture, s ssh.Signer) []byte {
	raw, err := completeIndex(f.index(), s, testTime)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signedBy makes a bundle whose index names key named but is signed by
// signer.
func signedBy(t *testing.T, f *fixture, named, signer ssh.Signer) []byte {
	raw := mustCanonicalIndex(t, f, named)
	sig, err := Sign(signer, spec.SignatureNamespace, raw)
	if err != nil {
		t.Fatal(err)
	}
	return buildTar(t, append([]tarEntry{regular(spec.IndexEntry, raw), regular(spec.SignatureEntry, sig)}, f.bodyEntries()...))
}

func TestNewReader_InsecureSkipSignature(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixture(9, 10, 20)
	unsigned := buildTar(t, append([]tarEntry{regular(spec.IndexEntry, mustCanonicalIndex(t, f, s))}, f.bodyEntries()...))
	signedByOther := signedBy(t, f, s, mustKey(t, 5))
	for name, data := range map[string][]byte{"unsigned": unsigned, "bad signature": signedByOther} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(data), ReaderOptions{InsecureSkipSignature: true})
			if err != nil {
				t.Fatalf("NewReader = %v", err)
			}
			defer r.Close()
			if r.Key() != nil {
				t.Errorf("Key = %v, want nil", r.Key())
			}
			res := drain(r)
			if res.fatal != nil || len(res.errs) > 0 || len(res.missing) > 0 || len(res.good) != 4 {
				t.Errorf("drain: fatal %v, errs %v, missing %v, %d good", res.fatal, res.errs, res.missing, len(res.good))
			}
		})
	}
}

func mustKey(t *testing.T, seed byte) ssh.Signer {
	_, s := testKey(t, seed)
	return s
}
