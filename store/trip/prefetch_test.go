package trip

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

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
}

func (f *farSet) FetchAhead() int { return f.ahead }

func (f *farSet) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if d.Digest == f.gone {
		return nil, spec.ErrNotFound
	}
	rc, err := f.blobSet.Fetch(ctx, d)
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
	var inputs []Input
	for _, seed := range []string{"a", "b", "c"} {
		inputs = append(inputs, Input{Image: runtime.Image{Name: "app:" + seed, Desc: f.image(seed, nil)}, From: f})
	}
	big := bytes.Repeat([]byte("a layer read ahead while it is written "), 450000) // over readAheadMin
	next := bytes.Repeat([]byte("a layer fetched ahead while the one before is written "), 100000)
	bigImage := f.image("big", func(m *ocispec.Manifest) {
		m.Layers[0] = f.put(ocispec.MediaTypeImageLayer, big)
		m.Layers[1] = f.put(ocispec.MediaTypeImageLayer, next)
	})
	inputs = append(inputs, Input{Image: runtime.Image{Name: "big:1", Desc: bigImage}, From: f})
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

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%s holds %d files after the save, want none", dir, len(ents))
	}
}
