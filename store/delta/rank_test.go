package delta

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// TestRank: the same repository's earlier version first, then by shared
// content; a layer that shares nothing is no base.
func TestRank(t *testing.T) {
	s, _ := newStore(t)
	v1 := deltatest.App(1, 30, 10<<10)
	v2 := v1.Next(2, 3, 2, 2)
	unrelated := deltatest.App(3, 30, 10<<10)
	for i := range unrelated {
		unrelated[i].Path = "opt/" + unrelated[i].Path
	}
	half := append(deltatest.Tree{}, v1[:15]...)
	prev := put(t, s, layerOf(t, v1, deltatest.GoGzip, t1))
	other := put(t, s, layerOf(t, unrelated, deltatest.GoGzip, t1))
	partial := put(t, s, layerOf(t, half, deltatest.GoGzip, t1))
	next := layerOf(t, v2, deltatest.GoGzip, t2)
	layer := Layer{Desc: putBlob(nil, next), Blob: bytes.NewReader(next)}

	got, err := Rank(context.Background(), layer, s, []Candidate{{Layer: other}, {Layer: partial}, {Layer: prev}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Layer.Digest != prev.Digest || got[1].Layer.Digest != partial.Digest {
		t.Fatalf("Rank = %+v, want the previous version, then the partial one, and not the unrelated one", got)
	}
	if got[1].Shared >= got[0].Shared {
		t.Errorf("shares %.2f, %.2f", got[0].Shared, got[1].Shared)
	}

	got, _ = Rank(context.Background(), layer, s, []Candidate{{Layer: prev}, {Layer: partial, SameRepository: true}}, 1)
	if len(got) != 1 || got[0].Layer.Digest != partial.Digest {
		t.Errorf("Rank with max 1 = %+v, want only the same repository's layer", got)
	}
}

// countingFetcher counts the fetches of each blob.
type countingFetcher struct {
	memFetcher
	n map[digest.Digest]int
}

func (c *countingFetcher) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	c.n[desc.Digest]++
	return c.memFetcher.Fetch(ctx, desc)
}

// TestRanker_ReadsOnce: a Ranker reads a candidate once for all the
// layers it ranks, and ranks them as Rank does.
func TestRanker_ReadsOnce(t *testing.T) {
	v1 := deltatest.App(1, 30, 10<<10)
	prev := layerOf(t, v1, deltatest.GoGzip, t1)
	pd := putBlob(nil, prev)
	f := &countingFetcher{memFetcher: memFetcher{pd.Digest: prev}, n: map[digest.Digest]int{}}
	r := &Ranker{Store: f}
	for seed := range uint64(3) {
		next := layerOf(t, v1.Next(seed+2, 3, 2, 2), deltatest.GoGzip, t2)
		layer := Layer{Desc: putBlob(nil, next), Blob: bytes.NewReader(next)}
		got, err := r.Rank(context.Background(), layer, []Candidate{{Layer: pd}}, 0)
		want, _ := Rank(context.Background(), layer, f.memFetcher, []Candidate{{Layer: pd}}, 0)
		if err != nil || len(got) != 1 || len(want) != 1 || got[0].Shared != want[0].Shared || got[0].Layer.Digest != want[0].Layer.Digest {
			t.Errorf("Ranker.Rank = %+v, %v; want %+v as Rank gives", got, err, want)
		}
	}
	if f.n[pd.Digest] != 1 {
		t.Errorf("the candidate was read %d times for three layers, want once", f.n[pd.Digest])
	}
}
