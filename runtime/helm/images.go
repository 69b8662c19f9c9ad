package helm

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/ferryhq/ferry/spec"
)

// Image is an image a chart needs.
type Image struct {
	// Ref is the reference exactly as the chart writes it: "busybox",
	// "quay.io/jetstack/cert-manager-controller:v1.21.1",
	// "registry.k8s.io/x:v1@sha256:…".
	Ref string `json:"image"`
	// Normalized is its full form: registry, repository, tag (":latest"
	// when it has neither tag nor digest) and digest, as a cluster pulls
	// it ("docker.io/library/busybox:latest").
	Normalized string `json:"reference"`
	// Found says everywhere the chart names it.
	Found []Place `json:"found"`
}

// Place is where a chart names an image: a field of a rendered resource,
// or an annotation of a Chart.yaml.
type Place struct {
	// Chart is the chart or subchart, as a path: "web", "web/charts/redis".
	Chart string `json:"chart"`
	// Template is the template that rendered the resource.
	Template string `json:"template,omitempty"`
	// Kind and Name are the resource's.
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	// Field is the path of the field in the resource:
	// "spec.template.spec.containers[0].image".
	Field string `json:"field,omitempty"`
	// Hook is the helm.sh/hook annotation of a hook resource.
	Hook string `json:"hook,omitempty"`
	// Annotation is the Chart.yaml annotation that lists the image.
	Annotation string `json:"annotation,omitempty"`
}

func (p Place) String() string {
	if p.Annotation != "" {
		return p.Chart + " Chart.yaml annotation " + p.Annotation
	}
	s := p.Template + " " + p.Kind + "/" + p.Name + " " + p.Field
	if p.Hook != "" {
		s += " (hook " + p.Hook + ")"
	}
	return s
}

// Images renders the chart for opts and returns every image it needs,
// sorted by Ref and each once: the images of the pod specs of Pod,
// Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
// Job, CronJob and PodTemplate (containers, init and ephemeral containers,
// image volumes); any string under an "image" key of any other resource
// (custom resources), or an {registry, repository, tag, digest} map there;
// every argument, command word and env value of a container that is a
// reference with a registry host and a tag or digest ("--flag=REF" or
// "REF"); and the images the helm.sh/images, artifacthub.io/images and
// images annotations of the chart and of each enabled subchart list.
// Hooks count, test hooks only with opts.IncludeTests; CustomResource-
// Definitions and disabled subcharts contribute nothing.
//
// A chart that does not render is an error quoting Helm's message, which
// names the template. An image in a pod spec or annotation that is not a
// valid reference is an error naming it and where it was found.
func (c *Chart) Images(ctx context.Context, opts RenderOptions) ([]Image, error) {
	r, err := c.render(ctx, opts)
	if err != nil {
		return nil, err
	}
	f := &finder{tests: opts.IncludeTests, found: map[string]*Image{}}
	names := make([]string, 0, len(r.files))
	for n := range r.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !isManifestFile(n) {
			continue
		}
		if err := f.file(n, r.files[n]); err != nil {
			return nil, fmt.Errorf("chart %s %s: %w", c.Name, c.Version, err)
		}
	}
	if err := f.annotations(r.chart); err != nil {
		return nil, fmt.Errorf("chart %s %s: %w", c.Name, c.Version, err)
	}
	return f.images(), nil
}

// isManifestFile says whether Helm installs what the template renders:
// not a partial (_helpers.tpl) and not NOTES.txt.
func isManifestFile(name string) bool {
	base := path.Base(name)
	return !strings.HasPrefix(base, "_") && !strings.HasSuffix(name, "NOTES.txt")
}

// chartOf is the chart path of a rendered template's name:
// "web/charts/redis/templates/x.yaml" gives "web/charts/redis".
func chartOf(template string) string {
	if i := strings.LastIndex(template, "/templates/"); i >= 0 {
		return template[:i]
	}
	return path.Dir(template)
}

// parseImage checks an image reference and returns its normalised form.
func parseImage(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	return reference.TagNameOnly(named).String(), nil
}

// looseImage says whether s, an argument or env value, names an image:
// "--flag=REF" or "REF", where REF has an explicit registry host and a tag
// or digest. It returns REF.
func looseImage(s string) (string, bool) {
	if strings.HasPrefix(s, "-") {
		_, v, ok := strings.Cut(s, "=")
		if !ok {
			return "", false
		}
		s = v
	}
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return "", false
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil || reference.Domain(named) != host {
		return "", false
	}
	_, tagged := named.(reference.Tagged)
	_, digested := named.(reference.Digested)
	return s, tagged || digested
}

// patternLike says whether a string under an "image" key of a custom
// resource is a pattern or a placeholder rather than an image (Kyverno's
// "!*:latest", "$(IMAGE)"), which is left out rather than refused.
func patternLike(s string) bool {
	return strings.ContainsAny(s, "*?!{}$[] \t\n")
}

func notAnImage(ref string, where Place, err error) error {
	return fmt.Errorf("image %q at %s is not a valid reference: %v: %w", ref, where, err, spec.ErrBadInput)
}
