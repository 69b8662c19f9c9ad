// Package atomicfile writes files so that they appear whole or not at
// all: a temporary file (beside the final name, or in a directory on the
// same filesystem), fsync, rename over the final name, then fsync of the
// directory — containerd's ingest, for every file ferry writes whole:
// blobs, index.json, layouts, archives, bundles and receipts.
//
// On Windows a rename cannot replace a read-only file or one another
// process holds open for a moment (an indexer, an antivirus), and a
// directory cannot be synced; replace and syncDir handle both per system
// (rename_windows.go, rename_other.go).
package atomicfile

import (
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file ferry's targets
// create; a file with this prefix left behind is a bug (the conformance
// suite looks for them).
const TempPrefix = ".ferry-tmp-"

// File is a temporary file that becomes final on Commit.
type File struct {
	*os.File
	final string
	done  bool
}

// Create opens a temporary file in final's directory.
func Create(final string) (*File, error) { return CreateIn(final, "", "") }

// CreateIn opens a temporary file for final in dir (final's directory
// when ""), named by pattern as os.CreateTemp reads it (TempPrefix+"*"
// when ""). dir must be on final's filesystem.
func CreateIn(final, dir, pattern string) (*File, error) {
	if dir == "" {
		dir = filepath.Dir(final)
	}
	if pattern == "" {
		pattern = TempPrefix + "*"
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: final}, nil
}

// Commit syncs the file, gives it perm, renames it over its final name
// and syncs the directory. On error the temporary file is removed and the
// final name is untouched.
func (f *File) Commit(perm os.FileMode) error {
	if err := f.Sync(); err != nil {
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
	return syncDir(filepath.Dir(f.final))
}

// Abort closes and removes the temporary file; it does nothing after
// Commit, so `defer f.Abort()` is safe.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile writes data to name atomically.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	return Write(name, "", "", perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// Write writes final through a temporary file made by CreateIn(final,
// dir, pattern): fill writes the content, then Commit(perm). On any error
// the temporary file is removed and final is untouched.
func Write(final, dir, pattern string, perm os.FileMode, fill func(*os.File) error) error {
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

// SyncDir makes a rename in dir durable (nothing to do on Windows).
func SyncDir(dir string) error { return syncDir(dir) }
