package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// wrapIndex adds to a layout an image index tagged newTag whose one child
// is the manifest tagged tag, described with childType as its media type
// ("" for none). With typed, the child is a copy of that manifest that
// names its own media type (umoci's name none).
func wrapIndex(t *testing.T, layout, tag, newTag, childType string, typed bool) {
	t.Helper()
	var ix struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType,omitempty"`
		Manifests     []map[string]any `json:"manifests"`
	}
	readJSON(t, filepath.Join(layout, "index.json"), &ix)
	put := func(b []byte) string {
		if err := os.WriteFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(sha(b), "sha256:")), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return sha(b)
	}
	var man map[string]any
	manifestOf(t, layout, tag, &man)
	if typed {
		man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
	}
	mb, _ := json.Marshal(man)
	child := map[string]any{"digest": put(mb), "size": len(mb), "platform": map[string]string{"os": "linux", "architecture": "amd64"}}
	if childType != "" {
		child["mediaType"] = childType
	}
	wrapper, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{child}})
	ix.Manifests = append(ix.Manifests, map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": put(wrapper),
		"size": len(wrapper), "annotations": map[string]string{"org.opencontainers.image.ref.name": newTag}})
	b, _ := json.Marshal(ix)
	if err := os.WriteFile(filepath.Join(layout, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSave_IndexChildTypes: an image index whose child names no media
// type (skopeo and registries accept it) goes through save and load
// whole, the child typed by its own mediaType, so skopeo can copy it out
// of the site. A child described as a layer, or that neither the
// descriptor nor the manifest types, is refused at save, naming the
// image, and no bundle is written. Before, all three children were taken
// for leaves: the bundle carried the index and the manifest without
// config or layers, and load printed ok.
func TestSave_IndexChildTypes(t *testing.T) {
	runtimetest.NeedTool(t, "skopeo")
	src := umociImages(t)
	wrapIndex(t, src, "v1", "untyped", "", true)
	wrapIndex(t, src, "v1", "as-layer", "application/vnd.oci.image.layer.v1.tar+gzip", true)
	wrapIndex(t, src, "v2", "untyped-twice", "", false)
	s := newSites(t)
	b := filepath.Join(s.dir, "untyped.ferry")
	must(t, s.hq, "save", "oci:"+src+":untyped", "--for", "plant-7", "-o", b)
	out := filepath.Join(s.dir, "out")
	must(t, s.site, "load", b, "--into", "oci:"+out)
	runtimetest.Skopeo(t, "copy", "oci:"+out+":untyped", "oci:"+filepath.Join(s.dir, "copied")+":untyped")
	must(t, s.site, "check", "--read-data")

	for tag, want := range map[string]string{"as-layer": "described as", "untyped-twice": "names a media type"} {
		bad := filepath.Join(s.dir, tag+".ferry")
		r := run(t, s.hq, "save", "oci:"+src+":"+tag, "--for", "plant-7", "-o", bad)
		if r.code != 1 || !strings.Contains(r.stderr, "image "+tag) || !strings.Contains(r.stderr, want) {
			t.Errorf("save of %s = %s, want exit 1 naming the image and saying %q", tag, r, want)
		}
		if _, err := os.Stat(bad); err == nil {
			t.Errorf("a refused save wrote %s", bad)
		}
	}
}
