package trip

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
)

// faultsPerKind is how many faults of one kind a report lists; the rest
// are counted in one line, so that a bundle of 100,000 bad entries gives
// a report of a few lines, in memory that does not grow with them.
const faultsPerKind = 10

// fault adds f to the report, unless faultsPerKind faults of its kind are
// listed already: then it is only counted.
func (r *Report) fault(kind string, f Fault) {
	if r.kinds == nil {
		r.kinds = map[string]int{}
	}
	r.kinds[kind]++
	r.faults++
	if r.kinds[kind] <= faultsPerKind {
		r.Faults = append(r.Faults, f)
	}
}

// summarize adds one fault per kind that had more than it listed,
// counting the rest.
func (r *Report) summarize() {
	for _, kind := range slices.Sorted(maps.Keys(r.kinds)) {
		if n := r.kinds[kind] - faultsPerKind; n > 0 {
			r.Faults = append(r.Faults, Fault{What: fmt.Sprintf("and %d more entries like these: %s", n, kind)})
		}
	}
}

// faultKind groups an entry's fault with its like: the cause without the
// numbers that differ from entry to entry.
func faultKind(err error) string {
	var de *DeltaError
	if errors.As(err, &de) {
		return "delta not rebuilt: " + de.Why
	}
	var ve *spec.VerifyError
	if errors.As(err, &ve) {
		if errors.Is(ve, spec.ErrDigestMismatch) {
			return "digest mismatch"
		}
		return "size mismatch"
	}
	var ee *format.EntryError
	if errors.As(err, &ee) {
		err = ee.Err
	}
	return strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return '#'
		}
		return c
	}, err.Error())
}
