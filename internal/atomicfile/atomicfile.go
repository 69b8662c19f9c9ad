// Package atomicfile owns writing a file whole or not at all: every file
// ferry writes whole (blobs, index.json, layouts, archives, bundles,
// receipts, extras) goes through a temporary file on the same filesystem
// that is synced, renamed over the final name and whose directory is then
// synced, as containerd's ingest does.
//
// A temporary file is made beside its final name as ".NAME.tmp-RANDOM"
// (IsTemp recognises one), or, for a writer that keeps its own directory
// of temporary files (the store's tmp/), there under a pattern it chooses.
//
// On Windows a rename cannot replace a read-only file or one another
// process holds open for a moment (an indexer, an antivirus), and a
// directory cannot be synced; replace and syncDir handle both per system
// (rename_windows.go, rename_other.go).
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tempInfix separates a temporary file's final name from its random part.
const tempInfix = ".tmp-"

// IsTemp reports whether name is that of a temporary file made beside its
// final name (".NAME.tmp-RANDOM"): one left behind is a bug, and the
// conformance suite looks for them.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempInfix)
}

// File is a temporary file that becomes final on Commit.
type File struct {
	*os.File
	final string
	done  bool
	bg    *syncer // Writer's background syncs, stopped before the file is closed

	written, asked int64 // bytes written (Wrote), and when the last background sync was asked for
}

// Create opens a temporary file beside final.
func Create(final string) (*File, error) { return CreateIn(final, "", "") }

// CreateIn opens a temporary file for final in dir (final's directory
// when ""), named by pattern as os.CreateTemp reads it (".NAME.tmp-*"
// when ""). dir must be on final's filesystem.
func CreateIn(final, dir, pattern string) (*File, error) {
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		// refused before anything is written: the rename would fail at the end
		return nil, &dirError{msg: final + " is a directory: name a file", err: &fs.PathError{Op: "create", Path: final, Err: errIsDir}}
	}
	if dir == "" {
		dir = filepath.Dir(final)
	}
	if pattern == "" {
		pattern = "." + filepath.Base(final) + tempInfix + "*"
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, createError(dir, err)
	}
	return &File{File: f, final: final}, nil
}

// createError says why no file could be made in dir in its terms (the
// directory is missing, or not writable), not the temporary name's; it
// wraps err.
func createError(dir string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &dirError{msg: "directory " + dir + " does not exist (create it first)", err: err}
	case errors.Is(err, fs.ErrPermission):
		return &dirError{msg: "directory " + dir + ": no permission to write there", err: err}
	}
	return err
}

var errIsDir = errors.New("is a directory")

type dirError struct {
	msg string
	err error
}

func (e *dirError) Error() string { return e.msg }
func (e *dirError) Unwrap() error { return e.err }

// Commit syncs the file, gives it perm, renames it over its final name
// and syncs the directory. On error the temporary file is removed and the
// final name is untouched.
func (f *File) Commit(perm os.FileMode) error {
	if err := f.CommitUnsynced(perm); err != nil {
		return err
	}
	return syncDir(filepath.Dir(f.final))
}

// CommitUnsynced is Commit but for the directory's sync: the file's bytes
// are durable before it gets its final name, and the name itself once
// the caller syncs the directory (SyncDir), once for many files.
func (f *File) CommitUnsynced(perm os.FileMode) error {
	if err := f.stopSyncs(); err != nil {
		f.Abort()
		return err
	}
	if err := syncFile(f.File); err != nil {
		f.Abort()
		return err
	}
	if err := chmodOpen(f.File, perm); err != nil {
		f.Abort()
		return err
	}
	if err := f.Close(); err != nil {
		f.Abort()
		return err
	}
	if err := replace(f.Name(), f.final, perm); err != nil {
		f.Abort()
		return err
	}
	f.done = true
	return nil
}

// Abort closes and removes the temporary file; it does nothing after
// Commit, so `defer f.Abort()` is safe.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.stopSyncs()
	f.Close()
	os.Remove(f.Name())
}

// Write writes final through a temporary file beside it: fill writes the
// content, then Commit(perm). On any error the temporary file is removed
// and final is untouched.
func Write(final string, perm os.FileMode, fill func(*os.File) error) error {
	return WriteIn(final, "", "", perm, fill)
}

// WriteIn is Write with the temporary file made by CreateIn(final, dir,
// pattern).
func WriteIn(final, dir, pattern string, perm os.FileMode, fill func(*os.File) error) error {
	f, err := CreateIn(final, dir, pattern)
	if err != nil {
		return err
	}
	if err := fill(f.File); err != nil {
		f.Abort()
		return err
	}
	return f.Commit(perm)
}

// WriteFile writes data to final as Write does.
func WriteFile(final string, data []byte, perm os.FileMode) error {
	return Write(final, perm, writeData(data))
}

// WriteFileIn writes data to final as WriteIn does.
func WriteFileIn(final, dir, pattern string, data []byte, perm os.FileMode) error {
	return WriteIn(final, dir, pattern, perm, writeData(data))
}

func writeData(data []byte) func(*os.File) error {
	return func(f *os.File) error {
		_, err := f.Write(data)
		return err
	}
}

// SyncDir makes the renames in dir durable (nothing to do on Windows):
// after CommitUnsynced, once for many files.
func SyncDir(dir string) error { return syncDir(dir) }
