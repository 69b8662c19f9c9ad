package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// memory is a Fetcher over blobs held in memory; it counts fetches.
type memory struct {
	blobs   runtimetest.Blobs
	fetches int
}

func (m *memory) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	m.fetches++
	return m.blobs.Fetch(ctx, desc)
}

// put stores v (bytes as they are, anything else as JSON).
func (m *memory) put(mediaType string, v any) ocispec.Descriptor {
	if b, ok := v.([]byte); ok {
		return m.blobs.Put(mediaType, b)
	}
	return m.blobs.PutJSON(mediaType, v)
}

// graph is an index of two platforms whose manifests share a layer.
type graph struct {
	m                 *memory
	index, list       ocispec.Descriptor // OCI index, Docker list
	amd, arm, s390    ocispec.Descriptor // manifests
	shared, amdConfig ocispec.Descriptor
}

func newGraph() graph {
	m := &memory{blobs: runtimetest.Blobs{}}
	g := graph{m: m}
	g.shared = m.put(ocispec.MediaTypeImageLayerGzip, []byte("shared layer"))
	manifest := func(p ocispec.Platform, layer string) ocispec.Descriptor {
		cfg := m.put(ocispec.MediaTypeImageConfig, ocispec.Image{Platform: p})
		if p.Architecture == "amd64" {
			g.amdConfig = cfg
		}
		own := m.put(ocispec.MediaTypeImageLayerGzip, []byte(layer))
		mf := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{g.shared, own}}
		mf.SchemaVersion = 2
		d := m.put(ocispec.MediaTypeImageManifest, mf)
		d.Platform = &p
		return d
	}
	g.amd = manifest(ocispec.Platform{OS: "linux", Architecture: "amd64"}, "amd")
	g.arm = manifest(ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, "arm")
	g.s390 = manifest(ocispec.Platform{OS: "linux", Architecture: "s390x"}, "s390")
	kids := []ocispec.Descriptor{g.amd, g.arm, g.s390}
	g.index = m.put(ocispec.MediaTypeImageIndex, ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: kids})
	g.list = m.put(spec.DockerManifestList, ocispec.Index{MediaType: spec.DockerManifestList, Manifests: kids})
	return g
}

func TestReadBlob(t *testing.T) {
	ctx := context.Background()
	g := newGraph()
	if b, err := runtime.ReadBlob(ctx, g.m, g.amd, 1<<20); err != nil || int64(len(b)) != g.amd.Size {
		t.Errorf("ReadBlob(amd) = %d bytes, %v", len(b), err)
	}
	huge := g.amd
	huge.Size = 1 << 40
	g.m.fetches = 0
	_, err := runtime.ReadBlob(ctx, g.m, huge, spec.MaxManifestSize)
	if !errors.Is(err, spec.ErrTooLarge) || !strings.Contains(err.Error(), string(huge.Digest)) || g.m.fetches != 0 {
		t.Errorf("ReadBlob(1 TiB) = %v after %d fetches, want ErrTooLarge naming the digest, no fetch", err, g.m.fetches)
	}
	bad := g.amd
	bad.Digest = "sha256:../../etc/passwd"
	if _, err := runtime.ReadBlob(ctx, g.m, bad, 1<<20); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("ReadBlob(bad digest) = %v, want ErrBadInput", err)
	}
	short := g.amd
	short.Size--
	var ve *spec.VerifyError
	if _, err := runtime.ReadBlob(ctx, g.m, short, 1<<20); !errors.As(err, &ve) || ve.Want != short.Digest {
		t.Errorf("ReadBlob(wrong size) = %v, want a VerifyError", err)
	}
}

func TestChildren(t *testing.T) {
	g := newGraph()
	idx := g.m.blobs[g.index.Digest]
	for _, tc := range []struct {
		name, mediaType string
		data            []byte
		want            []digest.Digest
		wantErr         bool
	}{
		{"index", ocispec.MediaTypeImageIndex, idx, []digest.Digest{g.amd.Digest, g.arm.Digest, g.s390.Digest}, false},
		{"index typed by content", "", idx, []digest.Digest{g.amd.Digest, g.arm.Digest, g.s390.Digest}, false},
		{"manifest", "", g.m.blobs[g.amd.Digest], []digest.Digest{g.amdConfig.Digest, g.shared.Digest, digest.FromString("amd")}, false},
		{"unknown", "application/x-other", idx, nil, false},
		{"bad child", "", []byte(`{"mediaType":"` + ocispec.MediaTypeImageIndex + `","manifests":[{"digest":"sha256:zz","size":1}]}`), nil, true},
		{"no config", ocispec.MediaTypeImageManifest, []byte(`{}`), nil, true},
		{"not json", ocispec.MediaTypeImageManifest, []byte(`[`), nil, true},
	} {
		kids, err := runtime.Children(tc.mediaType, tc.data)
		var got []digest.Digest
		for _, k := range kids {
			got = append(got, k.Digest)
		}
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("Children(%s) = %v, %v, want %v (error %v)", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestWalk(t *testing.T) {
	g := newGraph()
	seen := map[digest.Digest]int{}
	var order []digest.Digest
	roles := map[runtime.Role]int{}
	graph, err := runtime.Walk(context.Background(), g.m, runtime.Image{Desc: g.index}, func(b runtime.Blob) error {
		d := b.Desc
		seen[d.Digest]++
		order = append(order, d.Digest)
		roles[b.Role]++
		if isNode := spec.IsIndex(d.MediaType) || spec.IsManifest(d.MediaType); isNode != (b.Data != nil) || isNode != (b.Node != nil) {
			t.Errorf("Walk gave %s (%s) data %v", d.Digest, d.MediaType, b.Data != nil)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// index, 3 manifests, 3 configs, 3 own layers, 1 shared layer
	if len(order) != 11 || order[0] != g.index.Digest || order[1] != g.amd.Digest {
		t.Errorf("Walk visited %d blobs starting %v, want 11 starting with the index then amd64", len(order), order[:2])
	}
	for d, n := range seen {
		if n != 1 {
			t.Errorf("Walk visited %s %d times", d, n)
		}
	}
	if want := map[runtime.Role]int{runtime.RoleIndex: 1, runtime.RoleManifest: 3, runtime.RoleConfig: 3, runtime.RoleLayer: 4}; !maps.Equal(roles, want) {
		t.Errorf("Walk's roles = %v, want %v", roles, want)
	}
	// The graph answers from memory what the walk read: its blobs in the
	// same order, a platform's sub-graph; a second walk with it reads
	// nothing.
	var again []digest.Digest
	for _, b := range graph.Blobs() {
		again = append(again, b.Desc.Digest)
	}
	if !slices.Equal(again, order) {
		t.Errorf("Graph.Blobs = %v, want the walk's order %v", again, order)
	}
	if sub := graph.Sub(g.arm).Blobs(); len(sub) != 4 || sub[0].Desc.Digest != g.arm.Digest {
		t.Errorf("Graph.Sub(arm64).Blobs = %d blobs, want the arm64 manifest, config and two layers", len(sub))
	}
	g.m.fetches = 0
	if _, err := runtime.Walk(context.Background(), g.m, runtime.Image{Desc: g.index, Graph: graph}, nil); err != nil || g.m.fetches != 0 {
		t.Errorf("Walk with the graph = %v after %d fetches, want none", err, g.m.fetches)
	}
	delete(g.m.blobs, g.arm.Digest)
	_, err = runtime.Walk(context.Background(), g.m, runtime.Image{Desc: g.index}, nil)
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), string(g.arm.Digest)) {
		t.Errorf("Walk with a missing manifest = %v, want ErrNotFound naming it", err)
	}
}

func TestGraph_Platforms(t *testing.T) {
	ctx := context.Background()
	g := newGraph()
	got, err := walk(t, g.m, g.index).Platforms(ctx, g.m)
	if want := []string{"linux/amd64", "linux/arm64/v8", "linux/s390x"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Platforms(index) = %v, %v, want %v", got, err, want)
	}
	arm := walk(t, g.m, g.arm)
	got, err = arm.Platforms(ctx, g.m)
	if want := []string{"linux/arm64/v8"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Platforms(manifest) = %v, %v, want %v", got, err, want)
	}
	g.m.fetches = 0
	if _, err := arm.Platforms(ctx, g.m); err != nil || g.m.fetches != 0 {
		t.Errorf("Platforms again = %v after %d fetches, want the config kept", err, g.m.fetches)
	}
}

// TestGraph_Configs: the configs are read once, into the graph, and give
// each layer its DiffID and the image its newest created time; a config
// whose diff_ids do not fit its layers gives none.
func TestGraph_Configs(t *testing.T) {
	ctx := context.Background()
	m := &memory{blobs: runtimetest.Blobs{}}
	l1, l2 := m.put(ocispec.MediaTypeImageLayerGzip, []byte("one")), m.put(ocispec.MediaTypeImageLayerGzip, []byte("two"))
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id1, id2 := digest.FromString("tar one"), digest.FromString("tar two")
	manifest := func(cfg any, layers ...ocispec.Descriptor) ocispec.Descriptor {
		c := m.put(ocispec.MediaTypeImageConfig, cfg)
		return m.put(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest, Config: c, Layers: layers})
	}
	good := manifest(ocispec.Image{Created: &when, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{id1, id2}}}, l1, l2)
	short := manifest(map[string]any{"rootfs": map[string]any{"diff_ids": []string{string(id1)}}, "created": "not a time"}, l1, l2)
	for _, tc := range []struct {
		root    ocispec.Descriptor
		ids     map[digest.Digest]digest.Digest
		created time.Time
	}{
		{good, map[digest.Digest]digest.Digest{l1.Digest: id1, l2.Digest: id2}, when},
		{short, map[digest.Digest]digest.Digest{}, time.Time{}},
	} {
		g := walk(t, m, tc.root)
		if err := g.ReadConfigs(ctx, m); err != nil {
			t.Fatal(err)
		}
		m.fetches = 0
		if err := g.ReadConfigs(ctx, m); err != nil || m.fetches != 0 {
			t.Errorf("ReadConfigs again = %v after %d fetches, want none", err, m.fetches)
		}
		if got := g.DiffIDs(); !maps.Equal(got, tc.ids) {
			t.Errorf("DiffIDs = %v, want %v", got, tc.ids)
		}
		if got := g.Created(); !got.Equal(tc.created) {
			t.Errorf("Created = %v, want %v", got, tc.created)
		}
	}
}

func walk(t *testing.T, f runtime.Fetcher, root ocispec.Descriptor) *runtime.Graph {
	t.Helper()
	g, err := runtime.Walk(context.Background(), f, runtime.Image{Desc: root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSelectPlatforms(t *testing.T) {
	ctx := context.Background()
	g := newGraph()
	img := runtime.Image{Name: "app:1", Desc: g.index}

	one, err := runtime.SelectPlatforms(ctx, g.m, img, []string{"linux/arm64"})
	if err != nil || one.Desc.Digest != g.arm.Digest || one.Name != "app:1" {
		t.Errorf("SelectPlatforms(arm64) = %v, %v, want the arm64 manifest", one, err)
	}

	for _, root := range []ocispec.Descriptor{g.index, g.list} {
		two, err := runtime.SelectPlatforms(ctx, g.m, runtime.Image{Name: "app:1", Desc: root}, []string{"linux/amd64", "linux/s390x"})
		if err != nil || two.Desc.MediaType != root.MediaType || two.Desc.Digest == root.Digest || two.Graph == nil {
			t.Fatalf("SelectPlatforms(two of %s) = %v, %v, want a new index, with its graph", root.MediaType, two, err)
		}
		// The new index is in memory only: the walk finds it in the graph.
		graph, err := runtime.Walk(ctx, g.m, two, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := graph.Platforms(ctx, g.m)
		if want := []string{"linux/amd64", "linux/s390x"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Platforms(new index) = %v, %v, want %v", got, err, want)
		}
	}

	_, err = runtime.SelectPlatforms(ctx, g.m, img, []string{"windows/amd64"})
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "app:1") ||
		!strings.Contains(err.Error(), "windows/amd64") || !strings.Contains(err.Error(), "linux/arm64/v8") {
		t.Errorf("SelectPlatforms(none) = %v, want an error naming the image, the wanted and the available", err)
	}
	single := runtime.Image{Name: "app:1", Desc: g.amd}
	if _, err := runtime.SelectPlatforms(ctx, g.m, single, []string{"linux/arm64"}); err == nil || !strings.Contains(err.Error(), "linux/amd64") {
		t.Errorf("SelectPlatforms(amd64 manifest, arm64) = %v, want an error listing linux/amd64", err)
	}
	if same, err := runtime.SelectPlatforms(ctx, g.m, single, []string{"linux/amd64"}); err != nil || same.Desc.Digest != single.Desc.Digest {
		t.Errorf("SelectPlatforms(amd64 manifest, amd64) = %v, %v, want it unchanged", same, err)
	}
	if same, err := runtime.SelectPlatforms(ctx, g.m, img, nil); err != nil || same.Desc.Digest != img.Desc.Digest {
		t.Errorf("SelectPlatforms(no want) = %v, %v, want unchanged", same, err)
	}
}

// TestWalk_NodeMediaTypes: a blob where a manifest must be (the root, an
// index's child) is typed from its own bytes: a descriptor with no media
// type is resolved from the blob, and one that names another type than
// the blob is, or none where the blob names none, is refused naming the
// blob. Before, such a child was taken for a leaf and its config and
// layers were never visited, so an image left without them.
func TestWalk_NodeMediaTypes(t *testing.T) {
	g := newGraph()
	bareManifest := g.m.put("", []byte(`{"schemaVersion":2,"config":`+descJSON(g.amdConfig)+`,"layers":[]}`))
	bareIndex := g.m.put("", []byte(`{"schemaVersion":2,"manifests":[`+descJSON(g.amd)+`]}`))
	index := func(kids ...ocispec.Descriptor) ocispec.Descriptor {
		return g.m.put(ocispec.MediaTypeImageIndex, ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: kids})
	}
	for _, tc := range []struct {
		name    string
		root    ocispec.Descriptor
		visits  int    // blobs visited when it walks
		wantErr string // else the error names the blob and says this
	}{
		{"child with no media type", index(retyped(g.amd, "")), 5, ""},
		{"root with no media type", retyped(g.index, ""), 11, ""},
		{"manifest without its own mediaType", index(retyped(bareManifest, ocispec.MediaTypeImageManifest)), 3, ""},
		{"index without its own mediaType", index(retyped(bareIndex, ocispec.MediaTypeImageIndex)), 6, ""},
		{"neither names a type", index(bareManifest), 0, "neither its descriptor nor the blob"},
		{"manifest described as a layer", index(retyped(g.amd, ocispec.MediaTypeImageLayerGzip)), 0, "described as"},
		{"root described as a layer", retyped(g.amd, ocispec.MediaTypeImageLayerGzip), 0, "described as"},
		{"manifest described as an index", index(retyped(g.amd, ocispec.MediaTypeImageIndex)), 0, "described as"},
		{"index described as a manifest", index(retyped(bareIndex, ocispec.MediaTypeImageManifest)), 0, "not shaped as an image manifest"},
		{"manifest described as an index, blob untyped", index(retyped(bareManifest, ocispec.MediaTypeImageIndex)), 0, "has a config"},
		{"an unknown type", index(retyped(bareManifest, "application/x-other")), 0, `"application/x-other" where an image manifest`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			visited := map[digest.Digest]string{}
			_, err := runtime.Walk(context.Background(), g.m, runtime.Image{Desc: tc.root}, func(b runtime.Blob) error {
				d := b.Desc
				visited[d.Digest] = d.MediaType
				if b.Data != nil && !spec.IsIndex(d.MediaType) && !spec.IsManifest(d.MediaType) {
					t.Errorf("Walk gave %s typed %q with data", d.Digest, d.MediaType)
				}
				return nil
			})
			if tc.wantErr == "" {
				if err != nil || len(visited) != tc.visits {
					t.Errorf("Walk = %v after %d blobs, want every one of %d", err, len(visited), tc.visits)
				}
				return
			}
			if !errors.Is(err, spec.ErrCorrupt) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Walk = %v, want ErrCorrupt saying %q", err, tc.wantErr)
			}
		})
	}
}

// TestCollect_LeafThenNode: a blob that one image uses as a layer and
// another needs as its manifest is walked as a manifest for the second,
// so the second image keeps its config and layers.
func TestCollect_LeafThenNode(t *testing.T) {
	g := newGraph()
	carrier := g.m.put(ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: g.amdConfig, Layers: []ocispec.Descriptor{retyped(g.arm, ocispec.MediaTypeImageLayerGzip)}})
	blobs, err := runtime.Collect(context.Background(), g.m, []runtime.Image{{Name: "a", Desc: carrier}, {Name: "b", Desc: g.arm}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[digest.Digest]bool{}
	for _, b := range blobs {
		if got[b.Desc.Digest] {
			t.Errorf("Collect listed %s twice", b.Desc.Digest)
		}
		got[b.Desc.Digest] = true
		if b.Desc.Digest == g.arm.Digest && (b.Data == nil || b.Desc.MediaType != ocispec.MediaTypeImageManifest) {
			t.Errorf("Collect kept the arm64 manifest as a leaf: %+v", b.Desc)
		}
	}
	if !got[digest.FromString("arm")] || len(blobs) != 6 {
		t.Errorf("Collect = %d blobs (arm64 layer %v), want 6 with the arm64 manifest's own layer", len(blobs), got[digest.FromString("arm")])
	}
}

func retyped(d ocispec.Descriptor, mt string) ocispec.Descriptor { d.MediaType = mt; return d }

func descJSON(d ocispec.Descriptor) string {
	d.Platform = nil
	b, _ := json.Marshal(d)
	return string(b)
}

// TestPlatformMatcher: a wanted platform matches as containerd matches
// it: normalised (aarch64 and arm64/v8 are arm64, arm is arm/v7), then
// OS, architecture and variant equal.
func TestPlatformMatcher(t *testing.T) {
	for _, tc := range []struct {
		want string
		have ocispec.Platform
		ok   bool
	}{
		{"linux/arm64", ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{"linux/arm64", ocispec.Platform{OS: "linux", Architecture: "aarch64"}, true},
		{"linux/arm64/v8", ocispec.Platform{OS: "linux", Architecture: "arm64"}, true},
		{"linux/arm", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, true},
		{"linux/arm", ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, false},
		{"linux/amd64", ocispec.Platform{OS: "linux", Architecture: "x86_64"}, true},
		{"linux/amd64", ocispec.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, false},
		{"linux/amd64", ocispec.Platform{OS: "windows", Architecture: "amd64"}, false},
	} {
		m, err := runtime.PlatformMatcher([]string{tc.want})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Match(tc.have); got != tc.ok {
			t.Errorf("PlatformMatcher(%s).Match(%+v) = %v, want %v", tc.want, tc.have, got, tc.ok)
		}
	}
	if _, err := runtime.PlatformMatcher([]string{"linux/amd64", "no/such/platform/here"}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("PlatformMatcher(bad) = %v, want ErrBadInput", err)
	}
}

// TestSelectPlatform: from an index, the manifest a machine of the host
// platform runs and ranks best; none is an error naming the platforms.
func TestSelectPlatform(t *testing.T) {
	ctx := context.Background()
	g := newGraph()
	arm7 := g.arm
	arm7.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	index := func(kids ...ocispec.Descriptor) runtime.Image {
		return runtime.Image{Name: "app:1", Desc: g.m.put(ocispec.MediaTypeImageIndex, ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: kids})}
	}
	arm64 := ocispec.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		img  runtime.Image
		host ocispec.Platform
		want digest.Digest
	}{
		{index(arm7, g.arm, g.amd), arm64, g.arm.Digest},
		{index(arm7, g.amd), arm64, arm7.Digest},
		{index(g.arm, g.amd), ocispec.Platform{OS: "linux", Architecture: "amd64"}, g.amd.Digest},
		{runtime.Image{Name: "app:1", Desc: g.amd}, arm64, g.amd.Digest}, // a single manifest is kept
	} {
		got, err := runtime.SelectPlatform(ctx, g.m, tc.img, tc.host)
		if err != nil || got.Desc.Digest != tc.want || got.Name != "app:1" {
			t.Errorf("SelectPlatform(%s) = %v, %v, want %s", platforms.Format(tc.host), got.Desc.Digest, err, tc.want)
		}
	}
	_, err := runtime.SelectPlatform(ctx, g.m, index(g.amd, g.s390), arm64)
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "linux/s390x") || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("SelectPlatform(no arm64) = %v, want ErrNotFound naming the wanted and available platforms", err)
	}
}
