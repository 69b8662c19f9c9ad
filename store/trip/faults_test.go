package trip

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
)

// TestLoad_WhatAFaultCosts holds DESIGN.md's "What a fault costs" against
// Load and Verify, at their own level, on typed results (the CLI's tests
// check how they are printed): a bad signature or index writes nothing
// and is an error wrapping its sentinel; a damaged entry costs only its
// blob (every other blob is verified and kept), an image is recorded
// only with all its blobs, the report names the damaged blob and the
// image left out and its Err wraps spec.ErrIncomplete, and the receipt
// the site then makes states every blob but the lost ones, so the sender
// sends exactly those again.
func TestLoad_WhatAFaultCosts(t *testing.T) {
	s := signer(t, 1)
	b := newBlobSet()
	v1, v2 := b.image("v1", nil), b.image("v2", nil)
	lost := digest.FromString("v1 layer 1") // the first layer of v1
	for _, tc := range []struct {
		name   string
		mutate func(es []tarEntry) []tarEntry
		// whole is the sentinel of a fault that costs the whole bundle;
		// else fault is what one fault of the report names (an entry's
		// digest or name) and images what Load records.
		whole  error
		fault  string
		images []string
		lost   bool // the report says v1 lacks lost
	}{
		{name: "none", images: []string{"v1", "v2"}},
		{name: "flipped byte", fault: string(lost), images: []string{"v2"}, lost: true,
			mutate: func(es []tarEntry) []tarEntry {
				e := &es[entryOf(t, es, lost)]
				e.data = bytes.Clone(e.data)
				e.data[len(e.data)/2] ^= 0xff
				return es
			}},
		{name: "missing entry", fault: spec.BlobPrefix + lost.Encoded(), images: []string{"v2"}, lost: true,
			mutate: func(es []tarEntry) []tarEntry { return slices.Delete(es, entryOf(t, es, lost), entryOf(t, es, lost)+1) }},
		{name: "symlink in its place", fault: string(lost), images: []string{"v2"}, lost: true,
			mutate: func(es []tarEntry) []tarEntry {
				i := entryOf(t, es, lost)
				es[i] = tarEntry{tar.Header{Name: es[i].hdr.Name, Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}, nil}
				return es
			}},
		{name: "extra entry", fault: string(digest.FromString("not listed")), images: []string{"v1", "v2"},
			mutate: func(es []tarEntry) []tarEntry {
				return append(es, fileEntry(spec.BlobPrefix+digest.FromString("not listed").Encoded(), []byte("not listed")))
			}},
		{name: "duplicate entry", fault: string(lost), images: []string{"v1", "v2"},
			mutate: func(es []tarEntry) []tarEntry { return append(es, es[entryOf(t, es, lost)]) }},
		{name: "dot-dot name", fault: "../", images: []string{"v1", "v2"},
			mutate: func(es []tarEntry) []tarEntry {
				return append(es, fileEntry(spec.BlobPrefix+"../../../../x", []byte("x")))
			}},
		{name: "modified index", whole: spec.ErrBadSignature,
			mutate: func(es []tarEntry) []tarEntry {
				es[0].data = bytes.Replace(es[0].data, []byte(`"v1"`), []byte(`"v9"`), 1)
				return es
			}},
		{name: "no signature", whole: spec.ErrUnsigned,
			mutate: func(es []tarEntry) []tarEntry { return slices.Delete(es, 1, 2) }},
		{name: "index over the cap", whole: spec.ErrTooLarge,
			mutate: func(es []tarEntry) []tarEntry {
				return []tarEntry{fileEntry(spec.IndexEntry, make([]byte, spec.MaxIndexSize+1))}
			}},
		{name: "not a bundle", whole: spec.ErrCorrupt,
			mutate: func(es []tarEntry) []tarEntry { return []tarEntry{fileEntry("README", []byte("hello"))} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := b.bundleIndex(map[string]ocispec.Descriptor{"v1": v1, "v2": v2})
			ix.SchemaVersion, ix.MediaType, ix.ID = spec.BundleSchemaVersion, spec.IndexMediaType, "0123456789abcdef0123456789abcdef"
			format.Order(ix.Blobs)
			es := b.entries(t, ix, s)
			if tc.mutate != nil {
				es = tc.mutate(es)
			}
			path := writeTar(t, filepath.Join(t.TempDir(), "trip.ferry"), es)
			h := siteHome(t, s)
			check := CheckOptions{Trust: TrustCatalog(h.Catalog)}
			verified, verr := Verify(context.Background(), path, check, Admission{}, h)
			loaded, lerr := Load(context.Background(), h, path, LoadOptions{CheckOptions: check})
			if tc.whole != nil {
				for what, err := range map[string]error{"Verify": verr, "Load": lerr} {
					if !errors.Is(err, tc.whole) {
						t.Errorf("%s = %v, want an error wrapping %v", what, err, tc.whole)
					}
				}
				if n := storeBlobs(t, h.Store); n != 0 || len(recorded(t, h)) != 0 {
					t.Errorf("a refused bundle left %d blobs and images %v", n, recorded(t, h))
				}
				return
			}
			if verr != nil || lerr != nil {
				t.Fatalf("Verify, Load = %v, %v; want reports", verr, lerr)
			}
			if got := recorded(t, h); !slices.Equal(got, tc.images) {
				t.Errorf("recorded %v, want %v", got, tc.images)
			}
			for name, rep := range map[string]*Report{"Verify": verified, "Load": loaded} {
				if (tc.fault == "") != rep.OK() || (tc.fault != "") != errors.Is(rep.Err(), spec.ErrIncomplete) {
					t.Errorf("%s: OK %v, Err %v; want a fault: %v", name, rep.OK(), rep.Err(), tc.fault != "")
				}
				if tc.fault != "" && !slices.ContainsFunc(rep.Faults, func(f Fault) bool {
					return string(f.Digest) == tc.fault || strings.Contains(f.Entry, tc.fault)
				}) {
					t.Errorf("%s: faults %+v, none names %s", name, rep.Faults, tc.fault)
				}
				if st := rep.Images[0]; st.Name != "v1" || st.OK == tc.lost || tc.lost != slices.Equal(st.Lacking, []digest.Digest{lost}) {
					t.Errorf("%s: v1 is %+v, want it to lack %s: %v", name, st, lost, tc.lost)
				}
			}
			if held := storeBlobs(t, h.Store); held != len(ix.Blobs)-boolInt(tc.lost) {
				t.Errorf("the store holds %d blobs, want every one of %d but the lost", held, len(ix.Blobs))
			}
			rc, err := CreateReceipt(context.Background(), h, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if says := slices.ContainsFunc(rc.Blobs, func(r format.ReceiptBlob) bool { return r.Digest == lost }); says == tc.lost || len(rc.Blobs) != len(ix.Blobs)-boolInt(tc.lost) {
				t.Errorf("the receipt states %d blobs (the lost one: %v), want %d without it", len(rc.Blobs), says, len(ix.Blobs)-boolInt(tc.lost))
			}
			mustCheck(t, h)
		})
	}
}

// entryOf is the index in es of the entry of blob d.
func entryOf(t *testing.T, es []tarEntry, d digest.Digest) int {
	t.Helper()
	i := slices.IndexFunc(es, func(e tarEntry) bool { return e.hdr.Name == spec.BlobPrefix+d.Encoded() })
	if i < 0 {
		t.Fatalf("no entry for %s", d)
	}
	return i
}

func storeBlobs(t *testing.T, h interface {
	Walk(func(digest.Digest, int64) error) error
}) int {
	t.Helper()
	n := 0
	if err := h.Walk(func(digest.Digest, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
