package helm

import (
	"errors"

	"github.com/ferryhq/ferry/spec"
)

// PickVersion chooses among versions as Helm does (see Load's Version):
// want exact, else as a semver constraint, else the newest stable one,
// and when every version is a pre-release, the newest of them.
func PickVersion(versions []string, want string) (string, error) {
	v, err := pickVersion(versions, want)
	if want == "" && errors.Is(err, spec.ErrNotFound) && len(versions) > 0 {
		return pickVersion(versions, ">=0.0.0-0")
	}
	return v, err
}
