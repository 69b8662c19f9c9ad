package trip

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// farSet is a blobSet that says it is far (runtime.Distant). With first
// set, reading that blob waits until another blob has been fetched, as
// only a writer that fetches ahead does (for 10 s at most, then it notes
// that none was). gone is not found.
type farSet struct {
	*blobSet
	ahead       int
	first, gone digest.Digest
	other       chan struct{}
	otherOnce   sync.Once
	noneAhead   bool

	watch     digest.Digest // with watched: closed once watch is fetched
	watched   chan struct{}
	watchOnce sync.Once

	as runtime.Fetcher // the plan's source, when not the farSet itself

	lie  digest.Digest // served with its last byte changed
	lies atomic.Int32  // times it was
}

func (f *farSet) FetchAhead() int { return f.ahead }

func (f *farSet) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if d.Digest == f.gone {
		return nil, spec.ErrNotFound
	}
	if d.Digest == f.watch && f.watched != nil {
		f.watchOnce.Do(func() { close(f.watched) })
	}
	rc, err := f.blobSet.Fetch(ctx, d)
	if err == nil && d.Digest == f.lie {
		f.lies.Add(1)
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		data[len(data)-1] ^= 1
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	if err != nil || f.first == "" {
		return rc, err
	}
	if d.Digest != f.first {
		f.otherOnce.Do(func() { close(f.other) })
		return rc, nil
	}
	return io.NopCloser(readerFunc(func(p []byte) (int, error) {
		select {
		case <-f.other:
		case <-time.After(10 * time.Second):
			f.noneAhead = true
		}
		return rc.Read(p)
	})), nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

var _ runtime.Distant = (*farSet)(nil)

func (f *farSet) plan(t *testing.T) *Plan {
	t.Helper()
	var src runtime.Fetcher = f
	if f.as != nil {
		src = f.as
	}
	var inputs []Input
	for _, seed := range []string{"a", "b", "c"} {
		inputs = append(inputs, Input{Image: runtime.Image{Name: "app:" + seed, Desc: f.image(seed, nil)}, From: src})
	}
	big := bytes.Repeat([]byte("a layer read ahead while it is written "), 450000) // over readAheadMin
	next := bytes.Repeat([]byte("a layer fetched ahead while the one before is written "), 100000)
	bigImage := f.image("big", func(m *ocispec.Manifest) {
		m.Layers[0] = f.put(ocispec.MediaTypeImageLayer, big)
		m.Layers[1] = f.put(ocispec.MediaTypeImageLayer, next)
	})
	inputs = append(inputs, Input{Image: runtime.Image{Name: "big:1", Desc: bigImage}, From: src})
	p, err := MakePlan(context.Background(), inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func saveTo(t *testing.T, p *Plan, path, tmp string) ([]byte, error) {
	t.Helper()
	_, err := Save(context.Background(), p, SaveOptions{Path: path, Signer: signer(t, 1), From: "hq", Sequence: 1,
		Created: time.Unix(0, 0), TmpDir: tmp})
	if err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// TestSave_FetchAhead: from a far source the writer fetches the next
// blobs while it writes one, and the bundle is byte for byte the one
// written blob by blob; the fetched files are gone afterwards, after a
// failure too.
func TestSave_FetchAhead(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	near := &farSet{blobSet: newBlobSet()}
	want, err := saveTo(t, near.plan(t), filepath.Join(dir, "near.ferry"), tmp)
	if err != nil {
		t.Fatal(err)
	}
	far := &farSet{blobSet: newBlobSet(), ahead: 3, other: make(chan struct{})}
	p := far.plan(t)
	for i, b := range p.Blobs { // in the order they are written
		if b.Size > prefetchAfter && i < len(p.Blobs)-1 {
			far.first = b.Digest // fetched in its turn, the blobs after it while it is written
			break
		}
	}
	if far.first == "" {
		t.Fatal("the plan has no large blob with blobs after it")
	}
	got, err := saveTo(t, p, filepath.Join(dir, "far.ferry"), tmp)
	if err != nil {
		t.Fatal(err)
	}
	if far.noneAhead {
		t.Errorf("no blob was fetched while the large one was written")
	}
	if !bytes.Equal(got, want) {
		t.Errorf("bundle fetched ahead (%d bytes) differs from the one fetched in turn (%d bytes)", len(got), len(want))
	}
	emptyDir(t, tmp)

	gone := &farSet{blobSet: newBlobSet(), ahead: 3}
	p = gone.plan(t)
	gone.gone = p.Layers()[len(p.Layers())-1]
	if _, err := saveTo(t, p, filepath.Join(dir, "gone.ferry"), tmp); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Save with a blob gone = %v, want ErrNotFound", err)
	}
	emptyDir(t, tmp)
}

// TestSave_FetchAheadVerifies: a blob fetched ahead into a file is
// hashed as it arrives, and the writer takes the file as the blob without
// hashing it again (fetchedFile): so a far source that serves other bytes
// for it fails the save, naming the blob, and leaves no file behind.
func TestSave_FetchAheadVerifies(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	far := &farSet{blobSet: newBlobSet(), ahead: 3}
	p := far.plan(t)
	var before int64
	for _, b := range p.Blobs { // in the order they are written: the last with room before it is fetched into a file
		if p.Role(b.Digest) == RoleLayer && before >= prefetchAfter {
			far.lie = b.Digest
		}
		before += b.Size
	}
	if far.lie == "" {
		t.Fatal("the plan has no layer fetched ahead into a file")
	}
	_, err := saveTo(t, p, filepath.Join(dir, "lie.ferry"), tmp)
	if !errors.Is(err, spec.ErrDigestMismatch) || !strings.Contains(err.Error(), string(far.lie)) {
		t.Fatalf("Save with blob %s served wrong = %v, want a digest mismatch naming it", far.lie, err)
	}
	if n := far.lies.Load(); n != 2 {
		t.Errorf("blob %s fetched %d times, want 2: ahead into a file, then again in its turn once the file failed", far.lie, n)
	}
	emptyDir(t, tmp)
}

// TestFetchedFile: a file fetched ahead that no longer holds the blob's
// size fails at its end.
func TestFetchedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	data := []byte("a blob fetched ahead")
	d := digest.FromBytes(data)
	for _, c := range []struct {
		name   string
		on     []byte
		failed bool
	}{{"whole", data, false}, {"cut", data[:5], true}, {"longer", append(data, 'x'), true}} {
		os.WriteFile(path, c.on, 0o600)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ff := &fetchedFile{f: f, d: d, size: int64(len(data))}
		got, err := io.ReadAll(ff)
		f.Close()
		if failed := errors.Is(err, spec.ErrSizeMismatch); failed != c.failed {
			t.Errorf("%s: read %d bytes, err %v; want a size mismatch: %v", c.name, len(got), err, c.failed)
		}
		if w, n := ff.Promise(); w != d || n != int64(len(data)) {
			t.Errorf("%s: Promise() = %s, %d", c.name, w, n)
		}
	}
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%s holds %d files after the save, want none", dir, len(ents))
	}
}

// waitingSigner signs once fetched is closed (for 10 s at most, then it
// notes that it was not: late).
type waitingSigner struct {
	ssh.Signer
	fetched <-chan struct{}
	late    bool
}

func (s *waitingSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	select {
	case <-s.fetched:
	case <-time.After(10 * time.Second):
		s.late = true
	}
	return s.Signer.Sign(r, data)
}

// TestSave_OpensFirstBlobsEarly: from a far source the first layers are
// requested as the save starts, before the bundle's header is signed,
// not once the writer reaches them: a registry's round trip no longer
// waits behind the header. The bundle is the one written blob by blob.
func TestSave_OpensFirstBlobsEarly(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	near := &farSet{blobSet: newBlobSet()}
	want, err := saveTo(t, near.plan(t), filepath.Join(dir, "near.ferry"), tmp)
	if err != nil {
		t.Fatal(err)
	}
	far := &farSet{blobSet: newBlobSet(), ahead: 1, watched: make(chan struct{})}
	p := far.plan(t)
	far.watch = firstLayer(p)
	pf := newPrefetcher(context.Background(), p, p.Blobs, tmp)
	for _, b := range p.Blobs {
		if p.Role(b.Digest) == RoleConfig && pf.far(b) {
			t.Errorf("config %s, read while planning, is to be fetched again, in a stream of its own", b.Digest)
		}
	}
	pf.close()
	s := &waitingSigner{Signer: signer(t, 1), fetched: far.watched}
	path := filepath.Join(dir, "far.ferry")
	if _, err := Save(context.Background(), p, SaveOptions{Path: path, Signer: s, From: "hq", Sequence: 1,
		Created: time.Unix(0, 0), TmpDir: tmp}); err != nil {
		t.Fatal(err)
	}
	if s.late {
		t.Errorf("the first layer, %s, was not requested before the header was signed", far.watch)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("bundle with its first layers opened early (%d bytes) differs from the one fetched in turn (%d bytes)", len(got), len(want))
	}
	emptyDir(t, tmp)

	// A save that fails at its first layer closes the streams opened
	// ahead after it: the source gets back every one (a registry's
	// connection slots).
	cut := &countingSet{farSet: &farSet{blobSet: newBlobSet(), ahead: 3}}
	cut.as = cut
	p = cut.plan(t)
	cut.gone = firstLayer(p)
	if _, err := Save(context.Background(), p, SaveOptions{Path: filepath.Join(dir, "cut.ferry"), Signer: signer(t, 1),
		From: "hq", Sequence: 1, Created: time.Unix(0, 0), TmpDir: tmp}); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("Save with a blob gone = %v, want ErrNotFound", err)
	}
	if n := cut.open.Load(); n != 0 {
		t.Errorf("%d streams left open after a failed save", n)
	}
	emptyDir(t, tmp)
}

// firstLayer is the first layer p writes.
func firstLayer(p *Plan) digest.Digest {
	for _, b := range p.Blobs { // in the order they are written
		if p.Role(b.Digest) == RoleLayer {
			return b.Digest
		}
	}
	return ""
}

// countingSet is a farSet that counts its streams not yet closed.
type countingSet struct {
	*farSet
	open atomic.Int64
}

func (c *countingSet) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := c.farSet.Fetch(ctx, d)
	if err != nil {
		return nil, err
	}
	c.open.Add(1)
	return &closeFunc{ReadCloser: rc, close: func() { c.open.Add(-1) }}, nil
}

type closeFunc struct {
	io.ReadCloser
	once  sync.Once
	close func()
}

func (c *closeFunc) Close() error {
	c.once.Do(c.close)
	return c.ReadCloser.Close()
}
