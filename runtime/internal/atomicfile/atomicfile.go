// Package atomicfile writes files so that they appear whole or not at
// all: a temporary file beside the final name, fsync, rename, then fsync
// of the directory.
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
func Create(final string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(final), TempPrefix+"*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: final}, nil
}

// Commit syncs the file, gives it perm, and renames it to its final name.
func (f *File) Commit(perm os.FileMode) error {
	if err := f.Sync(); err != nil {
		f.Abort()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Abort()
		return err
	}
	if err := f.Close(); err != nil {
		f.Abort()
		return err
	}
	if err := os.Rename(f.Name(), f.final); err != nil {
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
	f, err := Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit(perm)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
