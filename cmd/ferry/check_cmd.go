package main

import (
	"fmt"

	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// CheckCmd is `ferry check [--read-data] [--repair]`.
type CheckCmd struct {
	ReadData bool `help:"Re-hash every blob, not only check presence and size."`
	Repair   bool `help:"Remove each damaged or missing blob and the images that need them, so that nothing damaged can be delivered (a later load of a bundle that carries them brings them back)."`
}

func (c *CheckCmd) Run(g *Globals) error {
	open := g.openHomeReadOnly
	if c.Repair {
		open = g.openHome
	}
	h, err := open()
	if err != nil {
		return err
	}
	defer h.Close()
	probs, err := h.Check(g.ctx, c.ReadData, nil)
	if err != nil {
		return err
	}
	var faults, harmless []store.Problem
	for _, p := range probs {
		if p.Harmless() {
			harmless = append(harmless, p)
		} else {
			faults = append(faults, p)
		}
	}
	var repaired *store.RepairResult
	if c.Repair && len(faults) > 0 {
		res, err := h.Repair(g.ctx, faults)
		if err != nil {
			return err
		}
		repaired = &res
	}
	if g.JSON {
		probs = list(probs)
		if c.Repair {
			return g.printJSON(map[string]any{"problems": probs, "repaired": repaired})
		}
		if err := g.printJSON(probs); err != nil {
			return err
		}
	} else {
		printProblems(g, faults, harmless)
		printRepair(g, repaired)
	}
	if len(faults) > 0 && repaired == nil {
		return fmt.Errorf("check %s: %d problem(s) (ferry check --read-data --repair removes what is damaged): %w", h.Dir, len(faults), spec.ErrCorrupt)
	}
	if !g.JSON && repaired == nil {
		g.printf("store %s: ok\n", h.Dir)
	}
	return nil
}

// printProblems prints each fault, and the unreferenced files as one
// line: there may be thousands, and none is a fault.
func printProblems(g *Globals, faults, harmless []store.Problem) {
	for _, p := range faults {
		subject := string(p.Digest)
		if p.Image != "" {
			subject = "image " + spec.Quote(p.Image)
		}
		g.printf("%s: %s\n", subject, p.What)
	}
	if n := len(harmless); n > 0 {
		g.printf("%d blob(s) on disk outside the catalog: unreferenced and harmless (left by a save or load that was stopped or ran out of disk); ferry gc removes them\n", n)
	}
}

func printRepair(g *Globals, r *store.RepairResult) {
	if r == nil {
		return
	}
	for _, d := range r.Blobs {
		g.printf("repaired: removed blob %s (damaged or missing)\n", d)
	}
	for _, name := range r.Images {
		g.printf("repaired: removed image %s, which needed it: load a bundle that carries it, or copy it in again\n", spec.Quote(name))
	}
	g.printf("store repaired: %d blob(s) and %d image(s) removed\n", len(r.Blobs), len(r.Images))
}
