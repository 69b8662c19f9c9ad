package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// multiArch adds to a layout holding v1 and v2 an image index tagged
// "multi" that names v1 linux/amd64 and v2 linux/arm64. It returns the
// digests of the index, v1 and v2.
func multiArch(t *testing.T, layout string) (index, amd64, arm64 string) {
	t.Helper()
	var ix struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType"`
		Manifests     []map[string]any `json:"manifests"`
	}
	readJSON(t, filepath.Join(layout, "index.json"), &ix)
	byTag := map[string]map[string]any{}
	for _, m := range ix.Manifests {
		byTag[m["annotations"].(map[string]any)["org.opencontainers.image.ref.name"].(string)] = m
	}
	plat := func(tag, arch string) map[string]any {
		m := byTag[tag]
		return map[string]any{"mediaType": m["mediaType"], "digest": m["digest"], "size": m["size"],
			"platform": map[string]string{"os": "linux", "architecture": arch}}
	}
	multi, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{plat("v1", "amd64"), plat("v2", "arm64")}})
	index = sha(multi)
	if err := os.WriteFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(index, "sha256:")), multi, 0o644); err != nil {
		t.Fatal(err)
	}
	ix.Manifests = append(ix.Manifests, map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": index,
		"size": len(multi), "annotations": map[string]string{"org.opencontainers.image.ref.name": "multi"}})
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(layout, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return index, byTag["v1"]["digest"].(string), byTag["v2"]["digest"].(string)
}

// TestSave_ImageIndex: an image index is carried whole by default, and
// --platform keeps one platform (the image is then that manifest) or
// several (a new index of those).
func TestSave_ImageIndex(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	index, amd64, arm64 := multiArch(t, src)
	s := newSites(t)
	for _, tc := range []struct {
		name      string
		platforms []string
		want      string
	}{
		{"whole", nil, index},
		{"arm64", []string{"linux/arm64"}, arm64},
		{"amd64", []string{"linux/amd64"}, amd64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := filepath.Join(s.dir, tc.name+".ferry")
			args := []string{"save", "oci:" + src + ":multi", "-o", b}
			for _, p := range tc.platforms {
				args = append(args, "--platform", p)
			}
			must(t, s.hq, args...)
			out := filepath.Join(s.dir, "out-"+tc.name)
			must(t, s.site, "load", b, "--into", "oci:"+out)
			if got := string(runtimetest.SkopeoDigest(t, "oci:"+out+":multi")); got != tc.want {
				t.Errorf("loaded multi = %s, want %s", got, tc.want)
			}
		})
	}
	r := run(t, s.hq, "save", "oci:"+src+":multi", "--platform", "windows/amd64", "-o", filepath.Join(s.dir, "x.ferry"))
	if r.code != 1 || !strings.Contains(r.stderr, "linux/arm64") {
		t.Errorf("save --platform windows/amd64 = %s, want exit 1 listing the platforms there are", r)
	}
	// Two platforms of two: a new index of the same manifests.
	b := filepath.Join(s.dir, "both.ferry")
	must(t, s.hq, "save", "oci:"+src+":multi", "--platform", "linux/amd64", "--platform", "linux/arm64", "-o", b)
	r = must(t, s.site, "--json", "inspect", b)
	if !strings.Contains(r.stdout, amd64) || !strings.Contains(r.stdout, arm64) {
		t.Errorf("inspect of a two-platform save = %s, want both manifests", r)
	}
}

// TestSave_FromArchives: images read from an oci-archive and from a
// docker-archive written by skopeo arrive whole; the docker image keeps its
// image ID (config digest).
func TestSave_FromArchives(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	s := newSites(t)
	oa := filepath.Join(s.dir, "img.oci.tar")
	da := filepath.Join(s.dir, "img.docker.tar")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v1", "oci-archive:"+oa+":v1")
	runtimetest.Skopeo(t, "copy", "oci:"+src+":v2", "docker-archive:"+da+":example.com/team/app:2.0")
	b := filepath.Join(s.dir, "arch.ferry")
	must(t, s.hq, "save", "oci-archive:"+oa+":v1", "docker-archive:"+da, "-o", b)
	out := filepath.Join(s.dir, "out")
	must(t, s.site, "load", b, "--into", "oci:"+out)
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+out+":v1"), runtimetest.SkopeoDigest(t, "oci:"+src+":v1"); got != want {
		t.Errorf("v1 through oci-archive = %s, want %s", got, want)
	}
	// skopeo's oci: transport skips Docker media types in a layout, so
	// read the Docker image back through docker-archive:.
	back := filepath.Join(s.dir, "back.tar")
	must(t, s.site, "copy", "example.com/team/app:2.0", "docker-archive:"+back)
	cfg := runtimetest.Skopeo(t, "inspect", "--config", "--raw", "docker-archive:"+back)
	if got, want := sha(cfg), configDigest(t, src, "v2"); got != want {
		t.Errorf("image ID through docker-archive = %s, want %s", got, want)
	}
	names := lsNames(t, s.site)
	if strings.Join(names, ",") != "example.com/team/app:2.0,v1" {
		t.Errorf("ls = %v, want the docker image under its repo tag and v1", names)
	}
}

// TestVerify_WarnsOfAnotherPlatform: verify warns, without failing, when
// an image has no manifest for this site's platform.
func TestVerify_WarnsOfAnotherPlatform(t *testing.T) {
	src := umociImages(t)
	// v2 becomes a real arm64 image (its config says so), then the index.
	if out, err := exec.Command("umoci", "config", "--no-history", "--image", src+":v2", "--architecture=arm64").CombinedOutput(); err != nil {
		t.Fatalf("umoci config: %v: %s", err, out)
	}
	multiArch(t, src)
	s := newSites(t)
	b := filepath.Join(s.dir, "arm.ferry")
	must(t, s.hq, "save", "oci:"+src+":multi", "--platform", "linux/arm64", "-o", b)
	r := must(t, s.site, "verify", b)
	if !strings.Contains(r.stdout, "WARNING image multi is for linux/arm64") {
		t.Errorf("verify of an arm64-only bundle = %s, want a platform warning", r)
	}
	b = filepath.Join(s.dir, "both.ferry")
	must(t, s.hq, "save", "oci:"+src+":multi", "-o", b)
	if r := must(t, s.site, "verify", b); strings.Contains(r.stdout, "WARNING") {
		t.Errorf("verify of a bundle with this platform warned: %s", r)
	}
}
