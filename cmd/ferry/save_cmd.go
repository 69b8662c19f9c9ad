package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/format/shipment"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// SaveCmd is `ferry save IMAGE... [--chart CHART]... [--manifest FILE] [-o FILE]`.
type SaveCmd struct {
	Images        []string `arg:"" optional:"" name:"image" complete:"image" help:"Images: ${sources} (a bare name is looked for in the store, then docker, containerd, podman, then its registry)."`
	Container     []string `help:"Snapshot this Docker container (a commit tagged ferry-snapshot/<name>:<UTC time>) and save it; repeatable."`
	Output        string   `short:"o" type:"path" help:"Bundle file to write, or a directory to write the default name in (default ./<repo>_<tag>.ferry); - writes it to standard output (never a terminal)."`
	OutDir        string   `type:"path" default:"." help:"Directory for the default bundle name."`
	For           string   `name:"for" complete:"site" help:"Destination site (a name added with ferry site add)."`
	Since         []string `complete:"image" help:"Omit the layers of this base image (a bare tag means the same repository as each image); repeatable."`
	Exclude       []string `short:"e" complete:"image" help:"Omit the layers of this image; repeatable."`
	OnlyConfirmed bool     `help:"With --for, count as held only blobs a receipt confirmed, not those merely shipped."`
	Platform      []string `complete:"platform" help:"Keep only these platforms of an image index (os/arch[/variant]); repeatable."`
	Compression   string   `enum:"zstd,none" default:"zstd" help:"Bundle compression: zstd or none."`
	NoDeltas      bool     `help:"Ship every layer the destination lacks whole. By default, with --for or --since, a layer the destination lacks ships as a delta against layers it holds when the delta rebuilds it exactly (spec/delta-v1.md) and is smaller."`
	Split         string   `placeholder:"SIZE" help:"Write the bundle as volumes of at most SIZE bytes each, NAME.1-of-N.ferry ... for -o NAME.ferry: a size with a unit (700M, 4.7G, 25GB, 4GiB) or a medium (cd, dvd, dvd-dl, bd25, bd50, fat32)."`
	DryRun        bool     `help:"Print the plan and write nothing: per layer shipped whole, as a delta (its bases, recipe, bytes saved) or omitted, and why; with --split, how the blobs fall into volumes."`
	Chart         []string `placeholder:"CHART" help:"Ship this Helm chart and every image it needs: a chart directory, a .tgz, oci://HOST/PATH/NAME, or with --repo a chart name; repeatable (the chart flags below apply to each)."`
	AddImage      []string `placeholder:"REF" help:"With --chart, ship this image too; repeatable."`
	SkipImage     []string `placeholder:"REF" help:"With --chart, do not ship this image a chart needs; repeatable."`
	Manifest      string   `type:"existingfile" placeholder:"FILE" help:"A shipment file (spec/manifest-v1.md): charts, each with its own version, repository, values and images, and plain images."`
	chartFlags
	withFerry
}

func (c *SaveCmd) Run(g *Globals) error {
	charts, err := c.chartRequests(g)
	if err != nil {
		return err
	}
	if len(c.Images) == 0 && len(c.Container) == 0 && len(charts) == 0 && len(c.WithFerry) == 0 {
		return usage(errors.New("save: name at least one image, --container, --chart, --manifest or --with-ferry"))
	}
	extras, err := c.releaseFiles()
	if err != nil {
		return err
	}
	split, err := c.splitSize()
	if err != nil {
		return err
	}
	if c.Output == "-" && isTerminal(g.stdout) {
		return usage(errors.New("save -o -: standard output is a terminal; redirect it to a file or a pipe (ferry save … -o - > trip.ferry)"))
	}
	h, err := g.openHome()
	if err != nil {
		return err
	}
	defer h.Close()
	self, err := h.Catalog.Self()
	if err != nil {
		return err
	}
	if c.For != "" {
		if _, err := h.Catalog.Site(c.For); err != nil {
			return fmt.Errorf("save --for %s: %w", c.For, err)
		}
	}
	if err := c.snapshot(g); err != nil {
		return err
	}
	spool := trip.NewFrameSpool(h.TmpDir(), c.Compression)
	defer spool.Close()
	g.spool = spool
	inputs, closeAll, err := openInputs(g, h, c.Images, true)
	defer closeAll()
	g.spool = nil // bases (--since, --exclude) are read, not shipped
	if err != nil {
		return err
	}
	chartInputs, closeCharts, err := openCharts(g, h, charts)
	defer closeCharts()
	if err != nil {
		return err
	}
	inputs = append(inputs, chartInputs...)
	plan, err := trip.MakePlan(g.ctx, inputs, c.Platform)
	if err != nil {
		return err
	}
	omit, closeBases, err := c.omitOptions(g, h, plan)
	defer closeBases()
	if err != nil {
		return err
	}
	plan.Omit(omit)
	defer plan.Close()
	if err := c.deltas(g, h, plan, omit); err != nil {
		return err
	}
	if c.DryRun && split == 0 {
		return printPlan(g, plan.DryRun(c.For))
	}
	signer, err := format.LoadSigner(h.KeyPath())
	if err != nil {
		return err
	}
	seq, err := h.Catalog.NextSequence()
	if err != nil {
		return err
	}
	if c.DryRun {
		return c.printVolumes(g, plan, trip.SaveOptions{Signer: signer, From: self, To: c.For, Sequence: seq,
			Compression: c.Compression, Extras: extras, Spool: spool, Split: split})
	}
	created, err := createdTime()
	if err != nil {
		return err
	}
	out := c.Output
	switch {
	case out == "":
		out = filepath.Join(c.OutDir, defaultBundleName(plan, len(c.Images) == 0))
	case isDir(out):
		out = filepath.Join(out, defaultBundleName(plan, len(c.Images) == 0))
	}
	prog := newProgress(g, "save", plan.Bytes)
	res, err := trip.Save(g.ctx, plan, trip.SaveOptions{Path: out, Stdout: g.stdout, Signer: signer, From: self, To: c.For,
		Sequence: seq, Created: created, Compression: c.Compression, Progress: prog, TmpDir: h.TmpDir(), Extras: extras, Spool: spool, Split: split})
	prog.Done()
	if err != nil {
		return err
	}
	if err := trip.RecordMade(g.ctx, h.Catalog, res); err != nil {
		return err
	}
	if out == "-" { // the bundle is on stdout: what is said of it goes to stderr
		g.stdout = g.stderr
	}
	deltas, _ := deltaCount(res.Index)
	if g.JSON {
		return g.printJSON(map[string]any{"bundle": res.Path, "volumes": list(res.Volumes), "id": res.Index.ID, "sequence": res.Index.Sequence,
			"to": res.Index.To, "deltas": deltas, "images": list(res.Index.Images), "charts": list(res.Index.Charts), "extras": list(extras),
			"blobs": len(res.Index.Blobs), "size": res.Size})
	}
	shipped := ""
	if n := len(res.Index.Charts); n > 0 {
		shipped = fmt.Sprintf(", %d chart(s)", n)
	}
	if n := len(extras); n > 0 {
		shipped += fmt.Sprintf(", %d release file(s) of ferry %s", n, strings.Join(c.WithFerry, " "))
	}
	if n, saved := deltaCount(res.Index); n > 0 {
		shipped += fmt.Sprintf(", %d layer(s) as deltas (%s saved)", n, humanBytes(saved))
	}
	wrote := res.Path
	if n := len(res.Volumes); n > 0 {
		wrote = fmt.Sprintf("%d volumes, %s … %s", n, res.Volumes[0], res.Volumes[n-1])
	}
	g.printf("wrote %s: %d image(s)%s, %d blob(s), %s (bundle %s, sequence %d)\n", wrote,
		len(res.Index.Images), shipped, len(res.Index.Blobs), humanBytes(res.Size), res.Index.ID, res.Index.Sequence)
	return nil
}

// splitSize reads --split: 0 when not given.
func (c *SaveCmd) splitSize() (int64, error) {
	if c.Split == "" {
		return 0, nil
	}
	if c.Output == "-" {
		return 0, usage(errors.New("save --split writes volumes to files: give -o NAME.ferry, not -"))
	}
	n, err := spec.ParseSize(c.Split)
	if err != nil {
		return 0, fmt.Errorf("save --split: %w", err)
	}
	return n, nil
}

// printVolumes prints how the blobs of plan fall into volumes.
func (c *SaveCmd) printVolumes(g *Globals, plan *trip.Plan, opts trip.SaveOptions) error {
	vols, err := trip.PlanVolumes(plan, opts)
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(map[string]any{"plan": plan.DryRun(c.For), "volumes": vols})
	}
	for _, v := range vols {
		g.printf("volume %d of %d: %s of blobs\n", v.Number, len(vols), humanBytes(v.Bytes))
		for _, b := range v.Blobs {
			part := "whole"
			if b.Part > 0 {
				part = fmt.Sprintf("part %d/%d", b.Part, b.Parts)
			}
			g.printf("  %-8s %s %10s  %s\n", b.Role, shortDigest(b.Digest), humanBytes(b.Size), part)
		}
	}
	g.printf("split into %d volume(s) of at most %s each\n", len(vols), humanBytes(opts.Split))
	return nil
}

// chartRequests gathers the charts to ship: each --chart with the chart
// flags, then the charts of --manifest, whose images join the others.
func (c *SaveCmd) chartRequests(g *Globals) ([]chartRequest, error) {
	var out []chartRequest
	if len(c.Chart) > 0 {
		load, err := c.loadOptions(g)
		if err != nil {
			return nil, err
		}
		for _, ref := range c.Chart {
			out = append(out, chartRequest{ref: ref, load: load, render: c.renderOptions(g), add: c.AddImage, skip: c.SkipImage})
		}
	} else if len(c.AddImage) > 0 || len(c.SkipImage) > 0 {
		return nil, usage(errors.New("save: --add-image and --skip-image go with --chart"))
	}
	if c.Manifest == "" {
		return out, nil
	}
	f, err := shipment.Read(c.Manifest)
	if err != nil {
		return nil, err
	}
	c.Images = append(c.Images, f.Images...)
	more, err := fromShipment(g, f)
	return append(out, more...), err
}

// snapshot commits each --container and adds its image to those saved.
func (c *SaveCmd) snapshot(g *Globals) error {
	for _, name := range c.Container {
		ref, err := docker.Commit(g.ctx, docker.Options{}, name)
		if err != nil {
			return fmt.Errorf("save --container %s: %w", name, err)
		}
		g.warnf("container %s: snapshot %s\n", name, ref)
		c.Images = append(c.Images, "docker-daemon:"+ref)
	}
	return nil
}

// deltaMemoryLimit is the soft limit of the Go heap while deltas are
// built: their encoders and proofs make garbage fast, and without it the
// heap outgrew what is live (about 23 MB) by twice under a busy CPU, taking
// a save past 64 MiB of RSS. GOMEMLIMIT, if set, wins.
const deltaMemoryLimit = 32 << 20

// deltas ships as deltas the layers the destination lacks that a delta
// rebuilds exactly (trip.Plan.Deltas): by default with --for or --since.
func (c *SaveCmd) deltas(g *Globals, h *store.Home, plan *trip.Plan, omit trip.OmitOptions) error {
	if c.NoDeltas || (c.For == "" && len(c.Since) == 0) {
		return nil
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(deltaMemoryLimit))
	}
	o := trip.DeltaOptions{Home: h, Site: c.For, OnlyConfirmed: c.OnlyConfirmed, Bases: omit.Bases}
	if !g.JSON {
		o.Note = func(msg string) { g.warnf("save: %s\n", msg) }
	}
	return plan.Deltas(g.ctx, o)
}

// omitOptions gathers what the destination holds: the site's inventory
// (--for) and the layers of --since and --exclude images.
func (c *SaveCmd) omitOptions(g *Globals, h *store.Home, plan *trip.Plan) (trip.OmitOptions, func(), error) {
	o := trip.OmitOptions{OnlyConfirmed: c.OnlyConfirmed}
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	if c.For != "" {
		held, err := h.Catalog.Holdings(c.For, plan.Layers())
		if err != nil {
			return o, closeAll, err
		}
		o.Held = held
	}
	for _, group := range []struct {
		refs     []string
		excluded bool
	}{{c.Since, false}, {c.Exclude, true}} {
		for _, ref := range group.refs {
			for _, expanded := range baseRefs(c.Images, ref) {
				inputs, closeInputs, err := openInputs(g, h, []string{expanded}, true)
				closers = append(closers, closeInputs)
				if err != nil {
					return o, closeAll, fmt.Errorf("base %s: %w", ref, err)
				}
				base, err := trip.ReadBase(g.ctx, expanded, group.excluded, inputs)
				if err != nil {
					return o, closeAll, err
				}
				o.Bases = append(o.Bases, base)
			}
		}
	}
	return o, closeAll, nil
}

// baseRefs expands a --since or --exclude value: a bare tag means the same
// place as each image with that tag (imgcd's short form); anything else is
// an image name as it stands.
func baseRefs(images []string, ref string) []string {
	if !runtime.IsBareTag(ref) {
		return []string{ref}
	}
	var out []string
	seen := map[string]bool{}
	for _, img := range images {
		r, err := runtime.Parse(img)
		if err != nil {
			continue
		}
		s := r.WithTag(ref).String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// createdTime honours SOURCE_DATE_EPOCH (reproducible builds' convention)
// so that the same inputs give the same bundle bytes.
func createdTime() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, spec.Mark(fmt.Errorf("SOURCE_DATE_EPOCH=%q: want the seconds since 1970 as a whole number (such as 1700000000), or unset it", s),
			spec.ErrBadInput)
	}
	return time.Unix(n, 0), nil
}

// defaultBundleName is imgcd's <repo>_<tag>: the first image's last path
// element and tag, with the count of the others; a bundle of charts alone
// is named after its first chart, <chart>_<version>.
func defaultBundleName(p *trip.Plan, chartsOnly bool) string {
	name := "bundle"
	if chartsOnly && len(p.Charts) > 0 {
		name = p.Charts[0].Name + "_" + spec.ChartTag(p.Charts[0].Version)
		if len(p.Charts) > 1 {
			name += fmt.Sprintf("_and_%d_more", len(p.Charts)-1)
		}
		return name + spec.FileExtension
	}
	if len(p.Images) > 0 && p.Images[0].Name != "" {
		n := p.Images[0].Name
		if i := strings.IndexByte(n, '@'); i >= 0 {
			n = n[:i]
		}
		repo, tag := n, ""
		if colon := strings.LastIndexByte(n, ':'); colon > strings.LastIndexByte(n, '/') {
			repo, tag = n[:colon], n[colon+1:]
		}
		name = repo[strings.LastIndexByte(repo, '/')+1:]
		if tag != "" {
			name += "_" + tag
		}
	}
	if len(p.Images) > 1 {
		name += fmt.Sprintf("_and_%d_more", len(p.Images)-1)
	}
	return name + spec.FileExtension
}

// deltaCount counts the layers ix ships as deltas and the bytes that
// saves.
func deltaCount(ix *format.Index) (n int, saved int64) {
	for _, b := range ix.Blobs {
		if b.Kind == spec.KindDelta && b.Delta != nil {
			n++
			saved += b.Size - b.Delta.Size
		}
	}
	return n, saved
}

func printPlan(g *Globals, r trip.DryRun) error {
	if g.JSON {
		return g.printJSON(r)
	}
	for _, im := range r.Images {
		if im.Chart {
			g.printf("chart %s %s\n", im.Name, im.Digest)
		} else {
			g.printf("image %s %s %v\n", im.Name, im.Digest, im.Platforms)
		}
		for _, b := range im.Blobs {
			g.printf("  %-8s %-8s %s %10s  %s\n", b.Status, b.Role, shortDigest(b.Digest), humanBytes(b.Size), b.Reason)
			if d := b.Delta; d != nil {
				g.printf("           delta of %s, %s saved; %d of %d files from the bases (%d patched); recipe %s\n",
					humanBytes(d.Size), humanBytes(d.Saved), d.Copied+d.Patched, d.Files, d.Patched, recipeText(d.Recipe))
				for _, base := range d.Bases {
					g.printf("           base %s\n", base)
				}
			}
		}
	}
	to := "any site"
	if r.To != "" {
		to = "site " + r.To
	}
	deltas := ""
	if r.Deltas > 0 {
		deltas = fmt.Sprintf(" (%d layer(s) as deltas)", r.Deltas)
	}
	g.printf("plan for %s: %d blob(s) shipped%s, %s; %d omitted, %s saved\n", to, r.Shipped, deltas, humanBytes(r.Bytes), r.Omitted, humanBytes(r.Saved))
	return nil
}

// recipeText says how a delta's layer is recompressed.
func recipeText(r spec.Recipe) string {
	switch r.Compression {
	case spec.CompressionNone:
		return "none (an uncompressed tar)"
	case spec.CompressionGzip:
		s := fmt.Sprintf("gzip by %s level %d", spec.Quote(r.Encoder), r.Level)
		if r.BlockSize > 0 {
			s += fmt.Sprintf(" in blocks of %s", humanBytes(r.BlockSize))
		}
		return s
	}
	return fmt.Sprintf("%s by %s level %d, window %s", r.Compression, spec.Quote(r.Encoder), r.Level, humanBytes(r.WindowSize))
}
