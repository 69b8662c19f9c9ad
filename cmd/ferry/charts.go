package main

import (
	"fmt"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/format/shipment"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/helm"
	"github.com/ferryhq/ferry/store"
	"github.com/ferryhq/ferry/store/trip"
)

// chartFlags say which version of a chart to take and how to render it,
// as helm's own flags do.
type chartFlags struct {
	Version      string   `placeholder:"V" help:"Chart version; for --repo and oci:// charts also a semver constraint (default: the newest stable version)."`
	Repo         string   `placeholder:"URL" help:"A classic chart repository: CHART is the name of a chart in its index.yaml."`
	Values       []string `short:"f" name:"values" type:"existingfile" sep:"none" placeholder:"FILE" help:"Values file; repeatable, later files win."`
	Set          []string `sep:"none" placeholder:"K=V" help:"Set a value as helm --set does; repeatable, after the values files."`
	SetString    []string `name:"set-string" sep:"none" placeholder:"K=V" help:"Set a string value as helm --set-string does; repeatable, last."`
	KubeVersion  string   `placeholder:"X.Y.Z" help:"Kubernetes version to render for, .Capabilities.KubeVersion (default ${kube_version}: the newest the Helm SDK's Kubernetes client libraries know)."`
	ReleaseName  string   `placeholder:"NAME" help:"Release name to render with (default release)."`
	Namespace    string   `placeholder:"NS" help:"Namespace to render with (default default)."`
	IncludeTests bool     `help:"Count the images of test hooks (helm.sh/hook: test) too."`
}

func (f chartFlags) loadOptions(g *Globals) (helm.LoadOptions, error) {
	reg, err := g.registryOptions(nil)
	return helm.LoadOptions{Version: f.Version, Repo: f.Repo, Registry: reg, Warn: g.warning}, err
}

// warning writes a warning to stderr.
func (g *Globals) warning(m string) { g.warnf("warning: %s\n", m) }

func (f chartFlags) renderOptions(g *Globals) helm.RenderOptions {
	return helm.RenderOptions{ValueFiles: f.Values, Set: f.Set, SetString: f.SetString, KubeVersion: f.KubeVersion,
		ReleaseName: f.ReleaseName, Namespace: f.Namespace, IncludeTests: f.IncludeTests, Warn: g.warning}
}

// chartRequest is one chart to ship and how: from save --chart and its
// flags, or from a shipment file.
type chartRequest struct {
	ref       string
	load      helm.LoadOptions
	render    helm.RenderOptions
	add, skip []string
}

// fromShipment turns a shipment file's charts into requests, with the
// registry options of the command line.
func fromShipment(g *Globals, f *shipment.File) ([]chartRequest, error) {
	reg, err := g.registryOptions(nil)
	if err != nil {
		return nil, err
	}
	var out []chartRequest
	for _, c := range f.Charts {
		out = append(out, chartRequest{ref: c.Chart,
			load: helm.LoadOptions{Version: c.Version, Repo: c.Repo, Registry: reg, Warn: g.warning},
			render: helm.RenderOptions{ValueFiles: c.Values, Set: c.Set, SetString: c.SetString, KubeVersion: c.KubeVersion,
				ReleaseName: c.ReleaseName, Namespace: c.Namespace, IncludeTests: c.IncludeTests, Warn: g.warning},
			add: c.AddImages, skip: c.SkipImages})
	}
	return out, nil
}

// openCharts loads each chart, finds the images it needs, and returns
// what save ships for it: every image (opened as a bare name is: the
// store, the runtimes, then its registry), then the chart's artifact.
// The returned func closes what was opened; call it even on error.
func openCharts(g *Globals, h *store.Home, reqs []chartRequest) ([]trip.Input, func(), error) {
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	var inputs []trip.Input
	for _, r := range reqs {
		ch, err := helm.Load(g.ctx, r.ref, r.load)
		if err != nil {
			return nil, closeAll, err
		}
		closers = append(closers, func() { ch.Close() })
		found, err := ch.Images(g.ctx, r.render)
		if err != nil {
			return nil, closeAll, err
		}
		refs, err := helm.Select(found, r.add, r.skip)
		if err != nil {
			return nil, closeAll, fmt.Errorf("chart %s %s: %w", ch.Name, ch.Version, err)
		}
		g.warnf("chart %s %s (%s): %d image(s)\n", ch.Name, ch.Version, ch.Source, len(refs))
		images, closeImages, err := openInputs(g, h, refs, true)
		closers = append(closers, closeImages)
		if err != nil {
			return nil, closeAll, fmt.Errorf("chart %s %s: %w", ch.Name, ch.Version, err)
		}
		art, f, err := ch.Artifact()
		if err != nil {
			return nil, closeAll, err
		}
		inputs = append(inputs, images...)
		inputs = append(inputs, trip.Input{Image: art, From: f,
			Chart: &format.Chart{Name: ch.Name, Version: ch.Version, Images: refs}})
	}
	return inputs, closeAll, nil
}

// holdsCharts says whether a target holds OCI artifacts that are not
// container images, so that charts are written there: a registry and an
// OCI layout or archive do; Docker, containerd, podman and docker-archive
// get the images only.
func holdsCharts(target string) bool {
	ref, err := runtime.Parse(target)
	if err != nil {
		return false
	}
	switch ref.Transport {
	case runtime.TransportRegistry, runtime.TransportOCI, runtime.TransportOCIArchive:
		return true
	}
	return false
}
