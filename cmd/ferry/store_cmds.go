package main

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// LsCmd is `ferry ls`.
type LsCmd struct {
	Patterns patterns `arg:"" optional:"" name:"pattern" complete:"image" help:"List only the images (and charts) a pattern names: a repository (all its tags), a name, or a glob with * and ? (example.com/*/app:1.*); Docker Hub's names match as docker shows them (nginx)."`
}

func (c *LsCmd) Run(g *Globals) error {
	if err := c.Patterns.check(); err != nil {
		return err
	}
	h, err := g.openHomeReadOnly()
	if err != nil {
		return err
	}
	defer h.Close()
	all, err := h.Catalog.Images()
	if err != nil {
		return err
	}
	imgs := slices.DeleteFunc(all, func(im store.ImageRecord) bool { return !c.Patterns.match(im.Name) })
	switch {
	case len(imgs) == 0 && len(c.Patterns) > 0:
		g.warnf("no image in the store at %s matches %s\n", h.Dir, strings.Join(c.Patterns, " or "))
	case len(imgs) == 0:
		g.warnf("the store at %s holds no images yet: ferry pull IMAGE, or ferry load BUNDLE\n", h.Dir)
	}
	if g.JSON {
		if imgs == nil {
			imgs = []store.ImageRecord{}
		}
		return g.printJSON(imgs)
	}
	for _, im := range imgs {
		if im.Chart == nil {
			g.printf("%-40s %s %s %s\n", spec.Quote(im.Name), im.Digest, quoteAll(im.Platforms), im.Updated.Format("2006-01-02 15:04"))
		}
	}
	for _, im := range imgs {
		if c := im.Chart; c != nil {
			g.printf("%-40s %s chart %s %s, needs %d image(s) %s\n", spec.Quote(im.Name), im.Digest, spec.Quote(c.Name),
				spec.Quote(c.Version), len(c.Images), im.Updated.Format("2006-01-02 15:04"))
		}
	}
	return nil
}

// patterns are the images ls and du show: none means every one.
type patterns []string

// check refuses a pattern that is not a glob (an unclosed [).
func (ps patterns) check() error {
	for _, p := range ps {
		if _, err := path.Match(p, ""); err != nil {
			return usage(fmt.Errorf("pattern %q: %v: close each [ with ], or put \\ before it", p, err))
		}
	}
	return nil
}

// match reports whether a pattern names the image or chart name (every
// name does when there is none): as it is, by its repository, as Docker
// shows either (Familiar: "nginx" for docker.io/library/nginx:1.25), or
// as a glob (path.Match, where * stops at a /).
func (ps patterns) match(name string) bool {
	if len(ps) == 0 {
		return true
	}
	short, shortRepo := runtime.Familiar(name), runtime.Familiar(runtime.Repository(name))
	for _, p := range ps {
		if fp := runtime.Familiar(p); fp == short || fp == shortRepo {
			return true
		}
		for _, n := range []string{name, short} {
			if ok, _ := path.Match(p, n); ok {
				return true
			}
		}
	}
	return false
}

// DuCmd is `ferry du`.
type DuCmd struct {
	Patterns patterns `arg:"" optional:"" name:"pattern" complete:"image" help:"Show only the images (and charts) a pattern names, as ls takes it (nginx, example.com/*/app:1.*); the total stays the store's."`
}

func (c *DuCmd) Run(g *Globals) error {
	if err := c.Patterns.check(); err != nil {
		return err
	}
	h, err := g.openHomeReadOnly()
	if err != nil {
		return err
	}
	defer h.Close()
	total, per, unique, err := h.DiskUsage()
	if err != nil {
		return err
	}
	for n := range per {
		if !c.Patterns.match(n) {
			delete(per, n)
			delete(unique, n)
		}
	}
	if len(per) == 0 && len(c.Patterns) > 0 {
		g.warnf("no image in the store at %s matches %s\n", h.Dir, strings.Join(c.Patterns, " or "))
	}
	if g.JSON {
		return g.printJSON(map[string]any{"total": total, "images": per, "unique": unique})
	}
	names := make([]string, 0, len(per))
	for n := range per {
		names = append(names, n)
	}
	sort.Strings(names)
	g.printf("%-40s %12s %12s\n", "IMAGE", "SIZE", "UNIQUE")
	for _, n := range names {
		g.printf("%-40s %12s %12s\n", spec.Quote(n), humanBytes(per[n]), humanBytes(unique[n]))
	}
	g.printf("%-40s %12s\n", "total on disk", humanBytes(total))
	return nil
}

// CopyCmd is `ferry copy IMAGE TARGET`.
type CopyCmd struct {
	Image    string   `arg:"" complete:"image" help:"Image: ${sources} (a bare name is an image in the store, or where --from says), or a docker save archive (./app.tar)."`
	Target   string   `arg:"" complete:"target" help:"Target: ${targets}."`
	Platform []string `complete:"platform" help:"Keep only these platforms of an image index; repeatable."`
	targetFlags
}

func (c *CopyCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	t, err := openTarget(g, h, c.Target, c.targetFlags)
	if err != nil {
		return err
	}
	defer t.Close()
	inputs, closeAll, err := openInputs(g, h, []string{sourceArg(c.Image)}, g.From != "")
	defer closeAll()
	if err != nil {
		return err
	}
	w, err := trip.Copy(g.ctx, inputs, c.Platform, t)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", c.Image, c.Target, err)
	}
	w.Target = c.Target
	if g.JSON {
		return g.printJSON(w)
	}
	printWritten(g, "copied", w)
	return nil
}

// GcCmd is `ferry gc`.
type GcCmd struct {
	DryRun bool `help:"Say what would be removed, remove nothing."`
}

func (c *GcCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	res, err := h.GC(g.ctx, c.DryRun)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(res)
	}
	verb := "removed"
	if c.DryRun {
		verb = "would remove"
	}
	g.printf("%s %d blob(s), %s\n", verb, len(res.Removed), humanBytes(res.Bytes))
	return nil
}
