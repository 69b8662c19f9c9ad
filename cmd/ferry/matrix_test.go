package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestMatrix: one umoci-made image, put into each of the seven stores by
// that store's own tool, is moved by ferry copy from each store to each
// store, and each result is judged by the target's own tool (skopeo and
// umoci for layouts, archives and registries; docker; ctr; podman): the
// image ID is kept in every cell, and the manifest digest wherever both
// ends hold one. A last column goes through a bundle into a site's store,
// which skopeo and umoci read as is. README's matrix table states what
// this test checks. Each daemon is started once.
func TestMatrix(t *testing.T) {
	m := newMatrix(t)
	for _, src := range m.stores {
		for _, dst := range m.stores {
			t.Run(src.name+"→"+dst.name, func(t *testing.T) { m.cell(t, src, dst) })
		}
		t.Run(src.name+"→bundle", func(t *testing.T) { m.viaBundle(t, src) })
	}
	// The manifest ferry makes for a Docker image is the same whether it
	// read the engine or a docker save archive.
	if d, a := m.made["docker"], m.made["docker-archive"]; d == "" || d != a {
		t.Errorf("manifest from docker-daemon: %s, from docker save: %s; want one", d, a)
	}
}

// cell copies src's image into dst and checks it there.
func (m *matrix) cell(t *testing.T, src, dst *mstore) {
	target, name := dst.target(m, src)
	args := []string{"copy", src.ref, target}
	if src.repo != "" {
		args = append(args, "--repo", src.repo)
	}
	must(t, m.home, args...)
	manifests, config := dst.check(t, m, target, name)
	if config != m.config {
		t.Errorf("%s in %s: image ID %s, want %s", name, dst.name, config, m.config)
	}
	if len(manifests) == 0 { // the target holds no manifest
		return
	}
	want := src.manifest
	if want == "" { // the source holds none: ferry makes one, the same every time
		if m.made[src.name] == "" {
			m.made[src.name] = manifests[0]
		}
		want = m.made[src.name]
	}
	if !slices.Contains(manifests, want) {
		t.Errorf("%s in %s: manifests %s, want %s", name, dst.name, manifests, want)
	}
}

// viaBundle saves src's image into a bundle and loads it at the site:
// skopeo and umoci read it from the site's store under its name.
func (m *matrix) viaBundle(t *testing.T, src *mstore) {
	bundle := filepath.Join(m.dir, src.name+".ferry")
	must(t, m.sites.hq, "save", src.ref, "-o", bundle)
	must(t, m.sites.site, "load", bundle)
	name := src.as
	if src.repo != "" {
		name = "v1" // a bundle keeps the tag-only name; --repo is for targets
	}
	store := filepath.Join(m.sites.site, "store")
	manifest, config := layoutCheck(t, "oci:"+store+":"+name, store+":"+name)
	want := src.manifest
	if want == "" {
		want = m.made[src.name] // as every cell of the row
	}
	if config != m.config || manifest != want {
		t.Errorf("%s in the site's store: manifest %s, image ID %s; want %s, %s", name, manifest, config, want, m.config)
	}
}

// layoutCheck reads an image with skopeo (ref) and unpacks it with umoci
// (image, DIR:NAME when it is a layout): its manifest and config digests.
func layoutCheck(t *testing.T, ref, image string, skopeoArgs ...string) (digest.Digest, digest.Digest) {
	t.Helper()
	args := append([]string{"inspect", "--raw"}, skopeoArgs...)
	manifest := digest.FromBytes(runtimetest.Skopeo(t, append(args, ref)...))
	args = append([]string{"inspect", "--config", "--raw"}, skopeoArgs...)
	config := digest.FromBytes(runtimetest.Skopeo(t, append(args, ref)...))
	if image != "" {
		runtimetest.Umoci(t, "unpack", "--rootless", "--image", image, filepath.Join(t.TempDir(), "bundle"))
	}
	return manifest, config
}

// sanitize makes a store's name usable in a repository path.
func sanitize(name string) string { return strings.ReplaceAll(name, "-", "") }
