package trip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// fileStore serves blobs from files named by their digest's hex.
type fileStore string

func (s fileStore) Fetch(_ context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(string(s), d.Digest.Encoded()))
	if errors.Is(err, os.ErrNotExist) {
		return nil, spec.ErrNotFound
	}
	return f, err
}

// following is a shipped blob being written as a load writes it: into a
// temporary file, told to arrivals as store.Batch tells its Follower.
type following struct {
	t    *testing.T
	a    *arrivals
	d    digest.Digest
	data []byte
	tmp  *os.File
	n    int
}

func follow(t *testing.T, data []byte) (*following, fileStore) {
	t.Helper()
	dir := t.TempDir()
	d := digest.FromBytes(data)
	ix := &format.Index{Blobs: []format.Blob{{Digest: d, Size: int64(len(data)), Status: spec.StatusShipped, Kind: spec.KindBlob}}}
	tmp, err := os.CreateTemp(dir, "ingest-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tmp.Close() })
	return &following{t: t, a: newArrivals(fileStore(dir), ix), d: d, data: data, tmp: tmp}, fileStore(dir)
}

// write writes the next k bytes, as the load does, and says so.
func (f *following) write(k int) {
	if _, err := f.tmp.Write(f.data[f.n : f.n+k]); err != nil {
		f.t.Fatal(err)
	}
	f.n += k
	f.a.Wrote(f.d, int64(f.n))
}

func (f *following) desc() ocispec.Descriptor {
	return ocispec.Descriptor{Digest: f.d, Size: int64(len(f.data))}
}

// TestArrivals_Follow: a target that fetches a shipped blob of a load
// reads its bytes as they are written, before the blob is verified and
// named; its read ends only once the load verified them (and fails when
// the load found them bad); a blob named meanwhile is read on from the
// store.
func TestArrivals_Follow(t *testing.T) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("a layer sent on as it is written "), 4096)
	half := len(data) / 2

	f, _ := follow(t, data)
	fetched := make(chan io.ReadCloser, 1)
	go func() {
		rc, err := f.a.Fetch(ctx, f.desc()) // waits for the blob's bytes to start
		if err != nil {
			t.Error(err)
		}
		fetched <- rc
	}()
	f.a.Begin(f.d, f.tmp)
	f.write(half)
	rc := <-fetched
	if sv, ok := rc.(spec.SelfVerifying); !ok {
		t.Errorf("a followed blob's stream is %T, not spec.SelfVerifying: the target would hash it again", rc)
	} else if d, n := sv.Promise(); d != f.d || n != int64(len(data)) {
		t.Errorf("Promise() = %s, %d; want %s, %d", d, n, f.d, len(data))
	}
	got := make([]byte, half)
	if _, err := io.ReadFull(rc, got); err != nil || !bytes.Equal(got, data[:half]) {
		t.Fatalf("the first half, read before the rest is written: %v", err)
	}
	done := make(chan []byte)
	go func() {
		rest, err := io.ReadAll(rc)
		if err != nil {
			t.Errorf("reading the rest: %v", err)
		}
		done <- rest
	}()
	f.write(len(data) - half)
	f.a.End(f.d, nil) // verified
	if rest := <-done; !bytes.Equal(rest, data[half:]) {
		t.Errorf("the rest read %d bytes, want %d", len(rest), len(data)-half)
	}
	rc.Close()

	// Bad bytes: the read fails, at their verdict, instead of ending.
	f, _ = follow(t, data)
	f.a.Begin(f.d, f.tmp)
	f.write(half)
	rc, err := f.a.Fetch(ctx, f.desc())
	if err != nil {
		t.Fatal(err)
	}
	bad := &spec.VerifyError{Want: f.d}
	go f.a.End(f.d, bad)
	if _, err := io.ReadAll(rc); !errors.As(err, new(*spec.VerifyError)) {
		t.Errorf("reading a blob the load found bad = %v, want its VerifyError", err)
	}
	if _, err := f.a.Fetch(ctx, f.desc()); !errors.As(err, new(*spec.VerifyError)) {
		t.Errorf("fetching a blob the load found bad = %v, want its VerifyError", err)
	}

	// Named while it is read: the temporary file is closed (committed),
	// and the rest comes from the store.
	f, store := follow(t, data)
	f.a.Begin(f.d, f.tmp)
	f.write(len(data))
	f.a.End(f.d, nil)
	rc, err = f.a.Fetch(ctx, f.desc())
	if err != nil {
		t.Fatal(err)
	}
	got = make([]byte, half)
	if _, err := io.ReadFull(rc, got); err != nil {
		t.Fatal(err)
	}
	f.tmp.Close()
	if err := os.WriteFile(filepath.Join(string(store), f.d.Encoded()), data, 0o444); err != nil {
		t.Fatal(err)
	}
	f.a.arrived(f.d, true)
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(got, rest...), data) {
		t.Errorf("a blob named while it was read: %d bytes, %v; want %d, nil", len(got)+len(rest), err, len(data))
	}
	rc.Close()
}

// aheadTarget is a target that takes blobs ahead (runtime.BlobSender):
// SendBlobs reads every blob but the manifests from src, closing begun
// once it has read the first bytes of big; Write does nothing.
type aheadTarget struct {
	big   digest.Digest
	begun chan struct{}
	once  sync.Once
	sent  map[digest.Digest]bool
	err   error
}

func (a *aheadTarget) SendBlobs(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	blobs, err := runtime.Collect(ctx, src, images)
	if err != nil {
		a.err = err
		return err
	}
	a.sent = map[digest.Digest]bool{}
	for _, b := range blobs {
		if b.Data != nil {
			continue
		}
		rc, err := src.Fetch(ctx, b.Desc)
		if err == nil {
			var first [1]byte
			if _, err = io.ReadFull(rc, first[:]); err == nil && b.Desc.Digest == a.big {
				a.once.Do(func() { close(a.begun) })
			}
			if err == nil {
				_, err = io.Copy(io.Discard, spec.Verify(io.MultiReader(bytes.NewReader(first[:]), rc), b.Desc.Digest, b.Desc.Size))
			}
			rc.Close()
		}
		if err != nil {
			a.err = fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
			return a.err
		}
		a.sent[b.Desc.Digest] = true
	}
	return nil
}

func (a *aheadTarget) Write(context.Context, []runtime.Image, runtime.Fetcher) error { return nil }
func (a *aheadTarget) Close() error                                                  { return nil }

// TestLoad_SendsWhileWriting: a load into a target that takes blobs ahead
// (a registry) hands it a layer's bytes while it writes that layer into
// the store, before the bundle's end, and so before the layer is
// verified and named, has even been read: the upload no longer waits for
// the layer's ingest. The target gets every blob whole.
func TestLoad_SendsWhileWriting(t *testing.T) {
	s := signer(t, 1)
	b := newBlobSet()
	big := make([]byte, 4<<20) // incompressible: its entry is as large
	rand.New(rand.NewSource(1)).Read(big)
	var layer ocispec.Descriptor
	m := b.image("app", func(m *ocispec.Manifest) {
		layer = b.put(ocispec.MediaTypeImageLayerGzip, big)
		m.Layers[1] = layer
	})
	path := b.write(t, t.TempDir(), b.bundleIndex(map[string]ocispec.Descriptor{"example.com/app:1": m}), s)
	bundle, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := siteHome(t, s)
	tgt := &aheadTarget{big: layer.Digest, begun: make(chan struct{})}
	pr, pw := io.Pipe()
	late := make(chan bool, 1)
	go func() {
		// All but the layer's last bytes (and the bundle's end), then the
		// rest once the target has begun reading the layer.
		cut := len(bundle) - 1<<20
		pw.Write(bundle[:cut])
		select {
		case <-tgt.begun:
			late <- false
		case <-time.After(10 * time.Second):
			late <- true
		}
		pw.Write(bundle[cut:])
		pw.Close()
	}()
	rep, err := Load(context.Background(), h, "-", LoadOptions{CheckOptions: CheckOptions{Trust: TrustCatalog(h.Catalog), Stdin: pr},
		Into: []Destination{{Name: "ahead", Target: tgt}}})
	if err != nil || rep.Err() != nil {
		t.Fatalf("Load = %v, %v", err, rep.Err())
	}
	if <-late {
		t.Errorf("the target got none of the layer's bytes before the bundle's end was read")
	}
	if tgt.err != nil || !tgt.sent[layer.Digest] {
		t.Errorf("the target sent the layer: %v, %v", tgt.sent[layer.Digest], tgt.err)
	}
}
