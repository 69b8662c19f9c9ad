package trip

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// treeImage adds to b an image whose one layer is tree's tar, written by
// kind with file times mtime, and returns the image and its layer.
func (b *blobSet) treeImage(t testing.TB, tree deltatest.Tree, kind string, mtime time.Time) (runtime.Image, digest.Digest) {
	t.Helper()
	var tarball, layer bytes.Buffer
	if err := tree.WriteTar(&tarball, mtime); err != nil {
		t.Fatal(err)
	}
	zw, err := deltatest.Compress(&layer, kind)
	if err == nil {
		_, err = zw.Write(tarball.Bytes())
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	l := b.put(ocispec.MediaTypeImageLayerGzip, layer.Bytes())
	cfg := b.put(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []digest.Digest{digest.FromBytes(tarball.Bytes())}}})
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{l}}
	m.SchemaVersion = 2
	return runtime.Image{Desc: b.put(ocispec.MediaTypeImageManifest, m)}, l.Digest
}

// deltaHomes is a sender, hq, and a site, plant-7, each with its home.
type deltaHomes struct {
	hq, site *store.Home
	s        ssh.Signer
	src      *blobSet
	dir      string
	seq      uint64
	// edit, if set, changes the next trip's plan before it is saved.
	edit func(p *Plan)
}

func newDeltaHomes(t *testing.T) *deltaHomes {
	t.Helper()
	d := &deltaHomes{s: signer(t, 1), src: newBlobSet(), dir: t.TempDir()}
	d.site = siteHome(t, d.s)
	hq, err := store.Init(filepath.Join(d.dir, "hq"), "hq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hq.Close() })
	site := signer(t, 2)
	if err := hq.Catalog.PutSite(store.Site{Name: "plant-7", Key: string(ssh.MarshalAuthorizedKey(site.PublicKey())),
		Fingerprint: format.Fingerprint(site.PublicKey())}); err != nil {
		t.Fatal(err)
	}
	d.hq = hq
	return d
}

// trip saves images for plant-7 as save --for does (deltas unless
// whole), records it in hq's shipping log, and returns the bundle's path
// and its plan's dry run.
func (d *deltaHomes) trip(t *testing.T, whole bool, images ...runtime.Image) (string, DryRun) {
	t.Helper()
	ctx := context.Background()
	var inputs []Input
	for i, im := range images {
		im.Name = "app:" + string(rune('a'+i))
		inputs = append(inputs, Input{Image: im, From: d.src})
	}
	p, err := MakePlan(ctx, inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	held, err := d.hq.Catalog.Holdings("plant-7", p.Layers())
	if err != nil {
		t.Fatal(err)
	}
	p.Omit(OmitOptions{Held: held})
	if !whole {
		if err := p.Deltas(ctx, DeltaOptions{Home: d.hq, Site: "plant-7"}); err != nil {
			t.Fatalf("Deltas = %v", err)
		}
	}
	if d.edit != nil {
		d.edit(p)
		d.edit = nil
	}
	d.seq++
	path := filepath.Join(d.dir, "trip-"+string(rune('0'+d.seq))+".ferry")
	res, err := Save(ctx, p, SaveOptions{Path: path, Signer: d.s, From: "hq", To: "plant-7", Sequence: d.seq, Compression: "none"})
	if err != nil {
		t.Fatalf("Save = %v", err)
	}
	if err := RecordMade(ctx, d.hq.Catalog, res); err != nil {
		t.Fatal(err)
	}
	return path, p.DryRun("plant-7")
}

// planOf is the dry run's line for blob dg.
func planOf(r DryRun, dg digest.Digest) DryRunBlob {
	for _, im := range r.Images {
		for _, b := range im.Blobs {
			if b.Digest == dg {
				return b
			}
		}
	}
	return DryRunBlob{}
}

// deltaFaults are the faults of rep that are *DeltaError, by layer.
func deltaFaults(t *testing.T, h *store.Home, path string) (*Report, map[digest.Digest]string) {
	t.Helper()
	check := CheckOptions{Trust: TrustCatalog(h.Catalog)}
	rep, err := Load(context.Background(), h, path, LoadOptions{CheckOptions: check})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	out := map[digest.Digest]string{}
	for _, f := range rep.Faults {
		out[f.Digest] = f.What
	}
	return rep, out
}

// TestDeltas_Trip: v2 of a layer the site holds in v1 ships as a delta on
// it and Load rebuilds it; an unrelated image in the same bundle ships
// whole.
func TestDeltas_Trip(t *testing.T) {
	d := newDeltaHomes(t)
	v1Tree := deltatest.App(1, 40, 8<<10)
	v1, v1Layer := d.src.treeImage(t, v1Tree, deltatest.KlauspostGzip, time.Unix(1e9, 0))
	path, _ := d.trip(t, false, v1)
	if _, loaded := verifyAndLoad(t, d.site, path); !loaded.OK() || loaded.Rebuilt != 0 {
		t.Fatalf("trip 1: %+v", loaded)
	}
	v2, v2Layer := d.src.treeImage(t, v1Tree.Next(2, 2, 1, 1), deltatest.KlauspostGzip, time.Unix(2e9, 0))
	other, otherLayer := d.src.treeImage(t, deltatest.App(7, 3, 1000), deltatest.GoGzip, time.Unix(1e9, 0))
	path, plan := d.trip(t, false, v2, other)
	if b := planOf(plan, v2Layer); b.Delta == nil || len(b.Delta.Bases) != 1 || b.Delta.Bases[0] != v1Layer || b.Delta.Saved <= 0 {
		t.Errorf("v2's layer in the plan = %+v, want a delta on v1's layer %s", b, v1Layer)
	}
	if b := planOf(plan, otherLayer); b.Delta != nil || !strings.HasSuffix(b.Reason, "shipped whole") {
		t.Errorf("an unrelated layer in the plan = %+v, want whole, with the reason", b)
	}
	check := CheckOptions{Trust: TrustCatalog(d.site.Catalog), RebuildDeltas: true}
	if rep, err := Verify(context.Background(), path, check, Admission{}, d.site); err != nil || !rep.OK() || rep.Rebuilt != 1 {
		t.Errorf("Verify with RebuildDeltas = %+v, %v; want OK, one layer rebuilt", rep, err)
	}
	verified, loaded := verifyAndLoad(t, d.site, path)
	if !verified.OK() || !loaded.OK() || loaded.Rebuilt != 1 {
		t.Fatalf("trip 2: verify %+v, load %+v; want both OK, one layer rebuilt", verified.Faults, loaded)
	}
	if n, err := d.site.Store.Stat(v2Layer); err != nil || n != int64(len(d.src.Blobs[v2Layer])) {
		t.Errorf("v2's layer in the site's store: %d bytes, %v", n, err)
	}
	mustCheck(t, d.site)
}

// secondTrip takes v1 of an application to the site, then saves for it
// v2 (2 files edited, 1 added, 1 removed), app:a, and an unrelated image,
// app:b, with edit (if set) applied to the plan. It returns that bundle,
// the layers of v1 and v2, and v2.
func (d *deltaHomes) secondTrip(t *testing.T, edit func(p *Plan)) (string, digest.Digest, digest.Digest, runtime.Image) {
	t.Helper()
	v1Tree := deltatest.App(1, 40, 8<<10)
	v1, v1Layer := d.src.treeImage(t, v1Tree, deltatest.GoGzip, time.Unix(1e9, 0))
	path, _ := d.trip(t, false, v1)
	verifyAndLoad(t, d.site, path)
	v2, v2Layer := d.src.treeImage(t, v1Tree.Next(2, 2, 1, 1), deltatest.GoGzip, time.Unix(2e9, 0))
	other, _ := d.src.treeImage(t, deltatest.App(7, 3, 1000), deltatest.GoGzip, time.Unix(1e9, 0))
	d.edit = edit
	path, _ = d.trip(t, false, v2, other)
	return path, v1Layer, v2Layer, v2
}

// TestDeltas_Faults: a flipped byte in a delta entry and a base damaged in
// the site's store are each a *DeltaError that costs that layer and its
// image only; the receipt's account makes the next trip ship it whole.
func TestDeltas_Faults(t *testing.T) {
	for _, damage := range []string{"entry", "base"} {
		t.Run(damage, func(t *testing.T) {
			d := newDeltaHomes(t)
			path, v1Layer, v2Layer, v2 := d.secondTrip(t, nil)
			if damage == "entry" {
				runtimetest.FlipTarEntry(t, path, spec.DeltaPrefix+v2Layer.Encoded(), 100)
			} else {
				damageStored(t, d.site, v1Layer)
			}
			check := CheckOptions{Trust: TrustCatalog(d.site.Catalog), RebuildDeltas: true}
			if rep, err := Verify(context.Background(), path, check, Admission{}, d.site); err != nil || rep.OK() || len(rep.Faults) != 1 || rep.Faults[0].Digest != v2Layer {
				t.Errorf("Verify with RebuildDeltas = %+v, %v; want one fault, of v2's layer", rep, err)
			}
			rep, faults := deltaFaults(t, d.site, path)
			if what, ok := faults[v2Layer]; !ok || len(faults) != 1 || !strings.Contains(what, "not rebuilt from its delta") {
				t.Fatalf("Load faults = %v, want one: v2's layer not rebuilt", faults)
			}
			if damage == "base" && !strings.Contains(faults[v2Layer], "base layer "+string(v1Layer)) {
				t.Errorf("fault = %s, want the damaged base named", faults[v2Layer])
			}
			if st := statuses(rep); st["app:a"] || !st["app:b"] {
				t.Errorf("images after the fault = %v, want app:a (v2) left out and app:b loaded", st)
			}
			if _, err := d.site.Store.Stat(v2Layer); err == nil {
				t.Errorf("the layer of a failed delta is in the store")
			}
			applyReceipt(t, d)
			path, plan := d.trip(t, false, v2)
			if b := planOf(plan, v2Layer); b.Delta != nil || !strings.Contains(b.Reason, "did not rebuild at the site: shipped whole") {
				t.Errorf("next trip's plan of v2's layer = %+v, want whole: its delta failed there", b)
			}
			if _, loaded := verifyAndLoad(t, d.site, path); !loaded.OK() {
				t.Errorf("the next trip's load: %+v", loaded.Faults)
			}
		})
	}
}

// damageStored flips a byte of blob d in h's store, keeping its size.
func damageStored(t *testing.T, h *store.Home, d digest.Digest) {
	t.Helper()
	p, err := h.Store.BlobFile(d)
	if err != nil {
		t.Fatal(err)
	}
	runtimetest.DamageFile(t, p)
}

// applyReceipt carries the site's receipt back to hq.
func applyReceipt(t *testing.T, d *deltaHomes) {
	t.Helper()
	ctx := context.Background()
	rc, err := CreateReceipt(ctx, d.site, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(d.dir, "receipt.ferry")
	if err := WriteReceiptFile(path, rc, signer(t, 2)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ApplyReceipt(ctx, d.hq, path); err != nil {
		t.Fatalf("ApplyReceipt = %v", err)
	}
}

// TestDeltas_UnknownRecipe: a delta whose recipe names an encoder this
// ferry does not have is refused by Verify (with a home) and by Load as a
// fault of that layer only, saying that this ferry cannot reproduce it.
func TestDeltas_UnknownRecipe(t *testing.T) {
	d := newDeltaHomes(t)
	path, _, v2Layer, _ := d.secondTrip(t, func(p *Plan) {
		for i := range p.Blobs {
			if p.Blobs[i].Delta != nil {
				p.Blobs[i].Delta.Recipe.Encoder = "go-flate@go9.99"
			}
		}
	})
	check := CheckOptions{Trust: TrustCatalog(d.site.Catalog)}
	rep, err := Verify(context.Background(), path, check, Admission{}, d.site)
	if err != nil || len(rep.Faults) != 1 || rep.Faults[0].Digest != v2Layer || !strings.Contains(rep.Faults[0].What, "cannot reproduce") {
		t.Errorf("Verify of a delta with an unknown encoder = %+v, %v; want one fault of v2's layer: cannot reproduce", rep, err)
	}
	rep, faults := deltaFaults(t, d.site, path)
	if len(faults) != 1 || !strings.Contains(faults[v2Layer], "cannot reproduce") {
		t.Errorf("Load faults = %v, want v2's layer: cannot reproduce", faults)
	}
	if st := statuses(rep); st["app:a"] || !st["app:b"] {
		t.Errorf("images = %v, want app:a (v2) left out and app:b loaded", st)
	}
	mustCheck(t, d.site)
}
