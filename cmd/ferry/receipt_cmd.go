package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// ReceiptCmd groups the receipt subcommands: the way back.
type ReceiptCmd struct {
	Create ReceiptCreateCmd `cmd:"" help:"On the site: write a signed receipt of what this store holds."`
	Apply  ReceiptApplyCmd  `cmd:"" help:"On the sender: check a site's receipt and reconcile its inventory."`
}

// ReceiptCreateCmd is `ferry receipt create [-o FILE]`.
type ReceiptCreateCmd struct {
	Output  string   `short:"o" type:"path" help:"Receipt file, or a directory to write <site>-receipt.ferry in (default ./<site>-receipt.ferry)."`
	Include []string `placeholder:"RUNTIME:" complete:"runtime" help:"Also declare what a runtime holds (docker-daemon:, containerd:, podman:, or one image such as docker-daemon:app:1.0): its images are imported into the store first; repeatable."`
}

func (c *ReceiptCreateCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	for _, inc := range c.Include {
		if err := includeRuntime(g, h, inc); err != nil {
			return err
		}
	}
	place := c.Output
	if place == "" {
		place = "." + string(filepath.Separator)
	}
	path, _, err := writeReceipt(g, h, place)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]any{"receipt": path})
	}
	g.printf("receipt: %s\n", path)
	return nil
}

// writeReceipt signs a receipt of h's store and writes it to the first
// of places where it can be written: a place is a file, or a directory
// (ending in a separator) for <site>-receipt.ferry in it. It returns the
// path, and the errors of the places it passed over.
func writeReceipt(g *Globals, h *store.Home, places ...string) (string, []error, error) {
	signer, err := format.LoadSigner(h.KeyPath())
	if err != nil {
		return "", nil, err
	}
	rc, err := trip.CreateReceipt(g.ctx, h, time.Now())
	if err != nil {
		return "", nil, err
	}
	var skipped []error
	for _, p := range places {
		if strings.HasSuffix(p, string(filepath.Separator)) || isDir(p) {
			p = filepath.Join(p, rc.Site+"-receipt.ferry")
		}
		if err = trip.WriteReceiptFile(p, rc, signer); err == nil {
			return p, skipped, nil
		}
		skipped = append(skipped, err)
	}
	return "", skipped, err
}

// ReceiptApplyCmd is `ferry receipt apply FILE`.
type ReceiptApplyCmd struct {
	File string `arg:"" type:"existingfile" help:"A receipt from a site."`
}

func (c *ReceiptApplyCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	rc, res, err := trip.ApplyReceipt(g.ctx, h, c.File)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]any{"site": rc.Site, "sequence": rc.Sequence, "created": rc.Created,
			"confirmed": res.Confirmed, "reset": res.Reset, "inFlight": res.InFlight, "mismatched": list(res.Mismatched), "whole": list(res.Whole), "stale": res.Stale})
	}
	if res.Stale {
		g.printf("receipt %d from %s is not newer than receipt %d already applied: nothing changed\n", rc.Sequence, rc.Site, res.Last)
		return nil
	}
	g.printf("receipt %d from %s (created %s): %d blob(s) confirmed, %d shipped but not held go back to missing\n",
		rc.Sequence, rc.Site, rc.Created, res.Confirmed, res.Reset)
	if res.InFlight > 0 {
		g.printf("  %d blob(s) of bundles newer than the receipt covers stay shipped: they were still on their way\n", res.InFlight)
	}
	for _, d := range res.Mismatched {
		g.printf("  blob %s: the receipt lists it at another size than was shipped: not held, it will be sent again\n", d)
	}
	for _, d := range res.Whole {
		g.printf("  layer %s: shipped as a delta, not held: its next trip to %s is whole\n", d, rc.Site)
	}
	return nil
}

// includeRuntime imports the images a runtime holds into the store, so
// that the receipt declares them and the first trip to a site that
// already runs older versions is incremental too.
func includeRuntime(g *Globals, h *store.Home, inc string) error {
	ref, err := runtime.Parse(inc)
	if err != nil {
		return err
	}
	src, err := openRuntime(h, ref.Transport, ref.Tag, nil)
	if err != nil {
		return fmt.Errorf("--include %s: %w", inc, err)
	}
	defer src.Close()
	imgs, err := src.Resolve(g.ctx)
	if err != nil {
		return fmt.Errorf("--include %s: %w", inc, err)
	}
	inputs := make([]trip.Input, 0, len(imgs))
	for _, im := range imgs {
		inputs = append(inputs, trip.Input{Image: im, From: src})
	}
	names, err := trip.Import(g.ctx, h, inputs, nil)
	if err != nil {
		return fmt.Errorf("--include %s: %w", inc, err)
	}
	g.warnf("%s: %d image(s) imported into the store: %s\n", inc, len(names), strings.Join(names, ", "))
	return nil
}
