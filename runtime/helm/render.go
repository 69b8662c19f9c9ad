package helm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/ferryhq/ferry/spec"
)

// RenderOptions are the values and the cluster a chart is rendered for,
// as `helm install` takes them. The zero value renders the chart's
// defaults for DefaultKubeVersion.
type RenderOptions struct {
	// ValueFiles are YAML values files, merged in order (later ones win).
	ValueFiles []string
	// Set and SetString are --set and --set-string values (K=V, Helm's
	// syntax), applied after the files, SetString last.
	Set, SetString []string
	// KubeVersion is .Capabilities.KubeVersion; "" means
	// DefaultKubeVersion.
	KubeVersion string
	// ReleaseName and Namespace are .Release.Name and
	// .Release.Namespace; "" means "release" and "default".
	ReleaseName, Namespace string
	// IncludeTests counts the images of test hooks (helm.sh/hook: test,
	// test-success, test-failure), which are left out by default.
	IncludeTests bool
	// Warn, when set, is told what the render could not check: a
	// values.schema.json reference to a file or URL outside the schema,
	// which ferry neither reads nor fetches (see validateValues).
	Warn func(string)
}

// rendered is a chart rendered for some values: its enabled charts (the
// top chart and each enabled subchart) and the text of each template.
type rendered struct {
	chart *chartv2.Chart    // processed: disabled subcharts removed
	files map[string]string // template path ("web/templates/x.yaml") → text
}

// render renders the chart as `helm install --dry-run` would: values
// merged as Helm merges them, subchart conditions and tags applied,
// IsInstall set, lookup returning nothing, and the chart's kubeVersion
// constraint checked against the chosen version.
func (c *Chart) render(ctx context.Context, opts RenderOptions) (*rendered, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(c.archive))
	if err != nil {
		return nil, fmt.Errorf("chart %s: %v: %w", c.Source, err, spec.ErrBadInput)
	}
	if ch.Metadata.Type == "library" {
		return nil, spec.Mark(fmt.Errorf("chart %s is a library chart: it has nothing to install; name the charts that use it", c.Name), spec.ErrBadInput)
	}
	if err := missingDependencies(ch); err != nil {
		return nil, err
	}
	caps, err := capabilities(opts.KubeVersion)
	if err != nil {
		return nil, err
	}
	if kv := ch.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return nil, spec.Mark(fmt.Errorf("chart %s %s requires kubeVersion %s, which Kubernetes %s does not meet: give the cluster's version with --kube-version",
			c.Name, c.Version, kv, caps.KubeVersion.Version), spec.ErrBadInput)
	}
	vals, err := userValues(opts)
	if err != nil {
		return nil, err
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s: dependencies: %v: %w", c.Name, err, spec.ErrBadInput)
	}
	release := common.ReleaseOptions{Name: orDefault(opts.ReleaseName, "release"),
		Namespace: orDefault(opts.Namespace, "default"), Revision: 1, IsInstall: true}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals, release, caps, true)
	if err != nil {
		return nil, fmt.Errorf("chart %s %s: values: %v: %w", c.Name, c.Version, err, spec.ErrBadInput)
	}
	merged, _ := top["Values"].(common.Values)
	unchecked, err := validateValues(ch, merged)
	if opts.Warn != nil {
		for _, ref := range unchecked {
			opts.Warn(fmt.Sprintf("chart %s %s: values.schema.json refers to %s, which ferry neither reads nor fetches: the values it describes are not checked", c.Name, c.Version, ref))
		}
	}
	if err != nil {
		return nil, spec.Mark(fmt.Errorf("chart %s %s: values: %v", c.Name, c.Version, err), spec.ErrBadInput)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var e engine.Engine
	files, err := e.RenderWithContext(ctx, ch, top)
	if err != nil {
		// the chart's own words (a required value, a fail) end it
		return nil, spec.Mark(fmt.Errorf("chart %s %s: %v", c.Name, c.Version, err), spec.ErrBadInput)
	}
	return &rendered{chart: ch, files: files}, nil
}

// capabilities are Helm's defaults (every API group the SDK's client
// libraries know) for the Kubernetes version given, or DefaultKubeVersion.
func capabilities(version string) (*common.Capabilities, error) {
	v := orDefault(version, DefaultKubeVersion)
	kv, err := common.ParseKubeVersion(v)
	if err != nil {
		return nil, spec.Mark(fmt.Errorf("--kube-version %q: %v: want a version such as %s", version, err, DefaultKubeVersion), spec.ErrBadInput)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	return caps, nil
}

// missingDependencies names every dependency a chart (or an included
// subchart) declares but does not carry in charts/, as helm install
// refuses it.
func missingDependencies(ch *chartv2.Chart) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return spec.Mark(fmt.Errorf("chart %s declares dependencies that are not in its charts/ directory: %s: run helm dependency build",
			ch.ChartFullPath(), strings.Join(missing, ", ")), spec.ErrBadInput)
	}
	for _, d := range ch.Dependencies() {
		if err := missingDependencies(d); err != nil {
			return err
		}
	}
	return nil
}

// userValues merges the values files in order, then --set, then
// --set-string, as helm's command line does.
func userValues(opts RenderOptions) (map[string]any, error) {
	base := map[string]any{}
	for _, f := range opts.ValueFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("values file %s: %w", f, notFound(err))
		}
		cur := map[string]any{}
		if err := yaml.Unmarshal(data, &cur); err != nil {
			return nil, fmt.Errorf("values file %s: %v: %w", f, err, spec.ErrBadInput)
		}
		base = loader.MergeMaps(base, cur)
	}
	for _, s := range opts.Set {
		if err := strvals.ParseInto(s, base); err != nil {
			return nil, spec.Mark(fmt.Errorf("--set %s: %v: want KEY=VALUE, as helm takes it (a.b=1,c[0]=x)", s, err), spec.ErrBadInput)
		}
	}
	for _, s := range opts.SetString {
		if err := strvals.ParseIntoString(s, base); err != nil {
			return nil, spec.Mark(fmt.Errorf("--set-string %s: %v: want KEY=VALUE, as helm takes it (a.b=1,c[0]=x)", s, err), spec.ErrBadInput)
		}
	}
	return base, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
