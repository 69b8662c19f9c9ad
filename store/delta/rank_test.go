package delta

import (
	"bytes"
	"context"
	"testing"

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
