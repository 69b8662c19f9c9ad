package trip

import (
	"context"
	"strings"
	"testing"

	"github.com/containerd/platforms"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// testPlan is a plan of one image made in memory
// (runtimetest.RandomImage): a manifest, a config and three layers. It
// returns the plan, the layers, and the manifest and config.
func testPlan(t *testing.T) (*Plan, []digest.Digest, [2]digest.Digest) {
	t.Helper()
	blobs := runtimetest.Blobs{}
	root := runtimetest.RandomImage(blobs, 1, 3, 100)
	p, err := MakePlan(context.Background(), []Input{{Image: runtime.Image{Name: "app:1", Desc: root}, From: blobs}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var layers []digest.Digest
	var nodes [2]digest.Digest
	for _, b := range p.graphs[0].Blobs() {
		switch b.Role {
		case runtime.RoleLayer:
			layers = append(layers, b.Desc.Digest)
		case runtime.RoleManifest:
			nodes[0] = b.Desc.Digest
		case runtime.RoleConfig:
			nodes[1] = b.Desc.Digest
		}
	}
	return p, layers, nodes
}

func TestPlan_Omit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    func(l []digest.Digest, nodes [2]digest.Digest) OmitOptions
		omitted int
		reason  string
	}{
		{"nothing held", func([]digest.Digest, [2]digest.Digest) OmitOptions { return OmitOptions{} }, 0, ""},
		{"shipped", func(l []digest.Digest, _ [2]digest.Digest) OmitOptions {
			return OmitOptions{Held: map[digest.Digest]store.Holding{l[0]: {State: store.StateShipped, Bundle: "b1", Sequence: 1}}}
		}, 1, "held since trip 1 (bundle b1), shipped"},
		{"only confirmed skips shipped", func(l []digest.Digest, _ [2]digest.Digest) OmitOptions {
			return OmitOptions{OnlyConfirmed: true, Held: map[digest.Digest]store.Holding{l[0]: {State: store.StateShipped, Bundle: "b1", Sequence: 1}}}
		}, 0, ""},
		{"receipt", func(l []digest.Digest, _ [2]digest.Digest) OmitOptions {
			return OmitOptions{OnlyConfirmed: true, Held: map[digest.Digest]store.Holding{l[1]: {State: store.StateConfirmed, Bundle: "receipt"}}}
		}, 1, "confirmed by a receipt"},
		{"base and exclude", func(l []digest.Digest, _ [2]digest.Digest) OmitOptions {
			return OmitOptions{Bases: []Base{{Ref: "app:0", Layers: map[digest.Digest]bool{l[0]: true}},
				{Ref: "db:1", Excluded: true, Layers: map[digest.Digest]bool{l[2]: true}}}}
		}, 2, "in base app:0"},
		{"configs and manifests always ship", func(_ []digest.Digest, nodes [2]digest.Digest) OmitOptions {
			return OmitOptions{Held: map[digest.Digest]store.Holding{nodes[0]: {State: store.StateConfirmed},
				nodes[1]: {State: store.StateConfirmed}}}
		}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, layers, nodes := testPlan(t)
			total := p.Bytes
			p.Omit(tc.opts(layers, nodes))
			r := p.DryRun("plant-7")
			var saved int64
			for _, b := range p.Blobs {
				if b.Status == spec.StatusPrerequisite {
					saved += b.Size
				}
			}
			if r.Omitted != tc.omitted || r.Saved != saved || r.Bytes != total-saved || r.Shipped != 5-tc.omitted {
				t.Errorf("Omit: omitted %d (%d bytes saved, %d shipped), want %d (%d saved of %d)", r.Omitted, r.Saved, r.Bytes, tc.omitted, saved, total)
			}
			var reasons []string
			for _, b := range r.Images[0].Blobs {
				reasons = append(reasons, b.Reason)
			}
			if !strings.Contains(strings.Join(reasons, "|"), tc.reason) {
				t.Errorf("reasons %q, want one containing %q", reasons, tc.reason)
			}
			for _, b := range p.Blobs {
				if b.Status == spec.StatusPrerequisite && p.Role(b.Digest) != RoleLayer {
					t.Errorf("a %s was omitted", p.Role(b.Digest))
				}
			}
		})
	}
}

func TestPlatformWarnings(t *testing.T) {
	ix := &format.Index{Images: []format.Image{
		{Name: "amd", Platforms: []string{"linux/amd64"}},
		{Name: "arm", Platforms: []string{"linux/arm64", "linux/arm/v7"}},
		{Name: "v3", Platforms: []string{"linux/amd64/v3"}},
		{Name: "unknown"},
	}}
	// The platform rule is containerd's: an amd64 machine runs amd64 (v1)
	// and 386, not amd64/v3, which needs a newer CPU (containerd does not
	// pick it there either); an arm64 machine runs arm64 and arm/v7.
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"linux/amd64", []string{"image arm is for linux/arm64, linux/arm/v7, not this site's linux/amd64", "image v3 is for linux/amd64/v3"}},
		{"linux/arm64", []string{"image amd is for linux/amd64, not this site's linux/arm64", "image v3 is for linux/amd64/v3"}},
		{"linux/amd64/v3", []string{"image arm is for linux/arm64, linux/arm/v7"}},
	} {
		got := platformWarnings(ix, platforms.MustParse(tc.host))
		if len(got) != len(tc.want) {
			t.Errorf("platformWarnings(%s) = %q, want %d warnings", tc.host, got, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("platformWarnings(%s)[%d] = %q, want it to contain %q", tc.host, i, got[i], w)
			}
		}
	}
}
