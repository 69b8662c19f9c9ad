package store

import (
	"os"

	"github.com/ferryhq/ferry/internal/atomicfile"
)

// WriteAtomic writes the file path through a temporary file named by
// pattern (os.CreateTemp) in tmpDir, or in path's directory when tmpDir is
// "": fill writes the content, then the file gets perm, is synced, renamed
// over path, and the directory is synced. On any error the temporary file
// is removed and path is untouched. It is internal/atomicfile's Write,
// which every file ferry writes whole goes through: blobs, index.json,
// bundles and receipts.
func WriteAtomic(path, tmpDir, pattern string, perm os.FileMode, fill func(*os.File) error) error {
	return atomicfile.Write(path, tmpDir, pattern, perm, fill)
}
