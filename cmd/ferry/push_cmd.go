package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// PushCmd is `ferry push IMAGE [TARGET]`.
type PushCmd struct {
	Image    string   `arg:"" complete:"image" help:"An image in the store (--from reads a bare name elsewhere), a docker save archive (./app.tar: every image in it, named by its RepoTags), or ${sources}."`
	Target   string   `arg:"" optional:"" complete:"target" help:"Where to: HOST[:PORT][/PREFIX] (each image keeps its repository path below it), HOST[:PORT]/REPO:TAG (one image), or any target (${targets}). Default: --registry, else the registry in the images' names, else the one registry you logged in to."`
	Registry string   `complete:"registry" placeholder:"HOST[:PORT][/PREFIX]" help:"Push to this registry; each image keeps its repository path there."`
	AllTags  bool     `short:"a" help:"Push every image of the store in IMAGE's repository, as img pushes a repository."`
	Platform []string `complete:"platform" help:"Keep only these platforms of an image index; repeatable."`
	targetFlags
}

func (c *PushCmd) Run(g *Globals) error {
	if c.Target != "" && c.Registry != "" {
		return usage(errors.New("push: name the target or --registry, not both"))
	}
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	args := []string{sourceArg(c.Image)}
	if c.AllTags {
		if args, err = repositoryImages(h, c.Image); err != nil {
			return err
		}
	}
	inputs, closeAll, err := openInputs(g, h, args, g.From != "")
	defer closeAll()
	if err != nil {
		return err
	}
	dest, err := c.destination(g, inputs)
	if err != nil {
		return err
	}
	t, err := openTarget(g, h, dest, c.targetFlags)
	if err != nil {
		return err
	}
	defer t.Close()
	w, err := trip.Copy(g.ctx, inputs, c.Platform, t)
	if err != nil {
		return fmt.Errorf("push %s to %s: %w", c.Image, dest, err)
	}
	w.Target = dest
	if g.JSON {
		return g.printJSON(w)
	}
	printWritten(g, "pushed", w)
	return nil
}

// destination is the target named, else --registry, else the registry
// registry.DefaultTarget chooses (and says why, on stderr). A target with
// no transport is a registry's.
func (c *PushCmd) destination(g *Globals, inputs []trip.Input) (string, error) {
	if c.Target != "" {
		if r, err := runtime.Parse(c.Target); err == nil && r.Transport != runtime.TransportStore {
			return c.Target, nil
		}
		return runtime.TransportRegistry + "://" + c.Target, nil
	}
	if c.Registry != "" {
		return runtime.TransportRegistry + "://" + strings.TrimPrefix(c.Registry, runtime.TransportRegistry+"://"), nil
	}
	names := make([]string, 0, len(inputs))
	for _, in := range inputs {
		names = append(names, runtime.WithRepository(in.Image.Name, c.Repo))
	}
	creds, err := registry.CredentialsFile()
	if err != nil {
		return "", err
	}
	logins, err := creds.Registries()
	if err != nil {
		return "", err
	}
	reg, why, err := registry.DefaultTarget(names, logins)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", c.Image, err)
	}
	g.warnf("pushing to %s (%s)\n", reg, why)
	return runtime.TransportRegistry + "://" + reg, nil
}

// repositoryImages names every image of the store in the repository of
// name ("app" or "app:1.0" both mean every app:TAG).
func repositoryImages(h *store.Home, name string) ([]string, error) {
	repo := runtime.Repository(name)
	recs, err := h.Catalog.Images()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range recs {
		if runtime.Repository(r.Name) == repo {
			out = append(out, r.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("push --all-tags: repository %s: no image %w in the store at %s (ferry ls lists them)",
			spec.Quote(repo), spec.ErrNotFound, h.Dir)
	}
	return out, nil
}
