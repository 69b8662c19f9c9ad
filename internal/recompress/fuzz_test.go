package recompress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// FuzzRecipe: a recipe from a bundle's index is untrusted. Check refuses
// it with a typed error, or NewWriter follows it without failing.
func FuzzRecipe(f *testing.F) {
	for _, r := range []spec.Recipe{
		{Compression: "gzip", Encoder: GoFlate, Level: 6, Header: "1f8b08000000000000ff"},
		{Compression: "gzip", Encoder: Klauspost118, Level: 5, BlockSize: 1 << 20, Header: "1f8b080c0000000000ff0200414200"},
		{Compression: "zstd", Encoder: KlauspostZstd, Level: 2, WindowSize: 8 << 20, Checksum: true},
		{Compression: "none"},
	} {
		b, _ := json.Marshal(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r spec.Recipe
		if json.Unmarshal(data, &r) != nil {
			return
		}
		if err := Check(r); err != nil {
			if !errors.Is(err, spec.ErrCorrupt) && !errors.Is(err, spec.ErrCannotReproduce) {
				t.Fatalf("Check(%+v) = %v: not a typed error", r, err)
			}
			return
		}
		w, err := NewWriter(io.Discard, r)
		if err != nil {
			t.Fatalf("NewWriter(%+v) after Check = %v", r, err)
		}
		w.Write([]byte("some layer bytes"))
		if err := w.Close(); err != nil {
			t.Fatalf("Close(%+v) = %v", r, err)
		}
	})
}

// FuzzFind: a blob from a source is untrusted; Find never panics and
// returns only recipes that reproduce it.
func FuzzFind(f *testing.F) {
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("\x28\xb5\x2f\xfd\x04\x58\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		r, err := Find(context.Background(), bytes.NewReader(blob), int64(len(blob)), FindOptions{})
		if err != nil || r.Compression == spec.CompressionNone {
			return
		}
		raw, _, err := Open(bytes.NewReader(blob))
		if err != nil {
			t.Fatalf("Find found %+v for a blob Open refuses: %v", r, err)
		}
		var out bytes.Buffer
		w, _ := NewWriter(&out, r)
		io.Copy(w, raw)
		w.Close()
		if !bytes.Equal(out.Bytes(), blob) {
			t.Fatalf("recipe %+v does not reproduce the blob", r)
		}
	})
}
