package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// TestBatch_Ingest: a batch takes many blobs, tells of each once it has
// its name, and after Flush every good one is in the store, read-only,
// verified; a bad one is refused at once and leaves nothing; the tmp
// directory is empty.
func TestBatch_Ingest(t *testing.T) {
	b := newStore(t)
	var mu sync.Mutex
	named := map[digest.Digest]error{}
	bt := b.NewBatch(func(d digest.Digest, err error) {
		mu.Lock()
		named[d] = err
		mu.Unlock()
	})
	var want []digest.Digest
	for i := range 30 {
		data := bytes.Repeat([]byte{byte(i)}, 1000+i)
		d := digest.FromBytes(data)
		got, err := bt.Ingest(context.Background(), ocispec.Descriptor{Digest: d, Size: int64(len(data))}, bytes.NewReader(data))
		if err != nil || got != Stored {
			t.Fatalf("Ingest %d = %v, %v", i, got, err)
		}
		want = append(want, d)
	}
	bad := digest.FromString("not these bytes")
	var ve *spec.VerifyError
	if _, err := bt.Ingest(context.Background(), ocispec.Descriptor{Digest: bad, Size: 3}, bytes.NewReader([]byte("abc"))); !errors.As(err, &ve) {
		t.Errorf("Ingest of bad bytes = %v, want a *spec.VerifyError", err)
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, d := range want {
		if err, ok := named[d]; !ok || err != nil {
			t.Errorf("blob %s: told %v, %v", d, ok, err)
		}
		p, _ := b.path(d)
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("blob %s: %v, mode %v", d, err, fi)
		}
		if err := b.Verify(d); err != nil {
			t.Errorf("Verify(%s) = %v", d, err)
		}
	}
	if _, err := b.Stat(bad); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("the bad blob: Stat = %v, want ErrNotFound", err)
	}
	if _, ok := named[bad]; ok {
		t.Errorf("the bad blob was told as named")
	}
	if names := dirEntries(t, b.tmp); len(names) != 0 {
		t.Errorf("tmp holds %v after Flush", names)
	}
}

// followLog is a Follower that checks, as it hears of a blob's bytes,
// that they are in the temporary file already, and keeps what it heard.
type followLog struct {
	t      *testing.T
	data   []byte
	file   *os.File
	wrote  []int64
	ended  bool
	endErr error
}

func (f *followLog) Begin(_ digest.Digest, file *os.File) { f.file = file }

func (f *followLog) Wrote(_ digest.Digest, n int64) {
	f.wrote = append(f.wrote, n)
	got := make([]byte, n)
	if _, err := f.file.ReadAt(got, 0); err != nil || !bytes.Equal(got, f.data[:n]) {
		f.t.Errorf("told of %d bytes written, the file holds others (%v)", n, err)
	}
}

func (f *followLog) End(_ digest.Digest, err error) { f.ended, f.endErr = true, err }

// TestBatch_Follow: a Follower hears of a new blob's bytes as they are
// written, in its temporary file, and of their verdict: verified before
// the blob is named, or bad.
func TestBatch_Follow(t *testing.T) {
	b := newStore(t)
	data := bytes.Repeat([]byte("followed "), 300000) // several writes
	d := digest.FromBytes(data)
	fl := &followLog{t: t, data: data}
	bt := b.NewBatch(nil)
	bt.Follow(fl)
	if _, err := bt.Ingest(context.Background(), ocispec.Descriptor{Digest: d, Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := bt.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(fl.wrote) < 2 || fl.wrote[len(fl.wrote)-1] != int64(len(data)) {
		t.Errorf("told of writes %v, want several up to %d", fl.wrote, len(data))
	}
	if !fl.ended || fl.endErr != nil {
		t.Errorf("End heard = %v, %v; want the bytes verified", fl.ended, fl.endErr)
	}

	other := bytes.Repeat([]byte("not these "), 300000)
	fl = &followLog{t: t, data: other}
	bt.Follow(fl)
	claimed := digest.FromString("another blob")
	if _, err := bt.Ingest(context.Background(), ocispec.Descriptor{Digest: claimed, Size: int64(len(other))}, bytes.NewReader(other)); err == nil {
		t.Fatal("Ingest of other bytes succeeded")
	}
	var ve *spec.VerifyError
	if !fl.ended || !errors.As(fl.endErr, &ve) {
		t.Errorf("End heard = %v, %v; want a VerifyError", fl.ended, fl.endErr)
	}
}

// selfWriter is a reader that verifies itself and writes its chunks out
// from its own buffers, as a bundle's entry read ahead does; after the
// chunks it returns end. Read is never to be used.
type selfWriter struct {
	chunks [][]byte
	end    error
	after  func(i int) // called after chunk i is written
}

func (s *selfWriter) Read([]byte) (int, error) {
	return 0, errors.New("Read used: the copy was not bypassed")
}
func (s *selfWriter) Promise() (digest.Digest, int64) { return "", 0 }
func (s *selfWriter) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for i, c := range s.chunks {
		m, err := w.Write(c)
		n += int64(m)
		if err != nil {
			return n, err
		}
		if s.after != nil {
			s.after(i)
		}
	}
	return n, s.end
}

var _ spec.SelfVerifying = (*selfWriter)(nil)

// TestCopyOut_WritesFromTheSource: a self-verifying source that writes
// from its own buffers does so (no copy into the caller's buffer), its
// verdict is the copy's, and a cancelled context stops it at the next
// write.
func TestCopyOut_WritesFromTheSource(t *testing.T) {
	ctx := context.Background()
	var got bytes.Buffer
	src := &selfWriter{chunks: [][]byte{[]byte("abc"), []byte("def")}}
	if err := copyOut(ctx, &got, src, make([]byte, 8)); err != nil || got.String() != "abcdef" {
		t.Fatalf("copyOut = %v, wrote %q; want nil, \"abcdef\"", err, got.String())
	}
	bad := &spec.VerifyError{Want: "sha256:00", WantSize: 6}
	if err := copyOut(ctx, io.Discard, &selfWriter{chunks: src.chunks, end: bad}, nil); !errors.Is(err, bad) {
		t.Errorf("copyOut of bad bytes = %v, want the source's %v", err, bad)
	}
	ctx, cancel := context.WithCancel(ctx)
	got.Reset()
	src.after = func(int) { cancel() }
	if err := copyOut(ctx, &got, src, nil); !errors.Is(err, context.Canceled) || got.String() != "abc" {
		t.Errorf("copyOut cancelled after a chunk = %v, wrote %q; want context.Canceled after \"abc\"", err, got.String())
	}
}
