package helm

import (
	"fmt"
	"sort"

	"github.com/ferryhq/ferry/spec"
)

// Select returns the normalised references of the images to ship: those
// found, less every one a skip names (as written or normalised), plus
// every one add names, sorted and each once. A skip that names no image
// found is an error, so that a typo does not ship an image silently.
func Select(found []Image, add, skip []string) ([]string, error) {
	drop := map[string]bool{}
	for _, s := range skip {
		norm, err := parseImage(s)
		if err != nil {
			return nil, fmt.Errorf("--skip-image %q: %v: %w", s, err, spec.ErrBadInput)
		}
		hit := false
		for _, im := range found {
			if im.Ref == s || im.Normalized == norm {
				drop[im.Normalized], hit = true, true
			}
		}
		if !hit {
			return nil, fmt.Errorf("--skip-image %s: the chart needs no such image: %w", s, spec.ErrNotFound)
		}
	}
	keep := map[string]bool{}
	for _, im := range found {
		if !drop[im.Normalized] {
			keep[im.Normalized] = true
		}
	}
	for _, a := range add {
		norm, err := parseImage(a)
		if err != nil {
			return nil, fmt.Errorf("--add-image %q: %v: %w", a, err, spec.ErrBadInput)
		}
		keep[norm] = true
	}
	out := make([]string, 0, len(keep))
	for n := range keep {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
