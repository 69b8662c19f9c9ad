package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestDocker_TripsBetweenEngines: docker → bundle → a second docker keeps
// the image ID; the second, incremental trip (after a receipt) ships only
// the new layer, and the engine loads it with no container run.
func TestDocker_TripsBetweenEngines(t *testing.T) {
	src, _ := chain(t, 2, 64<<10)
	a, b := runtimetest.StartDockerd(t), runtimetest.StartDockerd(t)
	a.SkopeoLoad(t, "oci:"+src+":v1", "app:1")
	a.SkopeoLoad(t, "oci:"+src+":v2", "app:2")
	s := newSites(t)
	for i, tag := range []string{"1", "2"} {
		bundle := filepath.Join(s.dir, "t"+tag+".ferry")
		t.Setenv("DOCKER_HOST", a.Host)
		must(t, s.hq, "save", "docker-daemon:app:"+tag, "--for", "plant-7", "-o", bundle)
		in := inspectBundle(t, s.hq, bundle)
		var layers int
		for _, bl := range in.Index.Blobs {
			if bl.Status == "shipped" && isLayer(bl.MediaType) {
				layers++
			}
		}
		if i == 1 && layers != 1 {
			t.Errorf("trip 2 ships %d layers, want only the new one", layers)
		}
		t.Setenv("DOCKER_HOST", b.Host)
		must(t, s.site, "load", bundle, "--into", "docker-daemon:")
		must(t, s.hq, "receipt", "apply", filepath.Join(s.dir, "plant-7-receipt.ferry"))
		if got, want := b.ImageID(t, "app:"+tag), a.ImageID(t, "app:"+tag); got != want {
			t.Errorf("app:%s in the second engine has ID %s, want %s", tag, got, want)
		}
	}
	b.Docker(t, "save", "-o", filepath.Join(s.dir, "saved.tar"), "app:2")
	if out := string(b.Docker(t, "ps", "-aq")); strings.TrimSpace(out) != "" {
		t.Errorf("loading ran containers: %s", out)
	}
}

// TestDocker_ContainerSnapshot: a container's state moves as an image:
// saved with --container, loaded into another engine, it holds the file
// the container wrote.
func TestDocker_ContainerSnapshot(t *testing.T) {
	a, b := runtimetest.StartDockerd(t), runtimetest.StartDockerd(t)
	layout := filepath.Join(t.TempDir(), "probe")
	runtimetest.RunnableImage(t, layout, "probe")
	a.SkopeoLoad(t, "oci:"+layout+":probe", "probe:1")
	a.Docker(t, "run", "--name", "worker", "--network", "none", "probe:1", "write", "/state.txt", "moved")
	s := newSites(t)
	bundle := filepath.Join(s.dir, "snap.ferry")
	t.Setenv("DOCKER_HOST", a.Host)
	r := must(t, s.hq, "save", "--container", "worker", "-o", bundle)
	ref := regexp.MustCompile(`ferry-snapshot/worker:[0-9TZ]+`).FindString(r.stderr)
	if ref == "" {
		t.Fatalf("save --container = %s, want it to name the snapshot", r)
	}
	t.Setenv("DOCKER_HOST", b.Host)
	must(t, s.site, "load", bundle, "--into", "docker-daemon:")
	b.Docker(t, "run", "--rm", "--network", "none", ref, "check", "/state.txt", "moved")
}

// TestDocker_ReceiptIncludesEngine: a site whose engine already runs v1
// (put there without ferry) declares it in its first receipt, so the
// first trip ships only v2's new layer, and it loads.
func TestDocker_ReceiptIncludesEngine(t *testing.T) {
	src, _ := chain(t, 2, 64<<10)
	a, b := runtimetest.StartDockerd(t), runtimetest.StartDockerd(t)
	a.SkopeoLoad(t, "oci:"+src+":v2", "app:2")
	b.SkopeoLoad(t, "oci:"+src+":v1", "app:1")
	s := newSites(t)
	t.Setenv("DOCKER_HOST", b.Host)
	receipt := filepath.Join(s.dir, "first-receipt.ferry")
	must(t, s.site, "receipt", "create", "--include", "docker-daemon:", "-o", receipt)
	must(t, s.hq, "receipt", "apply", receipt)
	t.Setenv("DOCKER_HOST", a.Host)
	bundle := filepath.Join(s.dir, "t1.ferry")
	// The bare name is found in the engine, and ferry says so.
	r := must(t, s.hq, "save", "app:2", "--for", "plant-7", "-o", bundle)
	if !strings.Contains(r.stderr, "found in docker") {
		t.Errorf("save of a bare name held by docker = %s, want it to say it found it in docker", r)
	}
	in := inspectBundle(t, s.hq, bundle)
	if layers := in.shippedLayerBytes(); layers == 0 || layers > 64<<10+16<<10 {
		t.Errorf("first trip ships %d layer bytes, want only the new layer", layers)
	}
	t.Setenv("DOCKER_HOST", b.Host)
	must(t, s.site, "load", bundle, "--into", "docker-daemon:")
	if got, want := b.ImageID(t, "app:2"), a.ImageID(t, "app:2"); got != want {
		t.Errorf("app:2 at the site has ID %s, want %s", got, want)
	}
}

// TestRuntimes_ContainerdAndPodman: images come out of containerd and
// podman with their digests (podman keeps the image ID; it stores layers
// uncompressed), and go into them, listed with their names.
func TestRuntimes_ContainerdAndPodman(t *testing.T) {
	src := umociImages(t)
	cd := runtimetest.StartContainerd(t)
	t.Setenv("CONTAINERD_ADDRESS", cd.Address)
	t.Setenv("CONTAINERD_NAMESPACE", "ferrytest")
	cd.Import(t, "ferrytest", src, "v1", "example.com/team/app:1")
	pm := runtimetest.NewPodman(t)
	pm.Import(t, src, "v2", "example.com/team/db:2")
	s := newSites(t)
	bundle := filepath.Join(s.dir, "rt.ferry")
	must(t, s.hq, "save", "containerd:example.com/team/app:1", "podman:example.com/team/db:2", "-o", bundle)
	out := filepath.Join(s.dir, "out")
	must(t, s.site, "load", bundle, "--into", "oci:"+out)
	if got, want := runtimetest.SkopeoDigest(t, "oci:"+out+":example.com/team/app:1"), runtimetest.SkopeoDigest(t, "oci:"+src+":v1"); got != want {
		t.Errorf("containerd → bundle → layout: %s, want %s", got, want)
	}
	cfg := runtimetest.Skopeo(t, "inspect", "--config", "--raw", "oci:"+out+":example.com/team/db:2")
	if got, want := sha(cfg), configDigest(t, src, "v2"); got != want {
		t.Errorf("podman → bundle: image ID %s, want %s", got, want)
	}
	// Into the runtimes, from the site's store.
	must(t, s.site, "copy", "example.com/team/db:2", "containerd:")
	if ls := string(cd.Ctr(t, "ferrytest", "images", "ls", "-q")); !strings.Contains(ls, "example.com/team/db:2") {
		t.Errorf("ctr images ls = %q, want example.com/team/db:2", ls)
	}
	if !cd.Unpacked(t, "ferrytest", "example.com/team/db:2") {
		t.Errorf("copy to containerd: left example.com/team/db:2 packed, want it unpacked")
	}
	t.Setenv("CONTAINERD_NAMESPACE", "packed")
	must(t, s.site, "copy", "example.com/team/db:2", "containerd:", "--no-unpack")
	if cd.Unpacked(t, "packed", "example.com/team/db:2") {
		t.Errorf("copy to containerd --no-unpack: unpacked example.com/team/db:2")
	}
	must(t, s.site, "copy", "example.com/team/app:1", "podman:")
	if ls := string(pm.Run(t, "images", "--format", "{{.Repository}}:{{.Tag}}")); !strings.Contains(ls, "example.com/team/app:1") {
		t.Errorf("podman images = %q, want example.com/team/app:1", ls)
	}
}

// TestDocker_SaveOnePass: save docker-daemon: compresses the export's
// layers while they stream and copies the frames in; the bundle holds
// the same entries, byte for byte, as a save of the engine's `docker
// save` archive, and leaves nothing in the home's tmp/.
func TestDocker_SaveOnePass(t *testing.T) {
	src, _ := chain(t, 3, 512<<10)
	d := runtimetest.StartDockerd(t)
	d.SkopeoLoad(t, "oci:"+src+":v3", "app:3")
	s := newSites(t)
	archive := filepath.Join(s.dir, "saved.tar")
	d.Docker(t, "save", "-o", archive, "app:3")
	t.Setenv("DOCKER_HOST", d.Host)
	fromEngine, fromArchive := filepath.Join(s.dir, "engine.ferry"), filepath.Join(s.dir, "archive.ferry")
	must(t, s.hq, "save", "docker-daemon:app:3", "-o", fromEngine)
	must(t, s.hq, "save", "docker-archive:"+archive, "-o", fromArchive)
	a, b := readEntries(t, fromEngine), readEntries(t, fromArchive)
	if len(a) != len(b) || len(a) < 7 {
		t.Fatalf("%d entries from the engine, %d from its archive", len(a), len(b))
	}
	for i := range a {
		if a[i].hdr.Name == "ferry-index.json" || a[i].hdr.Name == "ferry-index.json.sig" {
			continue
		}
		if a[i].hdr.Name != b[i].hdr.Name || !bytes.Equal(a[i].data, b[i].data) {
			t.Errorf("entry %d: %s (%d bytes) from the engine, %s (%d bytes) from its archive", i, a[i].hdr.Name, len(a[i].data), b[i].hdr.Name, len(b[i].data))
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.hq, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d files after the save", len(ents))
	}
}

// An engine that cannot be reached is named once in the error, with the
// image asked for, and the message says what to do.
func TestSave_DaemonUnreachableNamedOnce(t *testing.T) {
	home := filepath.Join(t.TempDir(), "hq")
	must(t, home, "init", "--site", "hq")
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no.sock"))
	r := run(t, home, "save", "docker-daemon:app:3", "-o", filepath.Join(t.TempDir(), "x.ferry"))
	if r.code == 0 {
		t.Fatalf("save from an absent engine succeeded: %s", r)
	}
	if n := strings.Count(r.stderr, "docker-daemon:app:3"); n != 1 {
		t.Errorf("the error names docker-daemon:app:3 %d times, want once: %s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "no.sock") || !strings.Contains(r.stderr, "DOCKER_HOST") {
		t.Errorf("the error names neither the engine's socket nor DOCKER_HOST: %s", r.stderr)
	}
}
