package helm

import (
	"fmt"
	"sort"

	"github.com/Masterminds/semver/v3"

	"github.com/ferryhq/ferry/spec"
)

// pickVersion chooses among a chart's versions as Helm does: the version
// given, if it is one of them; else the newest that meets want as a
// semver constraint; with want "", the newest that is not a pre-release.
func pickVersion(versions []string, want string) (string, error) {
	if want != "" {
		for _, v := range versions {
			if v == want {
				return v, nil
			}
		}
	}
	expr := want
	if expr == "" {
		expr = "*"
	}
	constraint, err := semver.NewConstraint(expr)
	if err != nil {
		return "", fmt.Errorf("version %q is neither a version nor a constraint: %v: %w", want, err, spec.ErrBadInput)
	}
	type cand struct {
		s string
		v *semver.Version
	}
	var all []cand
	for _, s := range versions {
		if v, err := semver.NewVersion(s); err == nil {
			all = append(all, cand{s, v})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v.GreaterThan(all[j].v) })
	for _, c := range all {
		if constraint.Check(c.v) {
			return c.s, nil
		}
	}
	if want == "" {
		return "", spec.Mark(fmt.Errorf("no stable version among %d: give --version", len(versions)), spec.ErrNotFound)
	}
	return "", fmt.Errorf("no version matches %q among %d: %w", want, len(versions), spec.ErrNotFound)
}
