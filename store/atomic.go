package store

import (
	"os"
	"path/filepath"
)

// WriteAtomic writes the file path through a temporary file named by
// pattern (os.CreateTemp) in tmpDir, or in path's directory when tmpDir is
// "": fill writes the content, then the file gets perm, is synced, renamed
// over path, and the directory is synced. On any error the temporary file
// is removed and path is untouched — containerd's ingest, for every file
// ferry writes whole: blobs, index.json, bundles, receipts.
func WriteAtomic(path, tmpDir, pattern string, perm os.FileMode, fill func(*os.File) error) (err error) {
	if tmpDir == "" {
		tmpDir = filepath.Dir(path)
	}
	f, err := os.CreateTemp(tmpDir, pattern)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
