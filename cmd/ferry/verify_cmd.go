package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// VerifyCmd is `ferry verify BUNDLE...`.
type VerifyCmd struct {
	Bundles     []string `arg:"" name:"bundle" type:"existingfile" help:"Bundle files; - reads one from standard input."`
	AllowReplay bool     `help:"Do not report a bundle not newer than the last one loaded from its sender."`
	// RebuildDeltas needs the home's store, which holds the bases.
	RebuildDeltas bool `help:"Rebuild the layer of every delta entry from the bases in the home's store and check its digest, writing nothing (slower: each layer is recompressed)."`
	trustFlags
}

// trustFlags say whose signature a bundle may carry.
type trustFlags struct {
	Key                   string `type:"existingfile" help:"Trust this public key (FILE.pub) instead of the home's known sites."`
	InsecureSkipSignature bool   `help:"Read bundles that are unsigned or signed by an unknown key."`
}

// checkOptions builds the trust policy: --key, else the catalog's sites.
// h may be nil when there is no home.
func (t trustFlags) checkOptions(h *store.Home) (trip.CheckOptions, error) {
	opts := trip.CheckOptions{InsecureSkipSignature: t.InsecureSkipSignature}
	switch {
	case t.Key != "":
		data, err := os.ReadFile(t.Key)
		if err != nil {
			return opts, err
		}
		key, err := format.ParsePublicKey(data)
		if err != nil {
			return opts, fmt.Errorf("key %s: %w", t.Key, err)
		}
		var c *store.Catalog
		if h != nil {
			c = h.Catalog
		}
		opts.Trust = trip.TrustKey(key, c)
	case h != nil:
		opts.Trust = trip.TrustCatalog(h.Catalog)
	}
	return opts, nil
}

func (c *VerifyCmd) Run(g *Globals) error {
	h, err := g.openHomeReadOnly()
	if err != nil {
		if c.Key == "" && !c.InsecureSkipSignature {
			return fmt.Errorf("%w; on a machine with no home pass --key FILE.pub", err)
		}
		h = nil
	}
	if h != nil {
		defer h.Close()
	}
	opts, err := c.checkOptions(h)
	if err != nil {
		return err
	}
	if err := oneStdin(c.Bundles); err != nil {
		return err
	}
	opts.Stdin = g.stdin
	if c.RebuildDeltas && h == nil {
		return usage(errors.New("verify --rebuild-deltas: the bases are in the home's store, and there is no home here"))
	}
	opts.RebuildDeltas = c.RebuildDeltas
	var reports []*trip.Report
	var firstErr error
	for _, path := range c.Bundles {
		prog := newProgress(g, "verify", 0)
		opts.Progress = prog
		rep, err := trip.Verify(g.ctx, path, opts, trip.Admission{AllowReplay: c.AllowReplay}, h)
		prog.Done()
		if err != nil {
			reports = append(reports, &trip.Report{Bundle: path, Faults: []trip.Fault{{What: err.Error()}}})
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		reports = append(reports, rep)
		if err := rep.Err(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	sets := trip.Sets(reports)
	if g.JSON {
		if err := g.printJSON(reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			printReport(g, "verify", r)
		}
		printSets(g, sets)
	}
	if err := setsErr(sets); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil && !spec.IsBadInput(firstErr) {
		return firstErr
	}
	if firstErr != nil {
		return fmt.Errorf("verification failed: %w", errors.Join(firstErr))
	}
	return nil
}

// printReport prints what verify or load found. Every string that came
// from the bundle is printed through spec.Quote, so that none can forge a
// line of the report.
func printReport(g *Globals, verb string, r *trip.Report) {
	q := spec.Quote
	status := "OK"
	if !r.OK() {
		status = "FAILED"
	}
	if r.Index == nil {
		g.printf("%s %s: FAILED: %s\n", verb, r.Bundle, r.Faults[0].What)
		return
	}
	g.printf("%s %s: %s\n", verb, r.Bundle, status)
	g.printf("  bundle %s from %s (%s), sequence %d, %d entries, %s\n", q(r.ID), q(r.From), q(r.Signer), r.Index.Sequence, r.Entries, humanBytes(r.Bytes))
	if r.Volumes > 0 {
		g.printf("  volume %d of %d of set %s\n", r.Volume, r.Volumes, q(r.ID))
	}
	if verb == "load" {
		g.printf("  blobs stored %d, already held %d\n", r.Stored, r.Held)
	}
	if r.Rebuilt > 0 {
		g.printf("  layers rebuilt from deltas %d, each checked against its digest\n", r.Rebuilt)
	}
	for _, d := range r.Repaired {
		g.printf("  REPAIRED blob %s: the store's copy was damaged; the bundle's verified copy replaced it\n", d)
	}
	for _, w := range r.Warnings {
		g.printf("  WARNING %s\n", w)
	}
	for _, f := range r.Faults {
		name := q(f.Entry)
		if f.Entry == "" {
			name = string(f.Digest)
		}
		if name == "" {
			g.printf("  FAULT %s\n", f.What)
		} else {
			g.printf("  FAULT %s: %s\n", name, f.What)
		}
	}
	for _, x := range r.Extras {
		if x.Path != "" {
			g.printf("  extra %s %s %s ok, written to %s\n", q(x.Name), x.Digest, humanBytes(x.Size), q(x.Path))
		} else {
			g.printf("  extra %s %s %s ok\n", q(x.Name), x.Digest, humanBytes(x.Size))
		}
	}
	for _, im := range r.Images {
		if im.OK {
			g.printf("  image %s %s ok\n", q(im.Name), im.Digest)
		} else if len(im.Waiting) > 0 {
			g.printf("  image %s %s waits for volume(s) %s\n", q(im.Name), im.Digest, joinInts(im.Waiting))
		} else if im.Reason != "" {
			g.printf("  image %s %s LEFT OUT: %s\n", q(im.Name), im.Digest, im.Reason)
		} else {
			g.printf("  image %s %s LEFT OUT: lacks %v\n", q(im.Name), im.Digest, im.Lacking)
		}
	}
	for _, w := range r.Written {
		printWritten(g, "  wrote", w)
	}
}

// printWritten says under which name each image went to a target.
func printWritten(g *Globals, verb string, w trip.Written) {
	for i, img := range w.Images {
		switch name := w.Names[i]; {
		case name == "":
			g.printf("%s %s to %s (unnamed)\n", verb, img, w.Target)
		case name == img:
			g.printf("%s %s to %s\n", verb, img, w.Target)
		default:
			g.printf("%s %s to %s as %s\n", verb, img, w.Target, name)
		}
	}
}

// printSets says, of each set whose volumes were verified, whether it is
// complete.
func printSets(g *Globals, sets []trip.SetState) {
	for _, s := range sets {
		switch {
		case s.Complete:
			g.printf("set %s: all %d volumes verified: complete\n", spec.Quote(s.ID), s.Volumes)
		default:
			g.printf("set %s: volume(s) %s of %d verified", spec.Quote(s.ID), joinInts(s.Good), s.Volumes)
			if len(s.Faulty) > 0 {
				g.printf(", volume(s) %s FAILED", joinInts(s.Faulty))
			}
			if len(s.Missing) > 0 {
				g.printf(", volume(s) %s not given", joinInts(s.Missing))
			}
			g.printf(": incomplete\n")
		}
	}
}

// setsErr fails verify when two or more volumes of a set were given and
// the set is not complete: one volume alone is checked for itself.
func setsErr(sets []trip.SetState) error {
	for _, s := range sets {
		if !s.Complete && len(s.Good)+len(s.Faulty) > 1 {
			return fmt.Errorf("set %s: %d of %d volumes verified: %w", s.ID, len(s.Good), s.Volumes, spec.ErrIncomplete)
		}
	}
	return nil
}

func joinInts(ns []int) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, ", ")
}
