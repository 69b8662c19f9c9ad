package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/store/delta/deltatest"
)

// planned is what the tests read of `ferry --json save --dry-run`.
type planned struct {
	Images []struct {
		Blobs []struct {
			Digest digest.Digest
			Role   string
			Status string
			Reason string
			Delta  *struct {
				Size       int64
				BytesSaved int64
				Bases      []digest.Digest
				Recipe     struct{ Compression, Encoder string }
			}
		}
	}
	BytesShipped int64
}

// layerPlan runs save --dry-run --json and returns the plan of layer d.
func layerPlan(t *testing.T, home string, d digest.Digest, args ...string) (reason string, isDelta bool, bases []digest.Digest) {
	t.Helper()
	r := must(t, home, append([]string{"--json", "save", "--dry-run"}, args...)...)
	var p planned
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("save --dry-run --json: %v\n%s", err, r.stdout)
	}
	for _, im := range p.Images {
		for _, b := range im.Blobs {
			if b.Digest == d {
				if b.Delta != nil {
					return b.Reason, true, b.Delta.Bases
				}
				return b.Reason, false, nil
			}
		}
	}
	t.Fatalf("save --dry-run --json does not list layer %s:\n%s", d, r.stdout)
	return "", false, nil
}

// deltaTrip is a site that holds v1 of an application (a trip and its
// receipt), and the layout src that holds v1 and v2.
type deltaTrip struct {
	sites
	src        string
	v1, v2     digest.Digest // their layers
	v2bundle   string
	v1Tree     deltatest.Tree
	deltaSaved bool
}

// newDeltaTrip makes v1 (60 files of ~16 KiB) and v2 (3 files changed,
// 2 added, 2 removed, written again: new file times), both by kind, and
// takes v1 to the site with a receipt back.
func newDeltaTrip(t *testing.T, kind string) *deltaTrip {
	t.Helper()
	d := &deltaTrip{sites: newSites(t)}
	d.src = filepath.Join(d.dir, "src")
	d.v1Tree = deltatest.App(1, 60, 16<<10)
	d.v1 = appImage(t, d.src, "v1", d.v1Tree, kind, time.Unix(1e9, 0))
	d.v2 = appImage(t, d.src, "v2", d.v1Tree.Next(2, 3, 2, 2), kind, time.Unix(2e9, 0))
	b := filepath.Join(d.dir, "trip-1.ferry")
	must(t, d.hq, "save", "oci:"+d.src+":v1", "--for", "plant-7", "-o", b)
	must(t, d.site, "load", b)
	must(t, d.hq, "receipt", "apply", filepath.Join(d.dir, "plant-7-receipt.ferry"))
	return d
}

// siteDigest checks that tag at the site is the source's by skopeo, and
// that skopeo copies it out of the site's store.
func (d *deltaTrip) siteDigest(t *testing.T, tag string) {
	t.Helper()
	at := "oci:" + filepath.Join(d.site, "store") + ":" + tag
	want := runtimetest.SkopeoDigest(t, "oci:"+d.src+":"+tag)
	if got := runtimetest.SkopeoDigest(t, at); got != want {
		t.Errorf("%s at the site = %s by skopeo inspect --raw, want %s", tag, got, want)
	}
	out := "oci:" + filepath.Join(t.TempDir(), "copy") + ":" + tag
	runtimetest.Skopeo(t, "copy", at, out)
	if got := runtimetest.SkopeoDigest(t, out); got != want {
		t.Errorf("skopeo copy of %s from the site's store = %s, want %s", tag, got, want)
	}
}

// TestDeltas_Writers: for layers written by umoci (pgzip), Go's gzip and
// klauspost's zstd, a site that holds v1 gets v2's rebuilt layer as a
// delta: the dry run names its base and recipe, the bundle is a fraction
// of the layer, load rebuilds it, and skopeo sees the source's digests.
// A layer written by gzip -n ships whole, and the dry run says why.
func TestDeltas_Writers(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	for _, kind := range []string{byUmoci, deltatest.GoGzip, deltatest.Zstd, byGzipN} {
		t.Run(strings.ReplaceAll(kind, " ", "_"), func(t *testing.T) {
			if kind == byUmoci {
				runtimetest.NeedTool(t, "umoci")
			}
			d := newDeltaTrip(t, kind)
			reason, isDelta, bases := layerPlan(t, d.hq, d.v2, "oci:"+d.src+":v2", "--for", "plant-7")
			b := filepath.Join(d.dir, "trip-2.ferry")
			r := must(t, d.hq, "save", "oci:"+d.src+":v2", "--for", "plant-7", "-o", b)
			layer := fileSize(t, filepath.Join(d.src, "blobs", "sha256", d.v2.Encoded()))
			if kind == byGzipN {
				want := "written by an encoder ferry cannot reproduce: shipped whole"
				if isDelta || !strings.Contains(reason, want) || !strings.Contains(r.stderr, "layer "+string(d.v2)+" "+want) {
					t.Errorf("gzip -n layer: dry run %q (delta %v), save said %q; want %q", reason, isDelta, r.stderr, want)
				}
				if got := fileSize(t, b); got < layer {
					t.Errorf("bundle of %d bytes for a whole layer of %d", got, layer)
				}
			} else {
				if !isDelta || len(bases) != 1 || bases[0] != d.v1 {
					t.Fatalf("dry run of v2's layer: %q, delta %v on %v; want a delta on v1's layer %s", reason, isDelta, bases, d.v1)
				}
				if got := fileSize(t, b); got > layer/5 {
					t.Errorf("bundle of %d bytes for a layer of %d: want a delta, under a fifth", got, layer)
				}
			}
			r = must(t, d.site, "load", b)
			if rebuilt := strings.Contains(r.stdout, "layers rebuilt from deltas 1,"); rebuilt == (kind == byGzipN) {
				t.Errorf("load of a %s layer: %s", kind, r.stdout)
			}
			d.siteDigest(t, "v2")
		})
	}
}

// TestDeltas_RebuiltAndSince: the same files packed again with new file
// times ship as a delta of a few KiB; --since without a site builds
// deltas on the base image's layers; a site that holds nothing, or
// --no-deltas, gets the layer whole, and the dry run says why.
func TestDeltas_RebuiltAndSince(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	s := newSites(t)
	src := filepath.Join(s.dir, "src")
	tree := deltatest.App(3, 60, 16<<10)
	v1 := appImage(t, src, "v1", tree, deltatest.GoGzip, time.Unix(1e9, 0))
	again := appImage(t, src, "v1-again", tree, deltatest.GoGzip, time.Unix(2e9, 0))
	if reason, isDelta, _ := layerPlan(t, s.hq, v1, "oci:"+src+":v1", "--for", "plant-7"); isDelta ||
		!strings.Contains(reason, "no layer the destination holds to build a delta on: shipped whole") {
		t.Errorf("first trip's layer: %q (delta %v), want whole: nothing held", reason, isDelta)
	}
	b := filepath.Join(s.dir, "trip-1.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "--for", "plant-7", "-o", b)
	must(t, s.site, "load", b)
	if _, isDelta, _ := layerPlan(t, s.hq, again, "oci:"+src+":v1-again", "--for", "plant-7", "--no-deltas"); isDelta {
		t.Errorf("save --no-deltas plans a delta")
	}
	r := must(t, s.hq, "save", "oci:"+src+":v1-again", "--since", "v1", "--dry-run")
	for _, want := range []string{"as a delta on 1 base(s) the destination holds", "base " + string(v1), "recipe gzip by go-flate@", "(1 layer(s) as deltas)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("save --dry-run = %s, want %q", r.stdout, want)
		}
	}
	b = filepath.Join(s.dir, "since.ferry")
	r = must(t, s.hq, "--json", "save", "oci:"+src+":v1-again", "--since", "v1", "-o", b)
	if !strings.Contains(r.stdout, `"deltas": 1`) {
		t.Errorf("save --since v1 of the same files packed again = %s, want one delta", r.stdout)
	}
	if got := fileSize(t, b); got > 16<<10 {
		t.Errorf("bundle of the same files with new times = %d bytes, want a few KiB", got)
	}
	r = must(t, s.site, "verify", "--rebuild-deltas", b)
	if !strings.Contains(r.stdout, "layers rebuilt from deltas 1,") {
		t.Errorf("verify --rebuild-deltas = %s, want one layer rebuilt", r.stdout)
	}
	r = must(t, s.hq, "inspect", b)
	if !strings.Contains(r.stdout, "as a delta of") || !strings.Contains(r.stdout, string(v1)) {
		t.Errorf("inspect = %s, want the delta and its base %s", r.stdout, v1)
	}
	into := filepath.Join(s.dir, "into")
	must(t, s.site, "load", b, "--into", "oci:"+into)
	(&deltaTrip{sites: s, src: src}).siteDigest(t, "v1-again")
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+into+":v1-again"), runtimetest.SkopeoDigest(t, "oci:"+src+":v1-again"); got != want {
		t.Errorf("v1-again written by load --into oci: = %s, want %s", got, want)
	}
}

// TestDeltas_Damaged: a delta entry with a flipped byte, and a delta
// whose base is damaged in the site's store, each cost that layer and
// the image that needs it only, named; nothing unverified enters the
// store; the receipt does not list the layer, and once applied the next
// trip ships it whole and the site loads it.
func TestDeltas_Damaged(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	for _, damage := range []string{"entry", "base"} {
		t.Run(damage, func(t *testing.T) {
			d := newDeltaTrip(t, deltatest.GoGzip)
			other := appImage(t, d.src, "other", deltatest.App(9, 5, 4<<10), deltatest.GoGzip, time.Unix(1e9, 0))
			b := filepath.Join(d.dir, "trip-2.ferry")
			must(t, d.hq, "save", "oci:"+d.src+":v2", "oci:"+d.src+":other", "--for", "plant-7", "--compression", "none", "-o", b)
			want := "base layer " + string(d.v1)
			if damage == "entry" {
				runtimetest.FlipTarEntry(t, b, "deltas/sha256/"+d.v2.Encoded(), 100)
				want = "the delta entry is damaged"
				if r := run(t, d.site, "verify", b); r.code != 1 || !strings.Contains(r.stdout, "deltas/sha256/"+d.v2.Encoded()) {
					t.Errorf("verify of a flipped delta = %s, want exit 1 naming its entry", r)
				}
			} else {
				damageBlob(t, d.site, string(d.v1))
			}
			r := run(t, d.site, "load", b)
			if r.code != 1 || !strings.Contains(r.stdout, "layer "+string(d.v2)+" not rebuilt from its delta: "+want) ||
				!strings.Contains(r.stdout, "image v2 ") || !strings.Contains(r.stdout, "LEFT OUT") ||
				!strings.Contains(r.stdout, "image other "+string(runtimetest.SkopeoDigest(t, "oci:"+d.src+":other"))+" ok") {
				t.Fatalf("load with a %s damaged: %s\nwant exit 1, the layer named (%q), v2 left out, other ok", damage, r, want)
			}
			if _, err := os.Stat(filepath.Join(d.site, "store", "blobs", "sha256", d.v2.Encoded())); err == nil {
				t.Errorf("the layer of a failed delta is in the site's store")
			}
			if _, err := os.Stat(filepath.Join(d.site, "store", "blobs", "sha256", other.Encoded())); err != nil {
				t.Errorf("the other image's layer is not in the store: %v", err)
			}
			r = must(t, d.hq, "receipt", "apply", filepath.Join(d.dir, "plant-7-receipt.ferry"))
			if !strings.Contains(r.stdout, "layer "+string(d.v2)+": shipped as a delta, not held: its next trip to plant-7 is whole") {
				t.Errorf("receipt apply = %s, want it to say v2's layer travels whole next", r.stdout)
			}
			if damage == "base" {
				must(t, d.site, "check", "--read-data", "--repair")
			}
			reason, isDelta, _ := layerPlan(t, d.hq, d.v2, "oci:"+d.src+":v2", "--for", "plant-7")
			if isDelta || !strings.Contains(reason, "did not rebuild at the site: shipped whole") {
				t.Errorf("next trip plans v2's layer: %q (delta %v), want whole: its delta failed there", reason, isDelta)
			}
			b = filepath.Join(d.dir, "trip-3.ferry")
			must(t, d.hq, "save", "oci:"+d.src+":v2", "--for", "plant-7", "-o", b)
			must(t, d.site, "load", b)
			d.siteDigest(t, "v2")
		})
	}
}

// TestDeltas_Registry: images saved from a registry, whose v1 layer the
// home's store never held: save reads it from the registry (the same
// repository) to build v2's delta, and load writes v2 into another
// registry with its digest.
func TestDeltas_Registry(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	s := newSites(t)
	src := filepath.Join(s.dir, "src")
	tree := deltatest.App(4, 60, 16<<10)
	appImage(t, src, "v1", tree, deltatest.GoGzip, time.Unix(1e9, 0))
	v2 := appImage(t, src, "v2", tree.Next(5, 3, 2, 2), deltatest.GoGzip, time.Unix(2e9, 0))
	a := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	b := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	pushTo(t, src, "v1", a.Host+"/team/app:v1")
	pushTo(t, src, "v2", a.Host+"/team/app:v2")
	for i, tag := range []string{"v1", "v2"} {
		bundle := filepath.Join(s.dir, tag+".ferry")
		must(t, s.hq, "save", "docker://"+a.Host+"/team/app:"+tag, "--for", "plant-7", "-o", bundle)
		r := must(t, s.site, "load", bundle, "--into", "docker://"+b.Host+"/site")
		must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "plant-7-receipt.ferry"))
		if rebuilt := strings.Contains(r.stdout, "layers rebuilt from deltas 1,"); rebuilt != (i == 1) {
			t.Errorf("load of %s: %s; want a layer rebuilt from a delta in v2 only", tag, r.stdout)
		}
		raw := runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+b.Host+"/site/team/app:"+tag)
		if got, want := digest.FromBytes(raw), runtimetest.SkopeoDigest(t, "oci:"+src+":"+tag); got != want {
			t.Errorf("%s in the site's registry = %s, want %s", tag, got, want)
		}
	}
	if n := fileSize(t, filepath.Join(s.dir, "v2.ferry")); n > fileSize(t, filepath.Join(src, "blobs", "sha256", v2.Encoded()))/5 {
		t.Errorf("v2's bundle = %d bytes: want its layer as a delta", n)
	}
}
