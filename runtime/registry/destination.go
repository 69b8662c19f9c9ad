package registry

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Host returns the registry host an image name starts with
// ("example.com:5000" of "example.com:5000/team/app:1.0"), or "" when the
// name has none ("team/app:1.0", "app:1.0"): runtime.SplitHost.
func Host(imageName string) string {
	host, _ := runtime.SplitHost(imageName)
	return host
}

// DefaultTarget chooses where `ferry push` writes images named names when
// the user named no registry: the registry their names share, else the
// one registry the user logged in to (as docker-image-pusher combines an
// archive's RepoTags with the registry last logged in to). It returns the
// registry and why it was chosen, or an error wrapping spec.ErrBadInput
// that lists the choices.
func DefaultTarget(names []string, logins []string) (reg, why string, err error) {
	hosts := map[string]bool{}
	for _, n := range names {
		hosts[Host(n)] = true
	}
	if len(hosts) == 1 && !hosts[""] {
		for h := range hosts {
			return h, "the registry in the image's name", nil
		}
	}
	if !hosts[""] {
		return "", "", fmt.Errorf("the images name %d registries: push them one at a time, or name the target: %w", len(hosts), spec.ErrBadInput)
	}
	switch len(logins) {
	case 1:
		return logins[0], "the one registry you logged in to", nil
	case 0:
		return "", "", spec.Mark(fmt.Errorf("no registry to push to: name one (ferry push IMAGE HOST[:PORT][/PREFIX], or --registry), "+
			"or log in to one with ferry login HOST"), spec.ErrBadInput)
	}
	sorted := append([]string(nil), logins...)
	sort.Strings(sorted)
	return "", "", spec.Mark(fmt.Errorf("you are logged in to %d registries (%s): name one with --registry",
		len(logins), strings.Join(sorted, ", ")), spec.ErrBadInput)
}
