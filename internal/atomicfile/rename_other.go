//go:build !windows

package atomicfile

import "os"

// chmodOpen gives the file its mode before it gets its final name, so
// that it never appears there writable.
func chmodOpen(f *os.File, perm os.FileMode) error { return f.Chmod(perm) }

// replace renames tmp over final: atomic on POSIX file systems.
func replace(tmp, final string, _ os.FileMode) error { return os.Rename(tmp, final) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
