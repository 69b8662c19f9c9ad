package main

import (
	"github.com/ferryhq/ferry/runtime/helm"
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
	return helm.LoadOptions{Version: f.Version, Repo: f.Repo, Registry: reg}, err
}

func (f chartFlags) renderOptions() helm.RenderOptions {
	return helm.RenderOptions{ValueFiles: f.Values, Set: f.Set, SetString: f.SetString, KubeVersion: f.KubeVersion,
		ReleaseName: f.ReleaseName, Namespace: f.Namespace, IncludeTests: f.IncludeTests}
}
