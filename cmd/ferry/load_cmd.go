package main

import (
	"errors"
	"fmt"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store/trip"
)

// LoadCmd is `ferry load BUNDLE... [--into TARGET]...`.
type LoadCmd struct {
	Bundles []string `arg:"" name:"bundle" type:"existingfile" help:"Bundle files."`
	Into    []string `help:"Write the loaded images here too: oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE; repeatable."`
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
	opts := trip.LoadOptions{CheckOptions: check}
	for _, s := range c.Into {
		t, err := openTarget(s)
		if err != nil {
			return err
		}
		defer t.Close()
		opts.Targets = append(opts.Targets, trip.Target{Name: s, Target: t})
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
	err = errors.Join(errs...)
	if err != nil && spec.IsBadInput(err) {
		return fmt.Errorf("load: %w", err)
	}
	return err
}
