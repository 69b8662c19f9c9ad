package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestNames_SameTagTwoRepositories: fid/app:v1 and fid/db:v1, loaded
// together into a layout and a docker archive, are both there, each found
// by skopeo under its whole name, with its own image ID.
func TestNames_SameTagTwoRepositories(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	app, db := filepath.Join(s.dir, "app.tar"), filepath.Join(s.dir, "db.tar")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v1", "oci-archive:"+app+":fid/app:v1")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v2", "oci-archive:"+db+":fid/db:v1")
	bundle := filepath.Join(s.dir, "b.ferry")
	must(t, s.hq, "save", "oci-archive:"+app, "oci-archive:"+db, "-o", bundle)
	out, arch := filepath.Join(s.dir, "out"), filepath.Join(s.dir, "out.tar")
	r := must(t, s.site, "load", bundle, "--into", "oci:"+out, "--into", "docker-archive:"+arch)
	if !strings.Contains(r.stdout, "wrote fid/db:v1 to oci:"+out) {
		t.Errorf("load = %s, want it to say where each image went", r)
	}
	for name, tag := range map[string]string{"fid/app:v1": "v1", "fid/db:v1": "v2"} {
		want := configDigest(t, src, tag)
		for _, ref := range []string{"oci:" + out + ":" + name, "docker-archive:" + arch + ":" + name,
			"oci:" + filepath.Join(s.site, "store") + ":" + name} {
			if got := sha(runtimetest.Skopeo(t, "inspect", "--config", "--raw", ref)); got != want {
				t.Errorf("image ID of %s = %s, want %s", ref, got, want)
			}
		}
	}
}

// TestNames_Collision: two images a target would give one name are
// refused with exit 1, naming both, before anything is written: by copy,
// by load (nothing ingested either), and by save (no bundle).
func TestNames_Collision(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	two := filepath.Join(s.dir, "two")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v1", "oci:"+two+":app:1")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v2", "oci:"+two+":docker.io/library/app:1")
	arch := filepath.Join(s.dir, "out.tar")
	wantRefused := func(r result, what string) {
		t.Helper()
		if r.code != 1 || !strings.Contains(r.stderr, "app:1 (") || !strings.Contains(r.stderr, "docker.io/library/app:1 (") {
			t.Errorf("%s = %s, want exit 1 naming both images", what, r)
		}
	}
	wantRefused(run(t, s.site, "copy", "oci:"+two, "docker-archive:"+arch), "copy of two images Docker names alike")
	bundle := filepath.Join(s.dir, "b.ferry")
	must(t, s.hq, "save", "oci:"+two, "-o", bundle) // distinct names in a bundle
	out := filepath.Join(s.dir, "out")
	wantRefused(run(t, s.site, "load", bundle, "--into", "oci:"+out, "--into", "docker-archive:"+arch), "load")
	for _, p := range []string{arch, out} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written by a refused load", p)
		}
	}
	if names := lsNames(t, s.site); len(names) != 0 {
		t.Errorf("the refused load stored %v", names)
	}
	other := filepath.Join(s.dir, "other")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v2", "oci:"+other+":v1")
	r := run(t, s.hq, "save", "oci:"+src+":v1", "oci:"+other+":v1", "-o", filepath.Join(s.dir, "c.ferry"))
	if r.code != 1 || strings.Count(r.stderr, "v1 (") != 2 {
		t.Errorf("save of two images named v1 = %s, want exit 1 naming both", r)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "c.ferry")); err == nil {
		t.Errorf("a refused save wrote its bundle")
	}
}

// TestNames_TagOnly: an image read from oci:DIR:v1 is named by a tag. A
// layout keeps it; a registry gives it the target's repository; a docker
// archive needs --repo, and says so when it is missing.
func TestNames_TagOnly(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	want := runtimetest.SkopeoDigest(t, "oci:"+src+":v1")
	out := filepath.Join(s.dir, "out")
	must(t, s.site, "copy", "oci:"+src+":v1", "oci:"+out)
	if got := runtimetest.SkopeoDigest(t, "oci:"+out+":v1"); got != want {
		t.Errorf("oci:%s:v1 = %s, want %s", out, got, want)
	}
	arch := filepath.Join(s.dir, "d.tar")
	r := run(t, s.site, "copy", "oci:"+src+":v1", "docker-archive:"+arch)
	if r.code != 1 || !strings.Contains(r.stderr, "--repo") {
		t.Errorf("copy of a tag-only image to a docker archive = %s, want exit 1 saying --repo", r)
	}
	if _, err := os.Stat(arch); err == nil {
		t.Errorf("the refused copy wrote %s", arch)
	}
	if r := run(t, s.site, "copy", "oci:"+src+":v1", "docker-archive:"+arch, "--repo", "App:1"); r.code != 1 {
		t.Errorf("copy --repo App:1 = %s, want exit 1", r)
	}
	r = must(t, s.site, "copy", "oci:"+src+":v1", "docker-archive:"+arch, "--repo", "example.com/fid/app")
	if !strings.Contains(r.stdout, "as example.com/fid/app:v1") {
		t.Errorf("copy --repo = %s, want it to say the name given", r)
	}
	runtimetest.Skopeo(t, "inspect", "docker-archive:"+arch+":example.com/fid/app:v1")

	// load: refused before anything is stored, then given --repo.
	bundle := filepath.Join(s.dir, "v1.ferry")
	must(t, s.hq, "save", "oci:"+src+":v1", "-o", bundle)
	loaded := filepath.Join(s.dir, "loaded.tar")
	if r := run(t, s.site, "load", bundle, "--into", "docker-archive:"+loaded); r.code != 1 || !strings.Contains(r.stderr, "--repo") {
		t.Errorf("load of a tag-only image into a docker archive = %s, want exit 1 saying --repo", r)
	}
	if names := lsNames(t, s.site); len(names) != 0 {
		t.Errorf("the refused load stored %v", names)
	}
	r = must(t, s.site, "load", bundle, "--into", "docker-archive:"+loaded, "--repo", "example.com/fid/app")
	if !strings.Contains(r.stdout, "wrote v1 to docker-archive:"+loaded+" as example.com/fid/app:v1") {
		t.Errorf("load --repo = %s, want it to say the name given", r)
	}
	runtimetest.Skopeo(t, "inspect", "docker-archive:"+loaded+":example.com/fid/app:v1")

	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{})
	must(t, s.site, "copy", "oci:"+src+":v1", "docker://"+reg.Host+"/fid/app")
	if got := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--raw", "--tls-verify=false", "docker://"+reg.Host+"/fid/app:v1")); got != want {
		t.Errorf("docker://%s/fid/app:v1 = %s, want %s", reg.Host, got, want)
	}
	if r := run(t, s.site, "copy", "oci:"+src+":v1", "docker://"+reg.Host); r.code != 1 || !strings.Contains(r.stderr, "--repo") {
		t.Errorf("copy of a tag-only image to a registry without a repository = %s, want exit 1 saying --repo", r)
	}
}
