package delta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// TestBuild_Apply: a new version that changes a few files of a layer,
// adds some and removes some ships as a delta much smaller than the layer
// and arrives with the layer's exact digest, for every writer ferry
// reproduces.
func TestBuild_Apply(t *testing.T) {
	v1 := deltatest.App(1, 60, 40<<10)
	v2 := v1.Next(2, 3, 2, 2)
	for _, kind := range []string{deltatest.GoGzip, deltatest.GoGzipFast, deltatest.KlauspostGzip, deltatest.Zstd, deltatest.None} {
		t.Run(kind, func(t *testing.T) {
			tr := newTrip(t, layerOf(t, v1, kind, t1), layerOf(t, v2, kind, t2))
			res, d, err := tr.build(t)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			st := res.Stats
			if st.Copied < 50 || st.Patched != 3 || st.Files != len(v2) {
				t.Errorf("stats %+v: want 3 patched and the unchanged files copied of %d", st, len(v2))
			}
			if res.Delta.Size != int64(len(d)) || res.Delta.Digest.Validate() != nil {
				t.Errorf("delta %d bytes, index says %d", len(d), res.Delta.Size)
			}
			if pct := 100 * float64(len(d)) / float64(len(tr.next)); pct > 15 {
				t.Errorf("delta is %.1f%% of the layer", pct)
			}
			if err := tr.load(res.Delta, d); err != nil {
				t.Fatalf("load: %v", err)
			}
			if err := tr.site.Verify(tr.nextDesc.Digest); err != nil {
				t.Errorf("site's copy of the layer: %v", err)
			}
			scratchEmpty(t, tr.sendDir, tr.siteDir)
		})
	}
}

// TestBuild_NewTimes: the same content rebuilt with new file times ships
// as little more than its tar headers.
func TestBuild_NewTimes(t *testing.T) {
	v1 := deltatest.App(1, 60, 40<<10)
	tr := newTrip(t, layerOf(t, v1, deltatest.GoGzip, t1), layerOf(t, v1, deltatest.GoGzip, t2))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if res.Stats.Copied != len(v1) || res.Stats.LiteralBytes != 0 {
		t.Errorf("stats %+v, want every file copied", res.Stats)
	}
	if len(d) > 4096 {
		t.Errorf("delta of %d bytes for a layer of %d that changed only its times", len(d), len(tr.next))
	}
	if err := tr.load(res.Delta, d); err != nil {
		t.Fatalf("load: %v", err)
	}
}

func TestBuild_Skips(t *testing.T) {
	v1 := deltatest.App(1, 30, 20<<10)
	other := deltatest.App(9, 30, 20<<10)
	for i := range other {
		other[i].Path = "lib/" + other[i].Path
	}
	for _, tc := range []struct {
		name       string
		base, next []byte
		want       Reason
	}{
		{"unrelated base", layerOf(t, other, deltatest.GoGzip, t1), layerOf(t, v1, deltatest.GoGzip, t1), NoSharedContent},
		{"not a tar", layerOf(t, v1, deltatest.GoGzip, t1), gzipped(t, []byte("not a tar at all, though gzip")), NotATar},
	} {
		tr := newTrip(t, tc.base, tc.next)
		_, _, err := tr.build(t)
		if r, ok := IsSkip(err); !ok || r != tc.want {
			t.Errorf("%s: Build = %v, want a skip for %q", tc.name, err, tc.want)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w, _ := deltatest.Compress(&out, deltatest.GoGzip)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// TestApply_FlippedByte: a delta entry with one byte flipped is refused
// with a typed error and leaves nothing in the site's store.
func TestApply_FlippedByte(t *testing.T) {
	v1 := deltatest.App(1, 40, 30<<10)
	tr := newTrip(t, layerOf(t, v1, deltatest.GoGzip, t1), layerOf(t, v1.Next(2, 3, 1, 1), deltatest.GoGzip, t2))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 20, len(d) / 2, len(d) - 1} {
		bad := bytes.Clone(d)
		bad[at] ^= 0x10
		err := tr.load(res.Delta, bad)
		if !errors.Is(err, spec.ErrDigestMismatch) && !errors.Is(err, spec.ErrCorrupt) {
			t.Errorf("byte %d flipped: load = %v, want a digest mismatch or corrupt delta", at, err)
		}
		if _, err := tr.site.Stat(tr.nextDesc.Digest); !errors.Is(err, spec.ErrNotFound) {
			t.Errorf("byte %d flipped: the layer is in the site's store (%v)", at, err)
		}
	}
	scratchEmpty(t, tr.siteDir)
}

// TestApply_DamagedBase: a base layer damaged in the site's store is
// detected, and nothing is delivered.
func TestApply_DamagedBase(t *testing.T) {
	v1 := deltatest.App(1, 40, 30<<10)
	base := layerOf(t, v1, deltatest.None, t1)
	tr := newTrip(t, base, layerOf(t, v1.Next(2, 3, 1, 1), deltatest.None, t2))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.site.BlobFile(tr.baseDesc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(base)
	damaged[len(damaged)/2] ^= 1 // inside a file's content: only the digest shows it
	replaceFile(t, p, damaged)
	err = tr.load(res.Delta, d)
	var be *BaseError
	if !errors.As(err, &be) || be.Base != tr.baseDesc.Digest || !errors.Is(err, spec.ErrDigestMismatch) {
		t.Fatalf("load with a damaged base = %v, want a *BaseError for %s with a digest mismatch", err, tr.baseDesc.Digest)
	}
	if _, err := tr.site.Stat(tr.nextDesc.Digest); !errors.Is(err, spec.ErrNotFound) {
		t.Errorf("the layer is in the site's store (%v)", err)
	}
}

// TestApply_Refuses: what Apply refuses before reading any delta byte.
func TestApply_Refuses(t *testing.T) {
	v1 := deltatest.App(1, 20, 20<<10)
	tr := newTrip(t, layerOf(t, v1, deltatest.GoGzip, t1), layerOf(t, v1.Next(2, 2, 1, 1), deltatest.GoGzip, t2))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatal(err)
	}
	unknown := res.Delta
	unknown.Recipe.Encoder = "zlib@1.3.1"
	wrongDiffID := res.Delta
	wrongDiffID.DiffID = tr.baseDesc.Digest
	wrongRecipe := res.Delta
	wrongRecipe.Recipe.Level = 1
	for _, tc := range []struct {
		name string
		d    spec.Delta
		want error
	}{
		{"encoder this ferry lacks", unknown, spec.ErrCannotReproduce},
		{"another DiffID", wrongDiffID, spec.ErrDigestMismatch},
		{"another level", wrongRecipe, nil},
	} {
		err := tr.load(tc.d, d)
		if tc.want == nil && !errors.As(err, new(*spec.VerifyError)) || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: load = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// watched is a reader that fails the test when it is read after stop.
type watched struct {
	t       *testing.T
	r       io.Reader
	stopped atomic.Bool
}

func (w *watched) Read(p []byte) (int, error) {
	if w.stopped.Load() {
		w.t.Errorf("the delta was read after Close returned")
	}
	return w.r.Read(p)
}

// TestOpen_Close: Close, early or late, returns only once Apply stopped
// reading the delta, so that the caller may go on with its stream.
func TestOpen_Close(t *testing.T) {
	v1 := deltatest.App(1, 60, 40<<10)
	tr := newTrip(t, layerOf(t, v1, deltatest.GoGzip, t1), layerOf(t, v1.Next(2, 3, 2, 2), deltatest.GoGzip, t2))
	res, d, err := tr.build(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, read := range []int64{0, 1000, int64(len(tr.next)) + 1} {
		w := &watched{t: t, r: bytes.NewReader(d)}
		rc := Open(context.Background(), w, tr.input(res.Delta))
		n, _ := io.Copy(io.Discard, io.LimitReader(rc, read))
		rc.Close()
		w.stopped.Store(true)
		if _, err := rc.Read(make([]byte, 1)); err == nil {
			t.Errorf("Read after Close (having read %d bytes) = nil", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	scratchEmpty(t, tr.siteDir)
}
