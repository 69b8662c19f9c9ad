package trip

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/store"
)

// BenchmarkPlan_ForSite is issue 3's planning figure: the plan of
// `save --for SITE --dry-run` for 50 images (a manifest, a config and 5
// layers each, half of the layers held by the site) against a catalog of
// 1,000,000 inventory rows over 100 sites. It times walking the 50
// manifests from an OCI layout, the inventory query and the omission.
//
//	go test ./store/trip -run '^$' -bench BenchmarkPlan_ForSite -benchtime 20x
func BenchmarkPlan_ForSite(b *testing.B) {
	const sites, perSite, images, layers = 100, 10_000, 50, 5
	home := benchHome(b, sites, perSite)
	dir := benchLayout(b, images, layers, perSite)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		src, err := ocilayout.FromPath(dir, "")
		if err != nil {
			b.Fatal(err)
		}
		imgs, err := src.Resolve(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var inputs []Input
		for _, im := range imgs {
			inputs = append(inputs, Input{Image: im, From: src})
		}
		p, err := MakePlan(ctx, inputs, nil)
		if err != nil {
			b.Fatal(err)
		}
		held, err := home.Catalog.Holdings("site-000", p.Layers())
		if err != nil {
			b.Fatal(err)
		}
		p.Omit(OmitOptions{Held: held})
		if len(held) != images*layers/2 || p.Saved == 0 {
			b.Fatalf("held %d of %d layers", len(held), images*layers)
		}
		src.Close()
	}
}

// layerDigest is the i-th layer digest; site s holds s*perSite … .
func layerDigest(i int) digest.Digest {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return digest.FromBytes(b[:])
}

// benchHome is a home whose catalog lists sites × perSite shipped blobs,
// written one transaction per site.
func benchHome(b *testing.B, sites, perSite int) *store.Home {
	b.Helper()
	h, err := store.Init(filepath.Join(b.TempDir(), "home"), "hq")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	ctx := context.Background()
	for s := range sites {
		name := fmt.Sprintf("site-%03d", s)
		if err := h.Catalog.PutSite(store.Site{Name: name, Key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl " + name}); err != nil {
			b.Fatal(err)
		}
		rows := make([]store.Holding, perSite)
		for i := range rows {
			rows[i] = store.Holding{Digest: layerDigest(s*perSite + i), Size: 1 << 20, State: store.StateShipped}
		}
		bundle := &store.BundleRecord{ID: fmt.Sprintf("b%d", s), Direction: store.DirectionMade, From: "hq", To: name, Sequence: 1}
		if err := h.Catalog.RecordShipment(ctx, name, bundle, rows); err != nil {
			b.Fatal(err)
		}
	}
	return h
}

// benchLayout writes an OCI layout of n images with the given number of
// layers each; only manifests and configs exist (planning reads nothing
// else). Every other layer is one site-000 holds.
func benchLayout(b *testing.B, n, layers, perSite int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "layout")
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	put := func(v any) ocispec.Descriptor {
		data, _ := json.Marshal(v)
		d := digest.FromBytes(data)
		os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), data, 0o644)
		return ocispec.Descriptor{Digest: d, Size: int64(len(data))}
	}
	ix := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	ix.SchemaVersion = 2
	for i := range n {
		cfg := put(map[string]any{"os": "linux", "architecture": "amd64", "created": time.Unix(int64(i), 0).UTC()})
		cfg.MediaType = ocispec.MediaTypeImageConfig
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg}
		m.SchemaVersion = 2
		for l := range layers {
			d := layerDigest(perSite*1000 + i*layers + l) // nobody holds it
			if l%2 == 0 && (i*layers+l)/2 < perSite {
				d = layerDigest((i*layers + l) / 2) // site-000 holds it
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: d, Size: 1 << 20})
		}
		md := put(m)
		md.MediaType = ocispec.MediaTypeImageManifest
		md.Annotations = map[string]string{ocispec.AnnotationRefName: fmt.Sprintf("img%d", i)}
		ix.Manifests = append(ix.Manifests, md)
	}
	data, _ := json.Marshal(ix)
	os.WriteFile(filepath.Join(dir, "index.json"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir
}

var _ runtime.Fetcher = (*Plan)(nil)
