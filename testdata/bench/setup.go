package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// image is one of the bench's images, in its own OCI layout (tag 1).
type image struct {
	name  string   // base, many, big
	flags []string // mkimage's (each image its own -seed)
}

// bench is the prepared world: images in layouts, a registry holding
// them, an engine holding the small ones, bundles, archives.
type bench struct {
	o       options
	images  []image
	reg     *runtimetest.Registry // holds every image (save's source)
	sink    *runtimetest.Registry // pushes go here, emptied before each
	endSink func()                // stops the sink, nil when none runs
	dockerd *runtimetest.Dockerd
	stops   []func()
	seq     int
}

func (b *bench) path(parts ...string) string {
	return filepath.Join(append([]string{b.o.dir}, parts...)...)
}

func (b *bench) layout(img string) string { return b.path("images", img) }

// ref is the image's name in the registry.
func (b *bench) ref(img string) string { return b.reg.Host + "/bench/" + img + ":1" }

// dockerName is the image's name in the engine.
func (b *bench) dockerName(img string) string { return "bench/" + img + ":1" }

func (b *bench) bundle(img string) string { return b.path("bundles", img+".ferry") }

func (b *bench) dockerEnv() []string {
	return []string{"DOCKER_HOST=" + b.dockerd.Host, "DOCKER_CONFIG=" + b.path("docker-cli")}
}

func setup(o options) (*bench, error) {
	b := &bench{o: o, images: []image{
		{"base", []string{"-seed", "7", "-content", "rootfs", "-layers", "1", "-size", "100MiB"}},
		{"many", []string{"-seed", "8", "-content", "rootfs", "-layers", "20", "-size", "3MiB"}},
		{"big", []string{"-seed", "9", "-content", "random", "-layers", "1", "-size", strconv.Itoa(o.bigMiB) + "MiB"}},
	}}
	ok := false
	defer func() {
		if !ok {
			b.stop()
		}
	}()
	if err := b.makeImages(); err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "starting docker-registry and dockerd")
	reg, stop, err := runtimetest.LaunchRegistry(b.path("registry"))
	if err != nil {
		return nil, fmt.Errorf("docker-registry: %w", err)
	}
	b.reg, b.stops = reg, append(b.stops, stop)
	b.stops = append(b.stops, func() { b.stopSink() })
	d, stopd, err := runtimetest.LaunchDockerd()
	if err != nil {
		return nil, fmt.Errorf("dockerd: %w", err)
	}
	b.dockerd, b.stops = d, append(b.stops, func() { stopd() })
	if err := b.fill(); err != nil {
		return nil, err
	}
	ok = true
	return b, nil
}

func (b *bench) stop() {
	for i := len(b.stops) - 1; i >= 0; i-- {
		b.stops[i]()
	}
	b.stops = nil
}

// makeImages writes each image's layout with mkimage, once: a layout
// already in the work directory is kept.
func (b *bench) makeImages() error {
	mk := b.path("mkimage")
	if err := quiet(nil, "go", "build", "-o", mk, "./testdata/mkimage"); err != nil {
		return err
	}
	for _, img := range b.images {
		dir := b.layout(img.name)
		if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
			continue
		}
		fmt.Fprintf(os.Stderr, "making image %s\n", img.name)
		os.RemoveAll(dir)
		args := append([]string{mk, "-o", dir, "-name", "bench/" + img.name + ":1", "-base-layers", "0"}, img.flags...)
		if err := quiet(nil, args...); err != nil {
			return err
		}
	}
	return nil
}

// fill puts every image in the registry, the small ones in the engine,
// and makes the bundles and archives the rows read.
func (b *bench) fill() error {
	for _, dir := range []string{"bundles", "archives", "out"} {
		if err := os.MkdirAll(b.path(dir), 0o755); err != nil {
			return err
		}
	}
	for _, home := range []string{"hq", "site"} {
		if err := b.ferryInit(home); err != nil {
			return err
		}
	}
	for _, img := range b.images {
		fmt.Fprintf(os.Stderr, "preparing image %s\n", img.name)
		n := img.name
		steps := [][]string{
			{"skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:" + b.layout(n) + ":1", "docker://" + b.ref(n)},
			{b.o.ferry, "save", "docker://" + b.ref(n), "-o", b.bundle(n)},
			{"skopeo", "copy", "-q", "oci:" + b.layout(n) + ":1", "oci-archive:" + b.path("archives", n+".tar") + ":1"},
		}
		if n != "big" {
			steps = append(steps,
				[]string{"skopeo", "copy", "-q", "--dest-daemon-host", b.dockerd.Host, "oci:" + b.layout(n) + ":1", "docker-daemon:" + b.dockerName(n)},
				[]string{"docker", "save", "-o", b.path("archives", n+"-docker.tar"), b.dockerName(n)})
		}
		for _, s := range steps {
			env := append(b.dockerEnv(), "FERRY_HOME="+b.path("hq"))
			if err := quiet(env, s...); err != nil {
				return err
			}
		}
	}
	return nil
}

// ferryInit makes a fresh home name under the work directory; a site
// home ("site…") trusts hq's key.
func (b *bench) ferryInit(name string) error {
	home := b.path(name)
	if err := fresh(home); err != nil {
		return err
	}
	env := []string{"FERRY_HOME=" + home}
	if err := quiet(env, b.o.ferry, "init", "--site", name); err != nil {
		return err
	}
	if name == "hq" {
		return nil
	}
	return quiet(env, b.o.ferry, "site", "add", "hq", "--key", b.path("hq", "keys", "id_ed25519.pub"))
}

// describe says how big an image is: its layers' bytes in the layout.
func (b *bench) describe(img string) string {
	var n int64
	filepath.Walk(b.path("images", img, "blobs"), func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return fmt.Sprintf("%d MiB (gzip)", n>>20)
}

func (b *bench) stopSink() {
	if b.endSink != nil {
		b.endSink()
		b.endSink = nil
	}
}

// freshSink replaces the sink registry by an empty one (on a new port),
// so that every push uploads every blob: no registry, and no tool's
// memory of where it saw a blob (skopeo's blob info cache mounts blobs
// across repositories of a registry it knows), has any of them.
func (b *bench) freshSink() error {
	b.stopSink()
	dir := b.path("sink")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	reg, stop, err := runtimetest.LaunchRegistry(dir)
	if err != nil {
		return fmt.Errorf("docker-registry: %w", err)
	}
	b.sink, b.endSink = reg, stop
	return nil
}

// next is a fresh number, for repositories and files no earlier run used.
func (b *bench) next() string {
	b.seq++
	return strconv.Itoa(b.seq)
}
