package helm

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ferryhq/ferry/spec"
)

// podSpecs maps each kind whose pods Kubernetes runs to the path of its
// pod spec.
var podSpecs = map[string]string{
	"Pod":                   "spec",
	"Deployment":            "spec.template.spec",
	"StatefulSet":           "spec.template.spec",
	"DaemonSet":             "spec.template.spec",
	"ReplicaSet":            "spec.template.spec",
	"ReplicationController": "spec.template.spec",
	"Job":                   "spec.template.spec",
	"CronJob":               "spec.jobTemplate.spec.template.spec",
	"PodTemplate":           "template.spec",
}

// containerLists are the keys of a pod spec (or of a custom resource
// shaped like one) whose items are containers.
var containerLists = map[string]bool{"containers": true, "initContainers": true, "ephemeralContainers": true}

// hookEvents are the helm.sh/hook events Helm knows; a resource with any
// other event is not installed by Helm (it logs "skipping unknown hooks").
// test-failure is not one of Helm's but is a test by name.
var hookEvents = map[string]bool{"pre-install": true, "post-install": true, "pre-delete": true,
	"post-delete": true, "pre-upgrade": true, "post-upgrade": true, "pre-rollback": true,
	"post-rollback": true, "test": true, "test-success": true, "test-failure": true}

var testEvents = map[string]bool{"test": true, "test-success": true, "test-failure": true}

// maxNodes bounds the YAML nodes visited in one document, aliases
// expanded, so that an alias bomb costs an error, not the machine.
const maxNodes = 1 << 20

// separator splits a template's output into documents exactly as Helm's
// releaseutil.SplitManifests does: "---" at the start of a line, so that
// "---# comment" separates too.
var separator = regexp.MustCompile(`(?m)^---[ \t]*`)

// finder gathers the images of rendered templates.
type finder struct {
	tests bool
	found map[string]*Image
}

// doc is the resource being walked.
type doc struct {
	place  Place
	strict bool // a pod-spec kind: every image must be a valid reference
	nodes  int
}

func (f *finder) file(name, text string) error {
	for i, part := range separator.Split(strings.TrimLeft(text, " \t\r\n"), -1) {
		if strings.TrimSpace(part) == "" {
			continue
		}
		dec := yaml.NewDecoder(strings.NewReader(part))
		for {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("template %s: document %d is not YAML: %v: %w", name, i+1, err, spec.ErrBadInput)
			}
			if err := f.resource(name, &n, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// resource walks one rendered resource (or each item of a List).
func (f *finder) resource(template string, n *yaml.Node, prefix string) error {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	kind := scalar(lookup(n, "kind"))
	meta := lookup(n, "metadata")
	hook := scalar(lookup(lookup(meta, "annotations"), "helm.sh/hook"))
	if kind == "" || kind == "CustomResourceDefinition" || !f.installed(hook) {
		return nil
	}
	if items := lookup(n, "items"); strings.HasSuffix(kind, "List") && items != nil && items.Kind == yaml.SequenceNode {
		for i, it := range items.Content {
			if err := f.resource(template, it, fmt.Sprintf("%sitems[%d].", prefix, i)); err != nil {
				return err
			}
		}
		return nil
	}
	_, pod := podSpecs[kind]
	d := &doc{strict: pod, place: Place{Chart: chartOf(template), Template: template, Kind: kind,
		Name: scalar(lookup(meta, "name")), Hook: hook}}
	return f.walk(d, n, strings.TrimSuffix(prefix, "."), false)
}

// installed says whether Helm installs a resource with this helm.sh/hook
// annotation: not a test hook (unless tests are wanted), and not a hook
// of an event Helm does not know.
func (f *finder) installed(hook string) bool {
	if hook == "" {
		return true
	}
	allTests := true
	for _, e := range strings.Split(hook, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if !hookEvents[e] {
			return false
		}
		allTests = allTests && testEvents[e]
	}
	return f.tests || !allTests
}

func (f *finder) walk(d *doc, n *yaml.Node, at string, container bool) error {
	if d.nodes++; d.nodes > maxNodes {
		return fmt.Errorf("%s: more than %d YAML nodes (an alias bomb?): %w", d.place, maxNodes, spec.ErrTooLarge)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return f.walk(d, n.Alias, at, container)
	case yaml.SequenceNode:
		for i, it := range n.Content {
			if err := f.walk(d, it, at+"["+strconv.Itoa(i)+"]", false); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := f.field(d, n.Content[i].Value, deref(n.Content[i+1]), join(at, n.Content[i].Value), container); err != nil {
				return err
			}
		}
	}
	return nil
}

// field handles one key of a mapping: an image, a list of containers, a
// container's arguments and env, or anything else to walk into.
func (f *finder) field(d *doc, key string, v *yaml.Node, at string, container bool) error {
	switch {
	case key == "image" && v.Kind == yaml.ScalarNode:
		return f.scalarImage(d, v, at)
	case key == "image" && v.Kind == yaml.MappingNode:
		return f.imageMap(d, v, at)
	case containerLists[key] && v.Kind == yaml.SequenceNode:
		for i, c := range v.Content {
			if err := f.walk(d, deref(c), at+"["+strconv.Itoa(i)+"]", true); err != nil {
				return err
			}
		}
		return nil
	case container && (key == "args" || key == "command") && v.Kind == yaml.SequenceNode:
		for i, a := range v.Content {
			f.loose(d, scalar(deref(a)), at+"["+strconv.Itoa(i)+"]")
		}
		return nil
	case key == "labels" || key == "annotations":
		return nil // metadata: a label or annotation named image is not one
	case container && key == "env" && v.Kind == yaml.SequenceNode:
		for i, e := range v.Content {
			f.loose(d, scalar(lookup(deref(e), "value")), at+"["+strconv.Itoa(i)+"].value")
		}
		return nil
	}
	return f.walk(d, v, at, false)
}

// scalarImage records the scalar under an "image" key: a string. A
// number, a boolean or null is not an image, and in a pod spec, where
// Kubernetes wants a string, an error.
func (f *finder) scalarImage(d *doc, v *yaml.Node, at string) error {
	switch {
	case v.Tag == "!!str":
		return f.image(d, v.Value, at)
	case v.Tag == "!!null":
		return f.image(d, "", at)
	case d.strict:
		where := d.place
		where.Field = at
		return fmt.Errorf("%s is %s, not an image reference: %w", where, v.Value, spec.ErrBadInput)
	}
	return nil
}

// image records a string under an "image" key. In a pod spec it must be a
// valid reference; in a custom resource a pattern is left out.
func (f *finder) image(d *doc, ref, at string) error {
	where := d.place
	where.Field = at
	if ref == "" || (!d.strict && patternLike(ref)) {
		if d.strict {
			return fmt.Errorf("%s is empty: %w", where, spec.ErrBadInput)
		}
		return nil
	}
	norm, err := parseImage(ref)
	if err != nil {
		return notAnImage(ref, where, err)
	}
	f.add(ref, norm, where)
	return nil
}

// imageMap records an image given as a map: {registry, repository, tag,
// digest} (a custom resource's image spec) or {reference} (an image
// volume).
func (f *finder) imageMap(d *doc, m *yaml.Node, at string) error {
	if ref := scalar(lookup(m, "reference")); ref != "" {
		return f.image(d, ref, at+".reference")
	}
	repo := scalar(lookup(m, "repository"))
	if repo == "" {
		return f.walk(d, m, at, false)
	}
	ref := repo
	if reg := scalar(lookup(m, "registry")); reg != "" {
		ref = strings.TrimSuffix(reg, "/") + "/" + repo
	}
	if tag := scalar(lookup(m, "tag")); tag != "" {
		ref += ":" + tag
	}
	if dg := scalar(lookup(m, "digest")); dg != "" {
		ref += "@" + dg
	}
	return f.image(d, ref, at)
}

// loose records an argument or env value that is an image reference with
// a registry host and a tag or digest; anything else is not an image.
func (f *finder) loose(d *doc, s, at string) {
	ref, ok := looseImage(s)
	if !ok {
		return
	}
	norm, err := parseImage(ref)
	if err != nil {
		return
	}
	where := d.place
	where.Field = at
	f.add(ref, norm, where)
}

func (f *finder) add(ref, norm string, where Place) {
	im := f.found[ref]
	if im == nil {
		im = &Image{Ref: ref, Normalized: norm}
		f.found[ref] = im
	}
	im.Found = append(im.Found, where)
}

// images returns what was found, sorted by Ref, each image's places
// sorted and unique.
func (f *finder) images() []Image {
	out := make([]Image, 0, len(f.found))
	for _, im := range f.found {
		sort.Slice(im.Found, func(i, j int) bool { return im.Found[i].String() < im.Found[j].String() })
		uniq := im.Found[:0]
		for i, p := range im.Found {
			if i == 0 || p != im.Found[i-1] {
				uniq = append(uniq, p)
			}
		}
		im.Found = uniq
		out = append(out, *im)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}
