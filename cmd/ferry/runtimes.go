package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/containerd"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/podman"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// openRuntime opens an image (or, with ref "", every image) of a
// container runtime: docker-daemon, containerd or podman.
// openRuntime opens a container runtime for reading; a Docker export's
// layers are kept in spool when it is set (save's: the bundle's frames),
// else in a file in the home's tmp/.
func openRuntime(h *store.Home, transport, ref string, spool runtime.Spool) (runtime.Source, error) {
	if err := runtime.CheckHost(transport); err != nil {
		return nil, err
	}
	switch transport {
	case runtime.TransportDockerDaemon:
		if ref == "" {
			names, err := docker.Images(context.Background(), docker.Options{})
			if err != nil {
				return nil, err
			}
			return docker.FromDaemonImages(names, docker.Options{TmpDir: h.TmpDir(), Spool: spool})
		}
		return docker.FromDaemon(ref, docker.Options{TmpDir: h.TmpDir(), Spool: spool})
	case runtime.TransportContainerd:
		return containerd.Open(ref, containerd.Options{})
	case runtime.TransportPodman:
		return podman.Open(ref, podman.Options{TmpDir: h.TmpDir()})
	}
	return nil, fmt.Errorf("%s: not a container runtime: %w", transport, spec.ErrBadInput)
}

// runtimeTarget opens a container runtime for writing.
func runtimeTarget(h *store.Home, transport string, f targetFlags) (runtime.Target, error) {
	if err := runtime.CheckHost(transport); err != nil {
		return nil, err
	}
	switch transport {
	case runtime.TransportDockerDaemon:
		return docker.NewTarget(docker.Options{TmpDir: h.TmpDir()})
	case runtime.TransportContainerd:
		return containerd.NewTarget(containerd.Options{NoUnpack: f.NoUnpack})
	case runtime.TransportPodman:
		return podman.NewTarget(podman.Options{TmpDir: h.TmpDir()})
	}
	return nil, fmt.Errorf("%s: not a container runtime: %w", transport, spec.ErrBadInput)
}

// bareOrder is where a bare name is looked for: the store, the runtimes,
// then its registry. --from names one of them.
var bareOrder = []string{"store", "docker", "containerd", "podman", "registry"}

var bareTransport = map[string]string{"docker": runtime.TransportDockerDaemon,
	"containerd": runtime.TransportContainerd, "podman": runtime.TransportPodman}

// findBare opens the first place in bareOrder that holds the image, and
// says which it chose. Runtimes that are not installed or not running are
// passed over.
func findBare(g *Globals, h *store.Home, name string) (runtime.Source, error) {
	order := bareOrder
	if g.From != "" {
		order = []string{g.From}
	}
	var tried []string
	for _, where := range order {
		switch where {
		case "store":
			src, err := h.Source(name)
			if err == nil {
				g.warnf("%s: found in the store\n", name)
				return src, nil
			}
			if !errors.Is(err, spec.ErrNotFound) {
				return nil, err
			}
		case "registry":
			g.warnf("%s: not in %s; pulling it from its registry\n", name, orNothing(tried))
			return openRegistry(g, name)
		default:
			if g.From == "" && !runtimePresent(where) {
				continue
			}
			src, err := openRuntime(h, bareTransport[where], name, g.spool)
			if err == nil {
				if _, err = src.Resolve(g.ctx); err == nil {
					g.warnf("%s: found in %s\n", name, where)
					return src, nil
				}
				src.Close()
			}
			if g.From != "" {
				return nil, err
			}
		}
		tried = append(tried, where)
	}
	return nil, fmt.Errorf("image %s: not found in %s: %w", name, strings.Join(tried, ", "), spec.ErrNotFound)
}

// runtimePresent says whether a runtime can be asked at all: its socket
// exists (or its address is set), or its program is installed.
func runtimePresent(where string) bool {
	if runtime.CheckHost(bareTransport[where]) != nil {
		return false
	}
	switch where {
	case "docker":
		return os.Getenv("DOCKER_HOST") != "" || exists(strings.TrimPrefix(docker.DefaultHost, "unix://"))
	case "containerd":
		return os.Getenv("CONTAINERD_ADDRESS") != "" || exists(containerd.DefaultAddress)
	case "podman":
		_, err := exec.LookPath("podman")
		return err == nil
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func orNothing(tried []string) string {
	if len(tried) == 0 {
		return "the store"
	}
	return strings.Join(tried, ", ")
}
