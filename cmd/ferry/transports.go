package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// registryFlags are skopeo's names for how to reach registries.
type registryFlags struct {
	TLSVerify      bool     `name:"tls-verify" default:"true" help:"Require HTTPS and verify certificates of registries (--tls-verify=false to skip; loopback registries may use plain HTTP)."`
	CAFile         string   `name:"ca-file" type:"existingfile" help:"Trust this CA (PEM) for registries too."`
	RegistryMirror []string `name:"registry-mirror" placeholder:"FROM=TO" help:"Read images of registry FROM from TO (host[/prefix]); repeatable."`
}

// registryOptions turns the flags into the registry transport's options.
func (g *Globals) registryOptions(prog registry.Progress) (registry.Options, error) {
	o := registry.Options{Insecure: !g.TLSVerify, CAFile: g.CAFile, Progress: prog}
	for _, m := range g.RegistryMirror {
		from, to, ok := strings.Cut(m, "=")
		if !ok || from == "" || to == "" {
			return o, fmt.Errorf("--registry-mirror %q: want FROM=TO, such as docker.io=127.0.0.1:5000: %w", m, spec.ErrBadInput)
		}
		if o.Mirrors == nil {
			o.Mirrors = map[string]string{}
		}
		o.Mirrors[from] = to
	}
	return o, nil
}

// openSource opens the place a transport name points at. With pull, a
// bare name the store lacks is pulled from its registry, as imgcd's save
// does, and says so.
func openSource(g *Globals, h *store.Home, s string, pull bool) (runtime.Source, error) {
	ref, err := runtime.Parse(s)
	if err != nil {
		return nil, err
	}
	switch ref.Transport {
	case runtime.TransportOCI:
		return ocilayout.FromPath(ref.Path, ref.Tag)
	case runtime.TransportOCIArchive:
		return ociarchive.FromPath(ref.Path, ref.Tag)
	case runtime.TransportDockerArchive:
		return dockerarchive.FromPath(ref.Path, ref.Tag)
	case runtime.TransportRegistry:
		return openRegistry(g, ref.Tag)
	case runtime.TransportDockerDaemon, runtime.TransportContainerd, runtime.TransportPodman:
		if ref.Tag == "" {
			return nil, fmt.Errorf("%s: name an image, such as %s:app:1.0: %w", s, ref.Transport, spec.ErrBadInput)
		}
		return openRuntime(h, ref.Transport, ref.Tag, g.spool)
	case runtime.TransportStore:
		if !pull {
			return h.Source(ref.Tag)
		}
		return findBare(g, h, s)
	}
	return nil, fmt.Errorf("%s: transport %s cannot be read yet: %w", s, ref.Transport, spec.ErrBadInput)
}

func openRegistry(g *Globals, ref string) (runtime.Source, error) {
	o, err := g.registryOptions(nil)
	if err != nil {
		return nil, err
	}
	return registry.FromReference(ref, o)
}

// targetFlags say how load and copy write images to targets.
type targetFlags struct {
	Repo     string `help:"Repository for images named only by a tag (as oci:DIR:v1 names one): v1 becomes REPO:v1 in every target." placeholder:"REPO"`
	NoUnpack bool   `name:"no-unpack" help:"containerd: leave the images packed (by default they are unpacked into the snapshotter, as ctr images import does)."`
}

// openTarget opens the place a transport name points at for writing.
// --repo is the repository given to images named only by a tag;
// docker-daemon:REF, containerd:REF and podman:REF name the one image
// written REF.
func openTarget(g *Globals, h *store.Home, s string, f targetFlags) (runtime.Target, error) {
	ref, err := runtime.Parse(s)
	if err != nil || ref.Transport == runtime.TransportStore {
		return nil, notATarget(s)
	}
	if err := runtime.ValidRepository(f.Repo); err != nil {
		return nil, fmt.Errorf("--repo: %w", err)
	}
	t, err := targetOf(g, h, s, ref, f)
	if err != nil {
		return nil, err
	}
	name := ""
	if runtime.IsDaemon(ref.Transport) {
		name = runtime.Normalize(ref.Tag)
	}
	return runtime.Renamed(t, name, f.Repo), nil
}

func targetOf(g *Globals, h *store.Home, s string, ref runtime.Ref, f targetFlags) (runtime.Target, error) {
	switch ref.Transport {
	case runtime.TransportOCI:
		return ocilayout.NewTarget(ref.Path, ref.Tag), nil
	case runtime.TransportOCIArchive:
		return ociarchive.NewTarget(ref.Path, ref.Tag), nil
	case runtime.TransportDockerArchive:
		return dockerarchive.NewTarget(ref.Path, ref.Tag), nil
	case runtime.TransportRegistry:
		o, err := g.registryOptions(newProgress(g, "push", 0))
		if err != nil {
			return nil, err
		}
		return registry.NewTarget(ref.Tag, o)
	case runtime.TransportDockerDaemon, runtime.TransportContainerd, runtime.TransportPodman:
		return runtimeTarget(h, ref.Transport, f)
	}
	return nil, notATarget(s)
}

// notATarget is the error of a target argument that is not one of the
// forms, with the form a path most likely meant.
func notATarget(s string) error {
	hint := ""
	if colon := strings.Index(s, ":"); (colon < 0 || colon == 1) && (strings.ContainsAny(s, `/\`) || strings.HasPrefix(s, ".")) {
		hint = "; for a directory, write oci:" + s
	}
	return spec.Mark(fmt.Errorf("target %q is not a place to write images (a bare name is an image in the store); targets: %s%s",
		s, runtime.TargetForms, hint), spec.ErrBadInput)
}

// sourceArg reads an argument that names an existing file and no
// transport as a docker save archive, docker-archive:FILE (as
// docker-image-pusher's push ./nginx_latest.tar reads one; an OCI archive
// reads the same way). Anything else is returned as it is.
func sourceArg(s string) string {
	if r, err := runtime.Parse(s); err == nil && r.Transport != runtime.TransportStore {
		return s
	}
	if fi, err := os.Stat(s); err == nil && fi.Mode().IsRegular() {
		return runtime.TransportDockerArchive + ":" + s
	}
	return s
}

// openInputs resolves every image argument (pulling bare names the store
// lacks when pull is set). The returned func closes the sources; call it
// even on error.
func openInputs(g *Globals, h *store.Home, args []string, pull bool) ([]trip.Input, func(), error) {
	var srcs []runtime.Source
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	var inputs []trip.Input
	for _, a := range args {
		src, err := openSource(g, h, a, pull)
		if err != nil {
			return nil, closeAll, err
		}
		srcs = append(srcs, src)
		imgs, err := src.Resolve(g.ctx)
		if err != nil {
			return nil, closeAll, namedErr(a, err)
		}
		for _, img := range imgs {
			inputs = append(inputs, trip.Input{Image: img, From: src})
		}
	}
	return inputs, closeAll, nil
}

// namedErr names the image argument in err, unless the source's own
// error already does (a daemon's source names its image and engine, a
// registry's the image without docker://), so that no message says the
// same name twice.
func namedErr(arg string, err error) error {
	_, bare, ok := strings.Cut(arg, "://")
	if strings.Contains(err.Error(), arg) || ok && strings.Contains(err.Error(), bare) {
		return err
	}
	return fmt.Errorf("%s: %w", arg, err)
}
