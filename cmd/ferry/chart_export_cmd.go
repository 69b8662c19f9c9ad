package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime/helm"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// ChartExportCmd is `ferry chart export NAME[:VERSION] [-o FILE.tgz]`.
type ChartExportCmd struct {
	Chart  string `arg:"" placeholder:"NAME[:VERSION]" help:"A chart in the store (ferry ls lists them); without a version, the newest."`
	Output string `short:"o" placeholder:"FILE" help:"Where to write the archive: a file, or a directory to write NAME-VERSION.tgz in (default ./NAME-VERSION.tgz; - for standard output)."`
}

func (c *ChartExportCmd) Run(g *Globals) error {
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	rec, err := findChart(h, c.Chart)
	if err != nil {
		return err
	}
	write := func(f *os.File) error { return helm.WriteArchive(g.ctx, h.Store, rec.Image().Desc, f) }
	if c.Output == "-" {
		return write(os.Stdout)
	}
	out := c.Output
	if out == "" || isDir(out) {
		out = filepath.Join(out, rec.Chart.Name+"-"+rec.Chart.Version+".tgz")
	}
	if err := atomicfile.Write(out, 0o644, write); err != nil {
		return fmt.Errorf("chart %s %s: %w", rec.Chart.Name, rec.Chart.Version, err)
	}
	if g.JSON {
		return g.printJSON(map[string]string{"archive": out, "chart": rec.Chart.Name, "version": rec.Chart.Version})
	}
	g.printf("wrote %s: chart %s %s\n", out, rec.Chart.Name, rec.Chart.Version)
	return nil
}

// findChart finds NAME or NAME:VERSION among the store's charts; without
// a version, the newest, as Helm chooses.
func findChart(h *store.Home, arg string) (store.ImageRecord, error) {
	name, version, _ := strings.Cut(arg, ":")
	version = strings.ReplaceAll(version, "_", "+") // the tag form of a version
	recs, err := h.Catalog.Charts(name)
	if err != nil {
		return store.ImageRecord{}, err
	}
	if len(recs) == 0 {
		return store.ImageRecord{}, fmt.Errorf("chart %s: %w in the store at %s (ferry ls lists the charts)", spec.Quote(name), spec.ErrNotFound, h.Dir)
	}
	versions := make([]string, len(recs))
	for i, r := range recs {
		versions[i] = r.Chart.Version
	}
	v, err := helm.PickVersion(versions, version)
	if err != nil {
		return store.ImageRecord{}, fmt.Errorf("chart %s in the store (versions %s): %w", spec.Quote(name), strings.Join(versions, ", "), err)
	}
	for _, r := range recs {
		if r.Chart.Version == v {
			return r, nil
		}
	}
	return store.ImageRecord{}, fmt.Errorf("chart %s %s: %w", name, v, spec.ErrNotFound)
}
