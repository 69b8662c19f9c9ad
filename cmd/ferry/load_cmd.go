package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// LoadCmd is `ferry load BUNDLE... [--into TARGET]...`.
type LoadCmd struct {
	Bundles        []string `arg:"" name:"bundle" type:"existingfile" help:"Bundle files; - reads one from standard input."`
	Into           []string `placeholder:"TARGET" complete:"target" help:"Write the loaded images here too, repeatable: ${targets}."`
	AllowReplay    bool     `help:"Load a bundle not newer than the last one loaded from its sender."`
	AllowDowngrade bool     `help:"Move a tag to an image older than the one it points at."`
	NoReceipt      bool     `help:"Do not write a receipt."`
	Receipt        string   `type:"path" placeholder:"FILE" help:"Write the receipt here (default: <site>-receipt.ferry beside the last bundle, in the current directory for -; where that cannot be written, in the home's receipts/)."`
	targetFlags
	trustFlags
}

func (c *LoadCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	check, err := c.checkOptions(h)
	if err != nil {
		return err
	}
	if err := oneStdin(c.Bundles); err != nil {
		return err
	}
	check.Stdin = g.stdin
	opts := trip.LoadOptions{CheckOptions: check, Admission: trip.Admission{AllowReplay: c.AllowReplay}, AllowDowngrade: c.AllowDowngrade}
	for _, s := range c.Into {
		t, err := openTarget(g, h, s, c.targetFlags)
		if err != nil {
			return err
		}
		defer t.Close()
		opts.Into = append(opts.Into, trip.Destination{Name: s, Target: t, Charts: holdsCharts(s)})
	}
	var reports []*trip.Report
	var errs []error
	for _, path := range c.Bundles {
		prog := newProgress(g, "load", 0)
		opts.Progress = prog
		opts.ExtrasDir = besideBundle(path)
		rep, err := trip.Load(g.ctx, h, path, opts)
		prog.Done()
		if rep == nil && err != nil {
			rep = &trip.Report{Bundle: path, Faults: []trip.Fault{{What: err.Error()}}}
		}
		reports = append(reports, rep)
		if err != nil {
			errs = append(errs, err)
		} else if err := rep.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if g.JSON {
		if err := g.printJSON(reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			printReport(g, "load", r)
		}
	}
	if !c.NoReceipt && loadedAny(reports) {
		c.receipt(g, h)
	}
	err = errors.Join(errs...)
	if err != nil && spec.IsBadInput(err) {
		return fmt.Errorf("load: %w", err)
	}
	return err
}

// loadedAny reports whether any bundle got past its signature and
// admission, so that the store may have changed and a receipt is due.
func loadedAny(reports []*trip.Report) bool {
	for _, r := range reports {
		if r.Index != nil {
			return true
		}
	}
	return false
}

// receipt writes the site's receipt after a load: to --receipt, else
// beside the last bundle (the current directory for -), and where that
// cannot be written (a DVD, a read-only share) to the home's receipts/,
// saying so. A load that succeeded never fails for its receipt: when no
// place takes it, a warning says how to write one.
func (c *LoadCmd) receipt(g *Globals, h *store.Home) {
	first := c.Receipt
	if first == "" {
		dir := "."
		if last := c.Bundles[len(c.Bundles)-1]; last != "-" {
			dir = filepath.Dir(last)
		}
		first = dir + string(filepath.Separator)
	}
	home := filepath.Join(h.Dir, "receipts")
	os.MkdirAll(home, 0o755)
	path, skipped, err := writeReceipt(g, h, first, home+string(filepath.Separator))
	if err != nil {
		g.warnf("ferry: warning: the images are loaded, but no receipt was written (%v); write one with ferry receipt create -o FILE\n",
			errors.Join(append(skipped, err)...))
		return
	}
	if len(skipped) > 0 {
		g.warnf("ferry: the receipt could not be written where asked (%v); it is in the home: %s\n", skipped[0], path)
	}
	if !g.JSON {
		g.printf("receipt: %s (carry it back and run ferry receipt apply)\n", path)
	}
}

// oneStdin refuses "-" named twice: standard input holds one bundle.
func oneStdin(bundles []string) error {
	if n := slices.Index(bundles, "-"); n >= 0 && slices.Contains(bundles[n+1:], "-") {
		return usage(errors.New("- names standard input, which holds one bundle: give it once"))
	}
	return nil
}

// besideBundle is the directory of the bundle at path, where load writes
// the extra files it carries; the current directory for "-".
func besideBundle(path string) string {
	if path == "-" {
		return "."
	}
	return filepath.Dir(path)
}
