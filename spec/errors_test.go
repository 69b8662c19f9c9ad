package spec

import (
	"errors"
	"fmt"
	"testing"
)

// TestMark: a marked error reads as it did, and errors.Is finds both the
// error it wraps and the kind it was marked with.
func TestMark(t *testing.T) {
	inner := errors.New("disk on fire")
	err := Mark(fmt.Errorf("site name x: use letters: %w", inner), ErrBadInput)
	if got, want := err.Error(), "site name x: use letters: disk on fire"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrBadInput) || !errors.Is(err, inner) || errors.Is(err, ErrNotFound) {
		t.Errorf("errors.Is: ErrBadInput %v, inner %v, ErrNotFound %v; want true, true, false",
			errors.Is(err, ErrBadInput), errors.Is(err, inner), errors.Is(err, ErrNotFound))
	}
	if !IsBadInput(err) {
		t.Errorf("IsBadInput(%v) = false, want true", err)
	}
}
