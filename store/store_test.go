package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func TestOpenBlobs_Layout(t *testing.T) {
	b := newStore(t)
	layout, _ := os.ReadFile(filepath.Join(b.Dir(), "oci-layout"))
	if string(layout) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", layout)
	}
	index, _ := os.ReadFile(filepath.Join(b.Dir(), "index.json"))
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
	if string(index) != want {
		t.Errorf("index.json = %s, want %s", index, want)
	}
}

func TestOpenBlobs_RemovesTemps(t *testing.T) {
	dir := t.TempDir()
	layout, tmp := filepath.Join(dir, "store"), filepath.Join(dir, "tmp")
	if _, err := Open(layout, tmp); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ferry-ingest-123", "ferry-layout-9", "not-ours"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(layout, tmp); err != nil {
		t.Fatalf("OpenBlobs = %v", err)
	}
	if got := dirEntries(t, tmp); !slices.Equal(got, []string{"not-ours"}) {
		t.Errorf("tmp after OpenBlobs = %v, want [not-ours]", got)
	}
}

func TestStore_Fetch(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(5, 100)
	desc := descOf("", data)
	if _, err := b.Fetch(context.Background(), desc); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Fetch(missing) = %v, want ErrNotFound", err)
	}
	ingest(t, b, desc, data)
	rc, err := b.Fetch(context.Background(), desc)
	if err != nil {
		t.Fatalf("Fetch = %v", err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if string(got) != string(data) {
		t.Errorf("Fetch returned other bytes")
	}
	if _, err := b.Fetch(context.Background(), ocispec.Descriptor{Digest: "sha256:../../x"}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("Fetch(bad digest) = %v, want ErrBadInput", err)
	}
}

func TestStore_Exists(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(6, 100)
	desc := descOf("", data)
	ingest(t, b, desc, data)
	tests := []struct {
		name string
		desc ocispec.Descriptor
		want bool
	}{
		{"present", desc, true},
		{"other size", ocispec.Descriptor{Digest: desc.Digest, Size: 99}, false},
		{"absent", descOf("", []byte("x")), false},
	}
	for _, tt := range tests {
		if got, err := b.Exists(context.Background(), tt.desc); got != tt.want || err != nil {
			t.Errorf("Exists(%s) = %v, %v, want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestStore_Verify(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(7, 5000)
	desc := descOf("", data)
	ingest(t, b, desc, data)
	if err := b.Verify(desc.Digest); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	flipByte(t, b, desc.Digest, 4000)
	var verr *spec.VerifyError
	if err := b.Verify(desc.Digest); !errors.As(err, &verr) || !errors.Is(err, spec.ErrDigestMismatch) {
		t.Errorf("Verify(flipped) = %v, want *spec.VerifyError digest mismatch", err)
	}
}

// flipByte damages a stored blob as a failing disk would.
func flipByte(t testing.TB, b *Store, d digest.Digest, off int64) {
	t.Helper()
	p, _ := b.path(d)
	os.Chmod(p, 0o644)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	one := make([]byte, 1)
	f.ReadAt(one, off)
	one[0] ^= 0x40
	if _, err := f.WriteAt(one, off); err != nil {
		t.Fatal(err)
	}
}

func TestStore_WalkStatDelete(t *testing.T) {
	b := newStore(t)
	var want []digest.Digest
	for i := range 3 {
		data := runtimetest.RandomBytes(uint64(10+i), 10+i)
		ingest(t, b, descOf("", data), data)
		want = append(want, digest.FromBytes(data))
	}
	slices.Sort(want)
	os.WriteFile(filepath.Join(b.shaDir(), "README"), nil, 0o644)
	os.WriteFile(filepath.Join(b.shaDir(), string(want[0].Encoded()[:10])), nil, 0o644)
	var got []digest.Digest
	b.Walk(func(d digest.Digest, size int64) error {
		if s, err := b.Stat(d); err != nil || s != size {
			t.Errorf("Stat(%s) = %d, %v; Walk said %d", d, s, err, size)
		}
		got = append(got, d)
		return nil
	})
	if !slices.Equal(got, want) {
		t.Errorf("Walk = %v, want %v", got, want)
	}
	for _, d := range []digest.Digest{want[1], want[1]} { // twice: idempotent
		if err := b.Delete(d); err != nil {
			t.Errorf("Delete(%s) = %v", d, err)
		}
	}
	if _, err := b.Stat(want[1]); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Stat(deleted) = %v, want ErrNotFound", err)
	}
}
