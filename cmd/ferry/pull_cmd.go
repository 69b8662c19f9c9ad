package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/trip"
)

// PullCmd is `ferry pull IMAGE...`.
type PullCmd struct {
	Images  []string `arg:"" name:"image" complete:"image" help:"Images: a registry's (a bare name such as alpine:3.20 is read from its registry, as docker pull reads it; --from reads it elsewhere), a docker save archive (./app.tar), or ${sources}."`
	AllTags bool     `short:"a" help:"Pull every tag of each repository (a registry's), as img pulls a repository."`
}

func (c *PullCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	var refs []string
	for _, a := range c.Images {
		r, err := c.expand(g, sourceArg(a))
		if err != nil {
			return err
		}
		refs = append(refs, r...)
	}
	inputs, closeAll, err := openInputs(g, h, refs, true)
	defer closeAll()
	if err != nil {
		return err
	}
	prog := newProgress(g, "pull", 0)
	names, err := trip.Import(g.ctx, h, inputs, prog)
	prog.Done()
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	if g.JSON {
		return g.printJSON(map[string]any{"images": names})
	}
	for _, n := range names {
		g.printf("pulled %s\n", spec.Quote(n))
	}
	return nil
}

// expand turns one argument into the references to pull: a bare name is
// its registry's unless --from says otherwise, and with --all-tags a
// repository is each of its tags.
func (c *PullCmd) expand(g *Globals, arg string) ([]string, error) {
	ref, err := runtime.Parse(arg)
	if err != nil {
		return nil, err
	}
	if ref.Transport == runtime.TransportStore && (g.From == "" || c.AllTags) {
		ref = runtime.Ref{Transport: runtime.TransportRegistry, Tag: ref.Tag}
	}
	if !c.AllTags {
		return []string{ref.String()}, nil
	}
	given := strings.TrimPrefix(arg, runtime.TransportRegistry+"://")
	if ref.Transport != runtime.TransportRegistry || runtime.TagOf(given) != "" || strings.Contains(given, "@") {
		return nil, usage(fmt.Errorf("pull --all-tags %s: name a registry's repository without a tag, such as "+
			"registry.example.com/team/app", arg))
	}
	opts, err := g.registryOptions(nil)
	if err != nil {
		return nil, err
	}
	tags, err := registry.Tags(g.ctx, given, opts)
	if err != nil {
		return nil, fmt.Errorf("pull --all-tags %s: %w", arg, err)
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("pull --all-tags %s: the repository has no tags: %w", arg, spec.ErrNotFound)
	}
	sort.Strings(tags)
	refs := make([]string, 0, len(tags))
	for _, t := range tags {
		refs = append(refs, runtime.TransportRegistry+"://"+given+":"+t)
	}
	return refs, nil
}
