package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// Helm charts travel as OCI artifacts, as `helm push` makes them: a
// manifest whose config is the chart's Chart.yaml as JSON and whose one
// layer is the chart's .tgz archive.
const (
	// HelmConfigMediaType is the media type of a chart artifact's config.
	HelmConfigMediaType = "application/vnd.cncf.helm.config.v1+json"
	// HelmChartMediaType is the media type of the layer holding the
	// chart's archive (.tgz).
	HelmChartMediaType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	// HelmLegacyChartMediaType is the chart layer's media type of Helm
	// before 3.7; readers accept it.
	HelmLegacyChartMediaType = "application/tar+gzip"
	// HelmProvenanceMediaType is the media type of a chart's provenance
	// layer, carried when the chart was pulled with one.
	HelmProvenanceMediaType = "application/vnd.cncf.helm.chart.provenance.v1.prov"
	// ChartRepository is the repository path under which charts are
	// named in stores, layouts and registries: charts/<name>:<tag>.
	ChartRepository = "charts"
)

// ChartTag is the tag a chart version gets in a registry: the version
// with "+" (not allowed in a tag) written "_", as `helm push` does.
func ChartTag(version string) string { return strings.ReplaceAll(version, "+", "_") }

// ChartRef is the name of a chart artifact in a store, a layout or under
// a registry prefix: "charts/<name>:<tag>".
func ChartRef(name, version string) string {
	return ChartRepository + "/" + name + ":" + ChartTag(version)
}

// chartName is the grammar of a chart name that can be a registry
// repository path component (charts/<name>), as Helm's own OCI support
// needs; chartTag that of a registry tag.
var (
	chartName = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$`)
	chartTag  = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// ValidateChart accepts a chart name and version ferry can ship: the name
// a registry repository path component (lower-case letters and digits
// separated by '.', '_' or '-'), at most 128 bytes; the version a
// registry tag once "+" is written "_". The error wraps ErrBadInput and
// quotes what it refuses.
func ValidateChart(name, version string) error {
	if len(name) > 128 || !chartName.MatchString(name) {
		return Mark(fmt.Errorf("chart name %s: a registry repository needs lower-case letters and digits separated by '.', '_' or '-'",
			Quote(clip(name))), ErrBadInput)
	}
	if !chartTag.MatchString(ChartTag(version)) {
		return fmt.Errorf("chart %s: version %s cannot be a registry tag: %w", name, Quote(clip(version)), ErrBadInput)
	}
	return nil
}
