package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// FuzzParseIndex: an index the parser accepts is exactly the canonical
// encoding of what it parsed (no two byte forms, no field lost), its
// image names all pass spec.ValidateImageName, and each entry it refused
// has a name that does not.
func FuzzParseIndex(f *testing.F) {
	_, s := testKey(f, 1)
	raw, _ := signedHeader(f, newFixture(30, 10, 20).index(), s, "ferry-bundle")
	f.Add(raw)
	f.Add([]byte(`{"schemaVersion":1}`))
	withX, _ := withExtra(newFixture(31, 10, 20), "ferry-linux-amd64", true)
	raw, _ = signedHeader(f, withX, s, "ferry-bundle")
	f.Add(raw)
	withD, _ := withDelta(newFixture(33, 10, 20))
	raw, _ = signedHeader(f, withD, s, "ferry-bundle")
	f.Add(raw)
	unknown := newFixture(32, 10, 20).index()
	unknown.Blobs[1].Kind, unknown.Blobs[1].Unknown = "stripe", json.RawMessage(`{"parts":[1,2],"volume":"a"}`)
	raw, _ = signedHeader(f, unknown, s, "ferry-bundle")
	f.Add(raw)
	_, set := newFixtureData(33, randomBytes(1, 300), randomBytes(2, 300_000)).writeSet(f, s, SetOptions{Size: 200_000})
	raw, _ = Canonical(set)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ParseIndex(data)
		if err != nil {
			return
		}
		for _, im := range ix.Images {
			if err := spec.ValidateImageName(im.Name); err != nil {
				t.Fatalf("ParseIndex kept an image named %q: %v", im.Name, err)
			}
		}
		for _, im := range ix.Refused {
			if im.Err == nil || spec.ValidateImageName(im.Name) == nil {
				t.Fatalf("ParseIndex refused image %q (%v), whose name is valid", im.Name, im.Err)
			}
		}
		if len(ix.Refused) > 0 {
			return
		}
		again, err := Canonical(ix)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("Canonical(ParseIndex(data)) = %q, %v; want data itself", again, err)
		}
	})
}

// FuzzReader: whatever the stream, the reader never hands out an entry
// whose bytes are not what the signed index lists: every entry read to
// its end without error hashes to the listed digest and size, no name
// comes twice, and the index it accepted re-encodes to the bytes it read.
func FuzzReader(f *testing.F) {
	_, s := testKey(f, 1)
	fx := newFixture(31, 10, 300)
	f.Add(fx.write(f, s, WriterOptions{Compression: CompressionNone}))
	f.Add(fx.write(f, s, WriterOptions{}))
	f.Add(newFixture(36, 70<<10, 10).write(f, s, WriterOptions{Compression: CompressionNone})) // a blob Discard hashes on a goroutine
	dx := newFixture(34, 10, 300)
	ix, data := withDelta(dx)
	withD, err := writeDelta(dx, ix, data, s, WriterOptions{Compression: CompressionNone})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(withD)
	vols, _ := newFixtureData(32, randomBytes(1, 300), randomBytes(2, 300_000)).writeSet(f, s, SetOptions{Size: 200_000})
	f.Add(vols[0]) // a volume of a set: a part of a chunked blob, a manifest every volume carries
	anyKey := func(*Index, ssh.PublicKey) error { return nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []ReaderOptions{{Trust: anyKey}, {InsecureSkipSignature: true}} {
			readFuzz(t, data, opts)
			discardFuzz(t, data, opts)
		}
	})
}

// fuzzReadBudget bounds the bytes one fuzz input may make the reader
// yield, so that an input that decompresses without end costs bounded
// time however busy the machine (the fuzzing engine calls an input that
// runs for ten seconds a hang).
const fuzzReadBudget = 64 << 20

// discardFuzz: entries hashed with Discard are judged as entries read in
// turn, fault for fault (when the index lists no more bytes than the fuzz
// budget: Discard reads each entry whole).
func discardFuzz(t *testing.T, data []byte, opts ReaderOptions) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return
	}
	var listed int64
	for _, b := range r.Index().Shipped() {
		listed += b.Size
	}
	r.Close()
	if listed > fuzzReadBudget/2 {
		return
	}
	want, wantFatal := copyAll(t, data, opts)
	got, fatal := discardAll(t, data, opts, true)
	if !slices.Equal(got, want) || (fatal == nil) != (wantFatal == nil) {
		t.Fatalf("with Discard: %q, fatal %v\nread in turn: %q, fatal %v", got, fatal, want, wantFatal)
	}
}

// readFuzz reads every entry of data as a caller would and checks what
// it is given.
func readFuzz(t *testing.T, data []byte, opts ReaderOptions) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return
	}
	defer r.Close()
	ix := r.Index()
	if again, err := Canonical(ix); len(ix.Refused) == 0 && (err != nil || !bytes.Equal(again, r.RawIndex())) {
		t.Fatalf("the accepted index re-encodes to %q, %v; want the bytes read, %q", again, err, r.RawIndex())
	}
	seen := map[string]bool{}
	var budget int64 = fuzzReadBudget
	for budget > 0 {
		e, err := r.Next()
		var ee *EntryError
		if errors.As(err, &ee) {
			io.Copy(io.Discard, r)
			continue
		}
		if err != nil {
			r.Missing()
			return
		}
		if seen[e.Name] {
			t.Fatalf("entry %s handed out twice", e.Name)
		}
		seen[e.Name] = true
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(r, budget))
		budget -= n
		if err == nil && budget > 0 && (n != e.Size || digest.NewDigest(digest.SHA256, h) != e.Digest) {
			t.Fatalf("entry %s read whole without error: %d bytes hashing to %s, the index lists %d bytes, %s",
				e.Name, n, digest.NewDigest(digest.SHA256, h), e.Size, e.Digest)
		}
	}
}
