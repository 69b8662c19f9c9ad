//go:build !linux

package atomicfile

import "os"

// startWriteback does nothing: Commit's sync writes the file.
func startWriteback(*os.File, int64, int64) {}
