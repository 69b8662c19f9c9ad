package docker_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// load puts a umoci image into engine d with skopeo, named name.
func load(t *testing.T, d *runtimetest.Dockerd, seed int64, name string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	runtimetest.UmociImage(t, dir, "v1", seed, 2, 4096)
	d.SkopeoLoad(t, "oci:"+dir+":v1", name)
}

// resolve reads ref from engine d and returns its one image.
func resolve(t *testing.T, d *runtimetest.Dockerd, ref string) (*docker.Source, runtime.Image) {
	t.Helper()
	src, err := docker.FromDaemon(ref, opts(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	imgs, err := src.Resolve(t.Context())
	if err != nil || len(imgs) != 1 {
		t.Fatalf("FromDaemon(%s).Resolve = %v, %v, want one image", ref, imgs, err)
	}
	return src, imgs[0]
}

// TestSource_Deterministic: the same Docker image read twice has the same
// manifest digest, its config digest is the engine's image ID, and it is
// named as Docker shows it however it was asked for.
func TestSource_Deterministic(t *testing.T) {
	a, _ := engines(t)
	load(t, a, 21, "det:1.0")
	id := a.ImageID(t, "det:1.0")
	src1, img1 := resolve(t, a, "det:1.0")
	for _, ref := range []string{"det:1.0", "docker.io/library/det:1.0", id, strings.TrimPrefix(id, "sha256:")[:12]} {
		_, img := resolve(t, a, ref)
		if img.Desc.Digest != img1.Desc.Digest || img.Name != "det:1.0" {
			t.Errorf("FromDaemon(%s) = %s@%s, want det:1.0@%s", ref, img.Name, img.Desc.Digest, img1.Desc.Digest)
		}
	}
	if got := runtimetest.ConfigDigest(t, src1, img1.Desc); string(got) != id {
		t.Errorf("config digest = %s, want the image ID %s", got, id)
	}
	if err := src1.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := src1.Fetch(t.Context(), img1.Desc); err == nil {
		t.Errorf("Fetch after Close succeeded")
	}
}

// TestSource_OCIManifest: the manifest ferry makes for a Docker image is
// an OCI one that skopeo (oci:DIR:NAME) and umoci read from a layout, with
// the image ID kept; `docker save` of the same image read as a
// docker-archive gives the same manifest.
func TestSource_OCIManifest(t *testing.T) {
	a, _ := engines(t)
	load(t, a, 24, "example.com/fid/oci:1")
	src, img := resolve(t, a, "example.com/fid/oci:1")
	if img.Desc.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("media type = %s, want %s", img.Desc.MediaType, ocispec.MediaTypeImageManifest)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := ocilayout.NewTarget(out, "").Write(t.Context(), []runtime.Image{img}, src); err != nil {
		t.Fatal(err)
	}
	name := "oci:" + out + ":example.com/fid/oci:1"
	if got := runtimetest.SkopeoDigest(t, name); got != img.Desc.Digest {
		t.Errorf("skopeo inspect %s = %s, want %s", name, got, img.Desc.Digest)
	}
	if got := digest.FromBytes(runtimetest.Skopeo(t, "inspect", "--config", "--raw", name)); string(got) != a.ImageID(t, "example.com/fid/oci:1") {
		t.Errorf("config of %s = %s, want the image ID", name, got)
	}
	runtimetest.Umoci(t, "unpack", "--rootless", "--image", out+":example.com/fid/oci:1", filepath.Join(dir, "bundle"))
	saved := filepath.Join(dir, "saved.tar")
	a.Docker(t, "save", "-o", saved, "example.com/fid/oci:1")
	arch, err := dockerarchive.FromPath(saved, "")
	if err != nil {
		t.Fatal(err)
	}
	defer arch.Close()
	if imgs, err := arch.Resolve(t.Context()); err != nil || len(imgs) != 1 || imgs[0].Desc.Digest != img.Desc.Digest {
		t.Errorf("docker save read as docker-archive = %v, %v, want manifest %s", imgs, err, img.Desc.Digest)
	}
}

// TestSource_Spool: the export goes to a file in TmpDir, which Close
// removes.
func TestSource_Spool(t *testing.T) {
	a, _ := engines(t)
	load(t, a, 22, "spool:1")
	dir := t.TempDir()
	src, err := docker.FromDaemon("spool:1", docker.Options{Host: a.Host, TmpDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Resolve(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, "*")); len(ents) != 1 {
		t.Errorf("spool files during use = %v, want one", ents)
	}
	src.Close()
	if ents, _ := filepath.Glob(filepath.Join(dir, "*")); len(ents) != 0 {
		t.Errorf("files after Close = %v, want none", ents)
	}
}

func TestFromDaemon_Errors(t *testing.T) {
	a, _ := engines(t)
	src, _ := docker.FromDaemon("absent:9", opts(a))
	_, err := src.Resolve(t.Context())
	if !errors.Is(err, spec.ErrNotFound) || !strings.Contains(err.Error(), "absent:9") || !strings.Contains(err.Error(), a.Host) {
		t.Errorf("Resolve(absent:9) = %v, want ErrNotFound naming the image and the engine", err)
	}
	gone := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	src, _ = docker.FromDaemon("app:1", docker.Options{Host: gone})
	_, err = src.Resolve(t.Context())
	if err == nil || !strings.Contains(err.Error(), gone) || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Errorf("Resolve on %s = %v, want an error naming the socket and DOCKER_HOST", gone, err)
	}
	t.Setenv("DOCKER_HOST", gone)
	if _, err := docker.Images(t.Context(), docker.Options{}); err == nil || !strings.Contains(err.Error(), gone) {
		t.Errorf("Images with DOCKER_HOST=%s = %v, want an error naming it", gone, err)
	}
	if _, err := docker.NewTarget(docker.Options{Host: "ssh://x"}); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("NewTarget(ssh://x) = %v, want ErrBadInput", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	src, _ = docker.FromDaemon("app:1", opts(a))
	if _, err := src.Resolve(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestImages(t *testing.T) {
	a, _ := engines(t)
	load(t, a, 23, "listed:1")
	a.Docker(t, "tag", "listed:1", "example.com/team/listed:2")
	names, err := docker.Images(t.Context(), opts(a))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listed:1", "example.com/team/listed:2"} {
		if !contains(names, want) {
			t.Errorf("Images = %v, want %s among them", names, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFromDaemonImages: one export of several images, each named as
// asked and with its own image ID, whatever order the engine writes.
func TestFromDaemonImages(t *testing.T) {
	a, _ := engines(t)
	refs := []string{"multi-b:1", "multi-a:1", "multi-c:1"}
	for i, r := range refs {
		load(t, a, int64(50+i), r)
	}
	a.Docker(t, "tag", "multi-a:1", "multi-a:alias")
	refs = append(refs, "multi-a:alias")
	src, err := docker.FromDaemonImages(refs, opts(a))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	imgs, err := src.Resolve(t.Context())
	if err != nil || len(imgs) != len(refs) {
		t.Fatalf("Resolve = %v, %v, want %d images", imgs, err, len(refs))
	}
	for i, img := range imgs {
		id := runtimetest.ConfigDigest(t, src, img.Desc)
		if img.Name != refs[i] || string(id) != a.ImageID(t, refs[i]) {
			t.Errorf("image %d = %s with ID %s, want %s with ID %s", i, img.Name, id, refs[i], a.ImageID(t, refs[i]))
		}
	}
}
