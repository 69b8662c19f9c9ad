package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"golang.org/x/crypto/ssh"
)

func FuzzParseIndex(f *testing.F) {
	_, s := testKey(f, 1)
	raw, _ := signedHeader(f, newFixture(30, 10, 20).index(), s, "ferry-bundle")
	f.Add(raw)
	f.Add([]byte(`{"schemaVersion":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ParseIndex(data)
		if err != nil {
			return
		}
		again, err := Canonical(ix)
		if err != nil {
			t.Fatalf("Canonical(parsed) = %v", err)
		}
		if _, err := ParseIndex(again); err != nil {
			t.Fatalf("ParseIndex(Canonical(parsed)) = %v", err)
		}
	})
}

func FuzzReader(f *testing.F) {
	_, s := testKey(f, 1)
	fx := newFixture(31, 10, 300)
	f.Add(fx.write(f, s, WriterOptions{Compression: CompressionNone}))
	f.Add(fx.write(f, s, WriterOptions{}))
	anyKey := func(*Index, ssh.PublicKey) error { return nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []ReaderOptions{{Trust: anyKey}, {InsecureSkipSignature: true}} {
			readFuzz(data, opts)
		}
	})
}

// readFuzz reads every entry of data as a caller would; it only must not
// panic or hang.
func readFuzz(data []byte, opts ReaderOptions) {
	r, err := NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return
	}
	defer r.Close()
	for {
		_, err := r.Next()
		var ee *EntryError
		if errors.As(err, &ee) {
			io.Copy(io.Discard, r)
			continue
		}
		if err != nil {
			r.Missing()
			return
		}
		io.Copy(io.Discard, r)
	}
}
