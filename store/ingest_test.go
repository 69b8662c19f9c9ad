package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

func newStore(t testing.TB) *Store {
	t.Helper()
	dir := t.TempDir()
	b, err := Open(filepath.Join(dir, "store"), filepath.Join(dir, "tmp"))
	if err != nil {
		t.Fatalf("OpenBlobs = %v", err)
	}
	return b
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestStore_Ingest(t *testing.T) {
	data := runtimetest.RandomBytes(1, 3<<20+17)
	good := descOf("application/octet-stream", data)
	tests := []struct {
		name     string
		desc     ocispec.Descriptor
		data     []byte
		wantErr  error
		maxRead  int64 // the reader may yield at most this many bytes
		wantBlob bool
	}{
		{"good", good, data, nil, good.Size + 1, true},
		{"empty", descOf("", nil), nil, nil, 1, true},
		{"bad digest", ocispec.Descriptor{Digest: digest.FromString("other"), Size: good.Size}, data, spec.ErrDigestMismatch, good.Size + 1, false},
		{"short", good, data[:len(data)-1], spec.ErrSizeMismatch, good.Size, false},
		{"long", good, append(bytes.Clone(data), make([]byte, 5<<20)...), spec.ErrSizeMismatch, good.Size + 1, false},
		{"negative size", ocispec.Descriptor{Digest: good.Digest, Size: -1}, data, spec.ErrBadInput, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newStore(t)
			cr := &countingReader{r: bytes.NewReader(tt.data)}
			_, err := b.Ingest(context.Background(), tt.desc, cr)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Ingest = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), string(tt.desc.Digest)) {
				t.Errorf("Ingest error %q does not name the digest", err)
			}
			var verr *spec.VerifyError
			if errors.Is(tt.wantErr, spec.ErrDigestMismatch) && !errors.As(err, &verr) {
				t.Errorf("Ingest error %v does not wrap *spec.VerifyError", err)
			}
			if cr.n > tt.maxRead {
				t.Errorf("Ingest read %d bytes, want at most %d", cr.n, tt.maxRead)
			}
			if ok, _ := b.Exists(context.Background(), tt.desc); ok != tt.wantBlob {
				t.Errorf("Exists = %v, want %v", ok, tt.wantBlob)
			}
			if names := dirEntries(t, b.tmp); len(names) != 0 {
				t.Errorf("tmp holds %v after Ingest", names)
			}
			if !tt.wantBlob {
				if names := dirEntries(t, b.shaDir()); len(names) != 0 {
					t.Errorf("blobs/sha256 holds %v after a failed Ingest", names)
				}
				return
			}
			p, _ := b.path(tt.desc.Digest)
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o444 {
				t.Errorf("blob file: %v, mode %v; want 0444", err, fi.Mode())
			}
		})
	}
}

func TestStore_IngestInvalidDigest(t *testing.T) {
	for _, d := range []digest.Digest{
		"sha256:../../x",
		"sha256:" + digest.Digest(strings.ToUpper(digest.FromString("a").Encoded())),
		"sha512:" + digest.Digest(strings.Repeat("ab", 64)),
		"sha384:" + digest.Digest(strings.Repeat("ab", 48)),
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"",
		"../../etc/passwd",
	} {
		t.Run(string(d), func(t *testing.T) {
			b := newStore(t)
			cr := &countingReader{r: strings.NewReader("a")}
			_, err := b.Ingest(context.Background(), ocispec.Descriptor{Digest: d, Size: 1}, cr)
			if !errors.Is(err, spec.ErrBadInput) {
				t.Errorf("Ingest(%q) = %v, want ErrBadInput", d, err)
			}
			if cr.n != 0 {
				t.Errorf("Ingest(%q) read %d bytes before refusing", d, cr.n)
			}
			if names := dirEntries(t, b.shaDir()); len(names) != 0 {
				t.Errorf("blobs/sha256 holds %v", names)
			}
		})
	}
}

func TestStore_IngestExisting(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(2, 1000)
	desc := descOf("", data)
	ingest(t, b, desc, data)
	p, _ := b.path(desc.Digest)
	before, _ := os.Stat(p)

	bad := bytes.Clone(data)
	bad[10] ^= 1
	cr := &countingReader{r: bytes.NewReader(bad)}
	if _, err := b.Ingest(context.Background(), desc, cr); !errors.Is(err, spec.ErrDigestMismatch) {
		t.Errorf("Ingest(existing, bad bytes) = %v, want ErrDigestMismatch", err)
	}
	if cr.n != desc.Size {
		t.Errorf("Ingest(existing) read %d bytes, want all %d", cr.n, desc.Size)
	}
	if _, err := b.Ingest(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Errorf("Ingest(existing, good bytes) = %v", err)
	}
	after, _ := os.Stat(p)
	if !os.SameFile(before, after) {
		t.Errorf("Ingest replaced the existing file")
	}
	if err := b.Verify(desc.Digest); err != nil {
		t.Errorf("Verify = %v", err)
	}
}

func TestStore_IngestConcurrent(t *testing.T) {
	b := newStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		data := runtimetest.RandomBytes(uint64(i%4), 256<<10) // 4 digests, 8 writers each
		wg.Go(func() { _, err := b.Ingest(context.Background(), descOf("", data), bytes.NewReader(data)); errs <- err })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Ingest = %v", err)
		}
	}
	if names := dirEntries(t, b.shaDir()); len(names) != 4 {
		t.Errorf("blobs/sha256 holds %d files, want 4", len(names))
	}
}

// cancelReader cancels ctx after its first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	defer c.cancel()
	return c.r.Read(p)
}

func TestStore_IngestCancelled(t *testing.T) {
	b := newStore(t)
	data := runtimetest.RandomBytes(3, 4<<20)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := b.Ingest(ctx, descOf("", data), &cancelReader{r: bytes.NewReader(data), cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ingest = %v, want context.Canceled", err)
	}
	if names := dirEntries(t, b.tmp); len(names) != 0 {
		t.Errorf("tmp holds %v", names)
	}
	if names := dirEntries(t, b.shaDir()); len(names) != 0 {
		t.Errorf("blobs/sha256 holds %v", names)
	}
}

func BenchmarkBlobs_Ingest(b *testing.B) {
	s := newStore(b)
	data := runtimetest.RandomBytes(4, 64<<20)
	desc := descOf("", data)
	b.SetBytes(desc.Size)
	for b.Loop() {
		if _, err := s.Ingest(context.Background(), desc, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Delete(desc.Digest)
		b.StartTimer()
	}
}

func BenchmarkBlobs_IngestExisting(b *testing.B) {
	s := newStore(b)
	data := runtimetest.RandomBytes(4, 64<<20)
	desc := descOf("", data)
	ingest(b, s, desc, data)
	b.SetBytes(desc.Size)
	for b.Loop() {
		if _, err := s.Ingest(context.Background(), desc, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
