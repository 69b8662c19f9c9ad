//go:build windows

package atomicfile

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// chmodOpen does nothing: on Windows the mode is set after the rename
// (see replace), so that a read-only attribute never stands in the way
// of the rename itself.
func chmodOpen(*os.File, os.FileMode) error { return nil }

// Windows error numbers a rename meets while another process briefly
// holds the file open (Go's cmd/go/internal/robustio retries the same).
const (
	errorAccessDenied     = syscall.Errno(5)
	errorSharingViolation = syscall.Errno(32)
)

// replaceTimeout bounds the retries of a rename that another process
// blocks for a moment.
const replaceTimeout = 2 * time.Second

// replace renames tmp over final with MoveFileEx(MOVEFILE_REPLACE_EXISTING)
// (os.Rename), which is atomic on NTFS but fails when final is read-only
// (a verified blob is) or open elsewhere for a moment. A read-only final
// is made writable first — its replacement holds the same verified bytes
// or newer ones — and a busy one is retried for up to replaceTimeout.
// Then the file gets perm (a mode without write permission sets the
// read-only attribute).
func replace(tmp, final string, perm os.FileMode) error {
	deadline := time.Now().Add(replaceTimeout)
	for {
		err := os.Rename(tmp, final)
		if err == nil {
			return os.Chmod(final, perm)
		}
		if !errors.Is(err, errorAccessDenied) && !errors.Is(err, errorSharingViolation) || time.Now().After(deadline) {
			return err
		}
		if fi, serr := os.Stat(final); serr == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o200 == 0 {
			if cerr := os.Chmod(final, 0o644); cerr != nil {
				return err
			}
			continue
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncDir does nothing: Windows cannot open a directory for FlushFileBuffers,
// and NTFS journals the rename itself.
func syncDir(string) error { return nil }
