package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/opencontainers/go-digest"
)

// pushTo copies oci:layout:tag into a registry with skopeo (not ferry).
func pushTo(t *testing.T, layout, tag, dest string) {
	t.Helper()
	runtimetest.Skopeo(t, "copy", "--dest-tls-verify=false", "oci:"+layout+":"+tag, "docker://"+dest)
}

// TestRegistry_RoundTrip: registry → bundle → another registry keeps the
// manifest digest (by skopeo), and skopeo pulls the image from there.
func TestRegistry_RoundTrip(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	a := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	b := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushTo(t, src, "v1", a.Host+"/team/app:v1")
	s := newSites(t)
	bundle := filepath.Join(s.dir, "reg.ferry")
	must(t, s.hq, "save", "docker://"+a.Host+"/team/app:v1", "-o", bundle)
	must(t, s.site, "load", bundle, "--into", "docker://"+b.Host+"/site")
	want := runtimetest.SkopeoDigest(t, "oci:"+src+":v1")
	for _, ref := range []string{"docker://" + a.Host + "/team/app:v1", "docker://" + b.Host + "/site/team/app:v1"} {
		raw := runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", ref)
		if got := digest.FromBytes(raw); got != want {
			t.Errorf("skopeo inspect --raw %s = %s, want %s", ref, got, want)
		}
	}
	runtimetest.Skopeo(t, "copy", "--src-tls-verify=false", "docker://"+b.Host+"/site/team/app:v1", "oci:"+filepath.Join(s.dir, "pulled")+":v1")
	// A bare name the store lacks is pulled from its registry.
	r := must(t, s.hq, "save", a.Host+"/team/app:v1", "-o", filepath.Join(s.dir, "bare.ferry"))
	if !strings.Contains(r.stderr, "pulling it from its registry") {
		t.Errorf("save of a bare name the store lacks = %s, want it to say it pulls", r)
	}
	// An unknown repository is named, with its registry.
	r = run(t, s.hq, "save", "docker://"+a.Host+"/team/nosuch:v1", "-o", filepath.Join(s.dir, "x.ferry"))
	if r.code != 1 || !strings.Contains(r.stderr, a.Host) || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("save of an unknown repository = %s, want exit 1 naming registry and image", r)
	}
}

// TestRegistry_IncrementalSaveSkipsHeldLayers: a save for a site that
// holds the base layer downloads no byte of it with --no-deltas (the
// registry's access log counts blob GETs); by default a delta reads a base
// of the same repository that the home's store lacks from the registry.
func TestRegistry_IncrementalSaveSkipsHeldLayers(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src, _ := chain(t, 2, 64<<10)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushTo(t, src, "v1", reg.Host+"/team/app:v1")
	pushTo(t, src, "v2", reg.Host+"/team/app:v2")
	s := newSites(t)
	one := filepath.Join(s.dir, "1.ferry")
	must(t, s.hq, "save", "docker://"+reg.Host+"/team/app:v1", "--for", "plant-7", "-o", one)
	must(t, s.site, "load", one)
	must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "plant-7-receipt.ferry"))

	var man struct {
		Layers []struct{ Digest digest.Digest }
	}
	json.Unmarshal(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/team/app:v1"), &man)
	base := man.Layers[0].Digest
	before := reg.BlobGets(t, base)
	if before == 0 {
		t.Fatalf("the first save did not fetch the base layer %s at all: is the access log read right?", base)
	}
	two := filepath.Join(s.dir, "2.ferry")
	must(t, s.hq, "save", "docker://"+reg.Host+"/team/app:v2", "--for", "plant-7", "--no-deltas", "-o", two)
	if after := reg.BlobGets(t, base); after != before {
		t.Errorf("the incremental save fetched the held base layer %s (%d GETs before, %d after)", base, before, after)
	}
	must(t, s.site, "load", two)
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+filepath.Join(s.site, "store")+":"+reg.Host+"/team/app:v2"), runtimetest.SkopeoDigest(t, "oci:"+src+":v2"); got != want {
		t.Errorf("v2 at the site = %s, want %s", got, want)
	}
}

// TestRegistry_LoadDamaged: a load into a registry sends blobs while it
// verifies the bundle, yet tags only the complete images: with one layer
// of v1 scratched, v2 is in the registry with its digest and v1 is not
// (its manifest never put, though its intact blobs may have been sent).
func TestRegistry_LoadDamaged(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	s, good := goodBundle(t)
	es := readEntries(t, good)
	i := entryIndex(t, es, layersOf(t, es, "v1")[0])
	es[i].data[0] ^= 0xff
	bad := filepath.Join(s.dir, "scratched.ferry")
	writeEntries(t, bad, es)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	if r := run(t, s.site, "load", bad, "--into", "docker://"+reg.Host+"/site"); r.code != 1 || !strings.Contains(r.stderr+r.stdout, "v1") {
		t.Fatalf("load of a scratched bundle into a registry = %s, want exit 1 naming v1", r)
	}
	src := filepath.Join(goodDir, "src")
	if got, want := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/site:v2")),
		runtimetest.SkopeoDigest(t, "oci:"+src+":v2"); got != want {
		t.Errorf("docker://%s/site:v2 = %s, want %s", reg.Host, got, want)
	}
	log, err := os.ReadFile(reg.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), `"PUT /v2/site/manifests/v1 `); n != 0 {
		t.Errorf("the damaged image v1 was tagged (%d manifest PUTs)", n)
	}
}

// TestRegistry_SaveRefusesOtherBytes: a registry that serves a layer's
// bytes changed gets no bundle written: save exits 1 naming the layer.
// When it changes them on one connection only, which it cuts, and serves
// them right when asked again, the bundle holds the right bytes.
func TestRegistry_SaveRefusesOtherBytes(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	runtimetest.NeedTool(t, "umoci")
	src := filepath.Join(t.TempDir(), "src")
	runtimetest.UmociImage(t, src, "v1", 3, 1, 17<<20) // over 16 MiB: read ahead as it arrives
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushTo(t, src, "v1", reg.Host+"/team/app:v1")
	var man struct {
		Layers []struct {
			Digest digest.Digest
			Size   int64
		}
	}
	manifestOf(t, src, "v1", &man)
	layer := man.Layers[0]
	s := newSites(t)
	out := filepath.Join(s.dir, "bad.ferry")
	proxy := runtimetest.StartCutProxy(t, reg.Host, layer.Digest, layer.Size, 1000)
	proxy.Garble = true
	r := run(t, s.hq, "save", "docker://"+proxy.Host+"/team/app:v1", "-o", out)
	if r.code != 1 || !strings.Contains(r.stderr, string(layer.Digest)) {
		t.Errorf("save from a registry serving other bytes = %s, want exit 1 naming %s", r, layer.Digest)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("save from a registry serving other bytes wrote a bundle")
	}

	proxy = runtimetest.StartCutProxy(t, reg.Host, layer.Digest, layer.Size/2, 1)
	proxy.Garble = true
	if r := run(t, s.hq, "save", "docker://"+proxy.Host+"/team/app:v1", "-o", out); r.code == 0 {
		must(t, s.site, "verify", out) // every blob hashes to what the index lists
	} else if !strings.Contains(r.stderr, string(layer.Digest)) {
		t.Errorf("save through a registry that garbled and cut one connection = %s, want success or exit 1 naming %s", r, layer.Digest)
	}
}
