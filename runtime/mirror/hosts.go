package mirror

import (
	"fmt"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/ferryhq/ferry/spec"
)

// Hosts returns the registry hosts the images named come from, sorted,
// and a warning for each image a mirror cannot serve as named: a name
// that is not a full reference (busybox:1.36, or docker.io/busybox:1.36,
// which ferry pushes to PREFIX/busybox while a cluster asks a mirror for
// PREFIX/library/busybox; charts save their images by full name), and
// images of two registries that the site registry holds at one path
// (docker.io/team/app:1 and quay.io/team/app:1 are both PREFIX/team/app:1).
func Hosts(names []string) (hosts, warnings []string) {
	seen := map[string]bool{}
	byPath := map[string]string{} // path:tag → first full name
	for _, n := range names {
		named, err := reference.ParseNamed(n)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("image %s is not named by a full reference (such as docker.io/library/busybox:1.36): "+
				"a cluster's mirror cannot find it; save it under its full name", spec.Quote(n)))
			continue
		}
		host := reference.Domain(named)
		if !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
		at := strings.TrimPrefix(n, host+"/")
		if first, ok := byPath[at]; ok && !strings.HasPrefix(first, host+"/") {
			warnings = append(warnings, fmt.Sprintf("images %s and %s are one path in the site registry (%s): one hides the other",
				spec.Quote(first), spec.Quote(n), spec.Quote(at)))
		} else if !ok {
			byPath[at] = n
		}
	}
	sort.Strings(hosts)
	return hosts, warnings
}
