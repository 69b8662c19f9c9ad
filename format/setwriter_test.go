package format

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// memFile is a file in memory, written at offsets.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

// memSet is a SetSource over a fixture: its volumes in memory.
type memSet struct {
	f    *fixture
	vols []*memFile
}

func (m *memSet) Repeat(d digest.Digest) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.f.blobs[d])), nil
}

func (m *memSet) Volume(n int) (io.WriterAt, error) {
	if n != len(m.vols)+1 {
		return nil, fmt.Errorf("volume %d asked after %d", n, len(m.vols))
	}
	m.vols = append(m.vols, &memFile{})
	return m.vols[n-1], nil
}

// writeSet cuts the fixture's bundle into volumes of opts.Size bytes and
// writes them, returning each volume's bytes and the set's index.
func (f *fixture) writeSet(t testing.TB, s ssh.Signer, opts SetOptions) ([][]byte, *Index) {
	t.Helper()
	ix := f.index()
	if err := PlanSet(ix, s, opts); err != nil {
		t.Fatal(err)
	}
	src := &memSet{f: f}
	w, err := NewSetWriter(ix, s, opts, f.files, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range w.Order() {
		if err := w.WriteBlob(b.Digest, bytes.NewReader(f.blobs[b.Digest])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, v := range src.vols {
		out = append(out, v.b)
	}
	return out, ix
}

// TestSetWriter_EveryVolumeWithinSize: whatever the content (random bytes
// that do not compress, text that does, data that starts like gzip) and
// the compression, every volume is at most the size asked; each reads
// alone, every entry verified, none missing; the manifest is in every
// volume; a blob larger than a volume arrives in parts that join into
// it; and every volume names the same set id, its own number and the
// count.
func TestSetWriter_EveryVolumeWithinSize(t *testing.T) {
	_, s := testKey(t, 1)
	gzipLike := append([]byte{0x1f, 0x8b}, randomBytes(77, 700_000)...)
	for _, tc := range []struct {
		name  string
		blobs [][]byte
	}{
		{"random", [][]byte{randomBytes(1, 300), randomBytes(2, 90_000), randomBytes(3, 500_000), randomBytes(4, 1_300_000)}},
		{"text", [][]byte{randomBytes(5, 300), compressible(6, 400_000), compressible(7, 1_100_000)}},
		{"gzip", [][]byte{randomBytes(8, 300), gzipLike, randomBytes(9, 20_000)}},
	} {
		for _, comp := range []string{CompressionZstd, CompressionNone} {
			t.Run(tc.name+"/"+comp, func(t *testing.T) {
				f := newFixtureData(40, tc.blobs...)
				opts := SetOptions{WriterOptions: WriterOptions{Compression: comp, ModTime: testTime}, Size: 300_000}
				vols, ix := f.writeSet(t, s, opts)
				if len(vols) < 3 {
					t.Fatalf("%d volumes, want the blobs cut into at least 3", len(vols))
				}
				parts := map[digest.Digest][][]byte{}
				for i, v := range vols {
					if int64(len(v)) > opts.Size {
						t.Errorf("volume %d is %d bytes, over %d", i+1, len(v), opts.Size)
					}
					checkVolume(t, v, i+1, len(vols), ix, f, s, parts)
				}
				for d, ps := range parts {
					if joined := bytes.Join(ps, nil); !bytes.Equal(joined, f.blobs[d]) {
						t.Errorf("blob %s: parts join into %d bytes that are not the blob's %d", d, len(joined), len(f.blobs[d]))
					}
				}
				if len(parts) == 0 {
					t.Errorf("no blob was cut into parts")
				}
			})
		}
	}
}

// checkVolume reads volume n alone and checks it against the set's index
// and the fixture, collecting the parts it carries.
func checkVolume(t *testing.T, v []byte, n, count int, set *Index, f *fixture, s ssh.Signer, parts map[digest.Digest][][]byte) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(v), ReaderOptions{Trust: trustKey(s.PublicKey())})
	if err != nil {
		t.Fatalf("volume %d: %v", n, err)
	}
	defer r.Close()
	ix := r.Index()
	if ix.Volume != n || len(ix.Volumes) != count || ix.ID != set.ID {
		t.Errorf("volume %d names volume %d of %d of set %s, want %d of %d of %s", n, ix.Volume, len(ix.Volumes), ix.ID, n, count, set.ID)
	}
	res := drain(r)
	if res.fatal != nil || len(res.errs) > 0 || len(res.missing) > 0 {
		t.Fatalf("volume %d read: fatal %v, errors %v, missing %v", n, res.fatal, res.errs, res.missing)
	}
	if _, ok := res.good[spec.BlobPrefix+f.order[0].Encoded()]; !ok {
		t.Errorf("volume %d lacks the manifest", n)
	}
	for _, e := range ix.Entries(n) {
		data, ok := res.good[e.Name]
		switch {
		case !ok:
			t.Errorf("volume %d: entry %s not read", n, e.Name)
		case e.Part > 0:
			for len(parts[e.Blob.Digest]) < e.Part {
				parts[e.Blob.Digest] = append(parts[e.Blob.Digest], nil)
			}
			parts[e.Blob.Digest][e.Part-1] = data
		case e.Blob != nil && !bytes.Equal(data, f.blobs[e.Blob.Digest]):
			t.Errorf("volume %d: blob %s differs", n, e.Blob.Digest)
		}
	}
}

// TestSetWriter_Deterministic: the same input gives the same volumes,
// byte for byte.
func TestSetWriter_Deterministic(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixtureData(41, randomBytes(1, 300), compressible(2, 500_000), randomBytes(3, 600_000))
	opts := SetOptions{WriterOptions: WriterOptions{ModTime: testTime}, Size: 250_000}
	a, _ := f.writeSet(t, s, opts)
	b, _ := f.writeSet(t, s, opts)
	if len(a) != len(b) {
		t.Fatalf("%d volumes, then %d", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("volume %d differs between two writes of the same set", i+1)
		}
	}
}

// TestSetWriter_ECDSAKey: a signature whose length varies (ECDSA) still
// fits the room left for it.
func TestSetWriter_ECDSAKey(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureData(42, randomBytes(1, 300), randomBytes(2, 600_000))
	for range 8 {
		vols, ix := f.writeSet(t, s, SetOptions{WriterOptions: WriterOptions{ModTime: testTime}, Size: 250_000})
		for i, v := range vols {
			checkVolume(t, v, i+1, len(vols), ix, f, s, map[digest.Digest][][]byte{})
		}
	}
}

// TestPlanSet_Refuses: a size that leaves no room beside the index and
// manifests, and an extra larger than a volume, are refused naming what
// to do; the writer refuses a blob written out of order.
func TestPlanSet_Refuses(t *testing.T) {
	_, s := testKey(t, 1)
	f := newFixtureData(43, randomBytes(1, 300), randomBytes(2, 600_000))
	ix := f.index()
	if err := PlanSet(ix, s, SetOptions{Size: 4000}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("give --split at least")) {
		t.Errorf("PlanSet with a tiny size = %v, want the least size named", err)
	}
	ix, _ = withExtra(f, "ferry-linux-amd64", true)
	last(ix).Size = 500_000
	if err := PlanSet(ix, s, SetOptions{Size: 200_000}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("only image blobs are cut")) {
		t.Errorf("PlanSet with an extra larger than a volume = %v, want it refused", err)
	}
}

// TestDataBound: the bound the plan counts an entry at holds for what
// the writer makes of content that does not compress, that does, and
// that is already compressed.
func TestDataBound(t *testing.T) {
	p := &setPlan{}
	for _, data := range [][]byte{nil, {1}, randomBytes(1, 511), randomBytes(2, 128<<10), randomBytes(3, 3<<20+7),
		compressible(4, 2<<20), bytes.Repeat([]byte{0}, 1<<20), append([]byte{0x1f, 0x8b}, randomBytes(5, 300_000)...)} {
		enc, err := NewEncoder(WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		e, err := enc.Encode(&out, bytes.NewReader(data))
		enc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bound := p.dataBound(int64(len(data))); e.Frames > bound {
			t.Errorf("%d bytes made %d bytes of frames, over the bound %d", len(data), e.Frames, bound)
		}
	}
}

// TestPlanSet_Limits: a set that would need more than spec.MaxVolumes
// volumes is refused as too large, naming what to do; a chunk of more
// parts than that, or whose parts do not add up to its blob, is invalid.
func TestPlanSet_Limits(t *testing.T) {
	_, s := testKey(t, 1)
	ix := newFixtureData(44, randomBytes(1, 300), randomBytes(2, 1000)).index()
	for i := range ix.Blobs {
		if !spec.IsManifest(ix.Blobs[i].MediaType) && ix.Blobs[i].Size == 1000 {
			ix.Blobs[i].Size = spec.MaxVolumes * 300_000 // declared only: a plan reads sizes
		}
	}
	err := PlanSet(ix, s, SetOptions{Size: 300_000})
	if !errors.Is(err, spec.ErrTooLarge) || !strings.Contains(err.Error(), "larger --split") {
		t.Errorf("PlanSet over %d volumes = %v, want ErrTooLarge saying to give a larger --split", spec.MaxVolumes, err)
	}
	d := digest.FromString("part")
	many := spec.Chunk{Parts: make([]spec.Part, spec.MaxVolumes+1)}
	for i := range many.Parts {
		many.Parts[i] = spec.Part{Digest: d, Size: 1, Volume: 1}
	}
	if err := many.Validate(spec.MaxVolumes+1, 2); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("a chunk of %d parts: %v, want it refused", len(many.Parts), err)
	}
	short := spec.Chunk{Parts: []spec.Part{{Digest: d, Size: 5, Volume: 1}, {Digest: d, Size: 4, Volume: 2}}}
	if err := short.Validate(10, 2); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("parts of 9 bytes for a blob of 10: %v, want it refused", err)
	}
	if err := short.Validate(9, 1); !errors.Is(err, spec.ErrCorrupt) {
		t.Errorf("a part in volume 2 of a set of 1: %v, want it refused", err)
	}
}
