package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/trip"
)

// LoadCmd is `ferry load BUNDLE... [--into TARGET]...`.
type LoadCmd struct {
	Bundles        []string `arg:"" name:"bundle" type:"existingfile" help:"Bundle files."`
	Into           []string `placeholder:"TARGET" help:"Write the loaded images here too, repeatable: ${targets}."`
	AllowReplay    bool     `help:"Load a bundle not newer than the last one loaded from its sender."`
	AllowDowngrade bool     `help:"Move a tag to an image older than the one it points at."`
	NoReceipt      bool     `help:"Do not write a receipt beside the bundle."`
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
	opts := trip.LoadOptions{CheckOptions: check, Admission: trip.Admission{AllowReplay: c.AllowReplay}, AllowDowngrade: c.AllowDowngrade}
	for _, s := range c.Into {
		t, err := openTarget(g, h, s, c.targetFlags)
		if err != nil {
			return err
		}
		defer t.Close()
		opts.Targets = append(opts.Targets, trip.Target{Name: s, Target: t, Charts: holdsCharts(s)})
	}
	var reports []*trip.Report
	var errs []error
	for _, path := range c.Bundles {
		prog := newProgress(g, "load", 0)
		opts.Progress = prog
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
		path, err := writeReceipt(g, h, filepath.Dir(c.Bundles[len(c.Bundles)-1]), "")
		if err != nil {
			errs = append(errs, err)
		} else if !g.JSON {
			g.printf("receipt: %s (carry it back and run ferry receipt apply)\n", path)
		}
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
