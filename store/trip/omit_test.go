package trip

import (
	"strings"
	"testing"

	"github.com/containerd/platforms"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// testPlan is a plan of one image: a manifest, a config and three layers.
func testPlan() (*Plan, []digest.Digest) {
	d := func(s string) digest.Digest { return digest.FromString(s) }
	man, cfg := d("manifest"), d("config")
	layers := []digest.Digest{d("l0"), d("l1"), d("l2")}
	p := &Plan{role: map[digest.Digest]string{man: RoleManifest, cfg: RoleConfig}, why: map[digest.Digest]string{}}
	for _, x := range append([]digest.Digest{man, cfg}, layers...) {
		p.Blobs = append(p.Blobs, format.Blob{Digest: x, Size: 100, Kind: spec.KindBlob, Status: spec.StatusShipped})
		p.Bytes += 100
	}
	p.perImage = [][]digest.Digest{append([]digest.Digest{man, cfg}, layers...)}
	p.Images = []format.Image{{Name: "app:1", Digest: man}}
	return p, layers
}

func TestPlan_Omit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    func(l []digest.Digest) OmitOptions
		omitted int
		reason  string
	}{
		{"nothing held", func([]digest.Digest) OmitOptions { return OmitOptions{} }, 0, ""},
		{"shipped", func(l []digest.Digest) OmitOptions {
			return OmitOptions{Held: map[digest.Digest]store.Holding{l[0]: {State: store.StateShipped, Bundle: "b1", Sequence: 1}}}
		}, 1, "held since trip 1 (bundle b1), shipped"},
		{"only confirmed skips shipped", func(l []digest.Digest) OmitOptions {
			return OmitOptions{OnlyConfirmed: true, Held: map[digest.Digest]store.Holding{l[0]: {State: store.StateShipped, Bundle: "b1", Sequence: 1}}}
		}, 0, ""},
		{"receipt", func(l []digest.Digest) OmitOptions {
			return OmitOptions{OnlyConfirmed: true, Held: map[digest.Digest]store.Holding{l[1]: {State: store.StateConfirmed, Bundle: "receipt"}}}
		}, 1, "confirmed by a receipt"},
		{"base and exclude", func(l []digest.Digest) OmitOptions {
			return OmitOptions{Bases: []Base{{Ref: "app:0", Layers: map[digest.Digest]bool{l[0]: true}},
				{Ref: "db:1", Excluded: true, Layers: map[digest.Digest]bool{l[2]: true}}}}
		}, 2, "in base app:0"},
		{"configs and manifests always ship", func(l []digest.Digest) OmitOptions {
			return OmitOptions{Held: map[digest.Digest]store.Holding{digest.FromString("config"): {State: store.StateConfirmed},
				digest.FromString("manifest"): {State: store.StateConfirmed}}}
		}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, layers := testPlan()
			p.Omit(tc.opts(layers))
			r := p.Report("plant-7")
			if r.Omitted != tc.omitted || r.Saved != int64(100*tc.omitted) || r.Bytes != int64(100*(5-tc.omitted)) {
				t.Errorf("Omit: omitted %d (%d bytes saved, %d shipped), want %d", r.Omitted, r.Saved, r.Bytes, tc.omitted)
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
