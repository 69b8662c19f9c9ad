package helm

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"

	"github.com/ferryhq/ferry/spec"
)

// imageAnnotations are the Chart.yaml annotations that list a chart's
// images: a YAML list of references, or of maps with an "image" key (as
// Artifact Hub documents artifacthub.io/images); a plain string is a list
// separated by spaces, commas or newlines.
var imageAnnotations = []string{"helm.sh/images", "artifacthub.io/images", "images"}

// annotations adds the images the annotations of ch and of each enabled
// subchart list (ch is processed: disabled subcharts are gone).
func (f *finder) annotations(ch *chartv2.Chart) error {
	for _, key := range imageAnnotations {
		v, ok := ch.Metadata.Annotations[key]
		if !ok {
			continue
		}
		where := Place{Chart: ch.ChartFullPath(), Annotation: key}
		refs, err := annotationRefs(v)
		if err != nil {
			return fmt.Errorf("%s: %v: %w", where, err, spec.ErrBadInput)
		}
		for _, ref := range refs {
			norm, err := parseImage(ref)
			if err != nil {
				return notAnImage(ref, where, err)
			}
			f.add(ref, norm, where)
		}
	}
	for _, d := range ch.Dependencies() {
		if err := f.annotations(d); err != nil {
			return err
		}
	}
	return nil
}

func annotationRefs(v string) ([]string, error) {
	var doc any
	if err := yaml.Unmarshal([]byte(v), &doc); err != nil {
		return nil, fmt.Errorf("not YAML: %v", err)
	}
	switch d := doc.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.FieldsFunc(d, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }), nil
	case []any:
		var out []string
		for i, it := range d {
			switch it := it.(type) {
			case string:
				out = append(out, it)
			case map[string]any:
				s, ok := it["image"].(string)
				if !ok {
					return nil, fmt.Errorf("item %d has no image", i+1)
				}
				out = append(out, s)
			default:
				return nil, fmt.Errorf("item %d is neither a reference nor a map with an image", i+1)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("neither a list nor a string")
}
