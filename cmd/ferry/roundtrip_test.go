package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/store"
	"github.com/opencontainers/go-digest"
)

// umociImages makes two images with umoci (not ferry) in one layout.
func umociImages(t *testing.T) string {
	t.Helper()
	runtimetest.NeedTool(t, "umoci")
	dir := filepath.Join(t.TempDir(), "src")
	runtimetest.UmociImage(t, dir, "v1", 1, 2, 4096)
	runtimetest.UmociImage(t, dir, "v2", 2, 3, 8192)
	return dir
}

func TestRoundTrip_UmociThroughEveryTarget(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	bundle := filepath.Join(s.dir, "trip.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "oci:"+src+":v2", "--for", "plant-7", "-o", bundle)
	must(t, s.site, "verify", bundle)

	ociOut := filepath.Join(s.dir, "out")
	archOut := filepath.Join(s.dir, "out.tar")
	dockOut := filepath.Join(s.dir, "docker.tar")
	must(t, s.site, "load", bundle, "--into", "oci:"+ociOut, "--into", "oci-archive:"+archOut)
	// v1 is only a tag: a docker archive needs a repository for it.
	must(t, s.site, "copy", "v1", "docker-archive:"+dockOut, "--repo", "example.com/team/app")

	for _, tag := range []string{"v1", "v2"} {
		want := runtimetest.SkopeoDigest(t, "oci:"+src+":"+tag)
		for _, ref := range []string{"oci:" + ociOut + ":" + tag, "oci-archive:" + archOut + ":" + tag, "oci:" + filepath.Join(s.site, "store") + ":" + tag} {
			if got := runtimetest.SkopeoDigest(t, ref); got != want {
				t.Errorf("skopeo inspect --raw %s = %s, want %s (as made by umoci)", ref, got, want)
			}
		}
		// skopeo copy reads the loaded image whole.
		runtimetest.Skopeo(t, "copy", "oci:"+ociOut+":"+tag, "oci:"+filepath.Join(s.dir, "copied")+":"+tag)
	}
	// The docker-archive output is read by skopeo's docker-archive
	// transport, and the image ID (config digest) is kept.
	out := runtimetest.Skopeo(t, "inspect", "--config", "--raw", "docker-archive:"+dockOut+":example.com/team/app:v1")
	wantCfg := configDigest(t, src, "v1")
	if got := sha(out); got != wantCfg {
		t.Errorf("config of docker-archive output = %s, want %s", got, wantCfg)
	}
	runtimetest.Skopeo(t, "copy", "docker-archive:"+dockOut, "oci:"+filepath.Join(s.dir, "fromdocker")+":v1")

	r := must(t, s.site, "--json", "ls")
	var imgs []struct{ Name, Digest string }
	if err := json.Unmarshal([]byte(r.stdout), &imgs); err != nil || len(imgs) != 2 {
		t.Fatalf("ls --json = %s (%v), want 2 images", r.stdout, err)
	}
	must(t, s.site, "check", "--read-data")
	checkDiffIDs(t, s.site, src, "v2")
}

// checkDiffIDs: the site's catalog knows each layer of the image by its
// DiffID too, as its config lists them.
func checkDiffIDs(t *testing.T, home, layout, tag string) {
	t.Helper()
	var man struct{ Layers []struct{ Digest string } }
	manifestOf(t, layout, tag, &man)
	var cfg struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	readJSON(t, filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(configDigest(t, layout, tag), "sha256:")), &cfg)
	h, err := store.OpenHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if len(cfg.RootFS.DiffIDs) != len(man.Layers) || len(man.Layers) == 0 {
		t.Fatalf("%s: %d diff_ids for %d layers", tag, len(cfg.RootFS.DiffIDs), len(man.Layers))
	}
	for i, id := range cfg.RootFS.DiffIDs {
		got, err := h.Catalog.BlobByDiffID(id)
		if err != nil || string(got) != man.Layers[i].Digest {
			t.Errorf("BlobByDiffID(%s) = %s, %v, want %s", id, got, err, man.Layers[i].Digest)
		}
	}
}

func TestSave_DefaultNameAndDeterminism(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	out := filepath.Join(s.dir, "o")
	os.MkdirAll(out, 0o755)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	// The same home twice (same key, same sequence): a copy of hq.
	twin := filepath.Join(s.dir, "twin")
	if err := os.CopyFS(twin, os.DirFS(s.hq)); err != nil {
		t.Fatal(err)
	}
	must(t, s.hq, "save", "oci:"+src+":v1", "--out-dir", out)
	first, err := os.ReadFile(filepath.Join(out, "v1.ferry"))
	if err != nil {
		entries, _ := os.ReadDir(out)
		t.Fatalf("default bundle name: %v (dir holds %v)", err, entries)
	}
	must(t, twin, "save", "oci:"+src+":v1", "-o", filepath.Join(out, "again.ferry"))
	second, _ := os.ReadFile(filepath.Join(out, "again.ferry"))
	if string(first) != string(second) {
		t.Errorf("two saves of the same image with SOURCE_DATE_EPOCH differ (%d vs %d bytes)", len(first), len(second))
	}
	for _, bad := range []string{"abc", "-5", "1.5"} {
		t.Setenv("SOURCE_DATE_EPOCH", bad)
		r := run(t, s.hq, "save", "oci:"+src+":v1", "-o", filepath.Join(out, "bad.ferry"))
		if r.code != 1 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "(such as 1700000000), or unset it") {
			t.Errorf("save with SOURCE_DATE_EPOCH=%s = %s, want exit 1 saying what it wants", bad, r)
		}
	}
}

func TestSave_DryRunWritesNothing(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	r := must(t, s.hq, "--json", "save", "oci:"+src+":v1", "--dry-run", "--out-dir", s.dir)
	if !strings.Contains(r.stdout, `"bytesShipped"`) {
		t.Errorf("save --dry-run --json = %s, want a plan with bytes", r)
	}
	matches, _ := filepath.Glob(filepath.Join(s.dir, "*.ferry"))
	if len(matches) != 0 {
		t.Errorf("save --dry-run wrote %v", matches)
	}
}

func TestVerify_NoHomeNeedsKey(t *testing.T) {
	src := umociImages(t)
	s := newSites(t)
	bundle := filepath.Join(s.dir, "b.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "-o", bundle)
	nohome := filepath.Join(s.dir, "nohome")
	if r := run(t, nohome, "verify", bundle); r.code != 1 {
		t.Errorf("verify with no home and no --key = %s, want exit 1", r)
	}
	must(t, nohome, "verify", bundle, "--key", filepath.Join(s.hq, "keys", "id_ed25519.pub"))
	if r := run(t, nohome, "verify", bundle, "--key", filepath.Join(s.site, "keys", "id_ed25519.pub")); r.code != 1 {
		t.Errorf("verify with the wrong --key = %s, want exit 1", r)
	}
}
