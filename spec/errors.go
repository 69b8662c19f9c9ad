package spec

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Error sentinels. Callers branch with errors.Is; IsBadInput tells the
// ones that mean the input was at fault (the command line's exit codes
// follow it).
var (
	ErrNotFound           = errors.New("not found")
	ErrDigestMismatch     = errors.New("digest mismatch")
	ErrSizeMismatch       = errors.New("size mismatch")
	ErrCorrupt            = errors.New("corrupt")
	ErrUnsupportedVersion = errors.New("unsupported version")
	ErrBadSignature       = errors.New("bad signature")
	ErrUnsigned           = errors.New("not signed")
	ErrUnknownSite        = errors.New("unknown site")
	ErrTooLarge           = errors.New("over the size limit")
	ErrBadInput           = errors.New("bad input")
	ErrIncomplete         = errors.New("incomplete")
	ErrLocked             = errors.New("home in use")
	ErrExists             = errors.New("already exists")
	ErrUnauthorized       = errors.New("unauthorized")
	ErrReplay             = errors.New("not newer than a bundle already loaded")
	ErrDowngrade          = errors.New("older than the image the tag points at")
	ErrMissingPrereq      = errors.New("prerequisite missing")
	// ErrCannotReproduce: a delta's recipe names an encoder or parameters
	// this ferry cannot run; the delta is refused, costing that layer only.
	ErrCannotReproduce = errors.New("cannot reproduce the compression")
)

// VerifyError is a blob whose bytes are not what was promised.
type VerifyError struct {
	Want      digest.Digest
	WantSize  int64
	GotDigest digest.Digest // empty when the size was already wrong
	GotSize   int64
}

func (e *VerifyError) Error() string {
	if e.GotSize != e.WantSize {
		if e.GotSize > e.WantSize {
			return fmt.Sprintf("blob %s: size mismatch: want %d bytes, got more", e.Want, e.WantSize)
		}
		return fmt.Sprintf("blob %s: size mismatch: want %d bytes, got %d", e.Want, e.WantSize, e.GotSize)
	}
	return fmt.Sprintf("blob %s: digest mismatch: got %s", e.Want, e.GotDigest)
}

// Is lets errors.Is match ErrDigestMismatch or ErrSizeMismatch.
func (e *VerifyError) Is(target error) bool {
	if target == ErrSizeMismatch {
		return e.GotSize != e.WantSize
	}
	if target == ErrDigestMismatch {
		return e.GotSize == e.WantSize
	}
	return false
}

// IsBadInput reports whether err means the input was at fault (bad bundle,
// failed verification, unknown name) rather than ferry or the machine.
func IsBadInput(err error) bool {
	for _, s := range []error{ErrNotFound, ErrDigestMismatch, ErrSizeMismatch, ErrCorrupt,
		ErrUnsupportedVersion, ErrBadSignature, ErrUnsigned, ErrUnknownSite, ErrTooLarge,
		ErrBadInput, ErrIncomplete, ErrExists, ErrUnauthorized, ErrReplay, ErrDowngrade, ErrMissingPrereq, ErrCannotReproduce} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Mark returns err, reading as it does, which errors.Is and errors.As
// also find to be each of also: for a message that already says what went
// wrong and ends with what to do, after which a sentinel's own text ("bad
// input", "not found") would only trail, or one that says in short what
// the errors it wraps say at length.
func Mark(err error, also ...error) error { return &marked{errs: append([]error{err}, also...)} }

type marked struct{ errs []error }

func (m *marked) Error() string   { return m.errs[0].Error() }
func (m *marked) Unwrap() []error { return m.errs }
