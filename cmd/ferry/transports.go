package main

import (
	"fmt"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/dockerarchive"
	"github.com/ferryhq/ferry/runtime/ociarchive"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// openSource opens the place a transport name points at.
func openSource(h *store.Home, s string) (runtime.Source, error) {
	ref, err := runtime.Parse(s)
	if err != nil {
		return nil, err
	}
	switch ref.Transport {
	case "oci":
		return ocilayout.FromPath(ref.Path, ref.Tag)
	case "oci-archive":
		return ociarchive.FromPath(ref.Path, ref.Tag)
	case "docker-archive":
		return dockerarchive.FromPath(ref.Path, ref.Tag)
	case "store":
		return h.Source(ref.Tag)
	}
	return nil, fmt.Errorf("%s: transport %s cannot be read yet: %w", s, ref.Transport, spec.ErrBadInput)
}

// openTarget opens the place a transport name points at for writing.
func openTarget(s string) (runtime.Target, error) {
	ref, err := runtime.Parse(s)
	if err != nil {
		return nil, err
	}
	switch ref.Transport {
	case "oci":
		return ocilayout.NewTarget(ref.Path, ref.Tag), nil
	case "oci-archive":
		return ociarchive.NewTarget(ref.Path, ref.Tag), nil
	case "docker-archive":
		return dockerarchive.NewTarget(ref.Path, ref.Tag), nil
	}
	return nil, fmt.Errorf("%s: transport %s cannot be written yet: %w", s, ref.Transport, spec.ErrBadInput)
}

// openInputs resolves every image argument. The returned func closes the
// sources; call it even on error.
func openInputs(g *Globals, h *store.Home, args []string) ([]trip.Input, func(), error) {
	var srcs []runtime.Source
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	var inputs []trip.Input
	for _, a := range args {
		src, err := openSource(h, a)
		if err != nil {
			return nil, closeAll, err
		}
		srcs = append(srcs, src)
		imgs, err := src.Resolve(g.ctx)
		if err != nil {
			return nil, closeAll, fmt.Errorf("%s: %w", a, err)
		}
		for _, img := range imgs {
			inputs = append(inputs, trip.Input{Image: img, From: src})
		}
	}
	return inputs, closeAll, nil
}
