package runtimetest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// DamageFile flips the middle byte of the file at path, keeping its size,
// and leaves it read-only, as a store keeps its blobs: bit rot, or an edit.
func DamageFile(t testing.TB, path string) {
	t.Helper()
	os.Chmod(path, 0o644)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

// FlipTarEntry flips one byte, at offset at of its content, of the entry
// name of the uncompressed tar at path (a bundle saved with
// --compression none): damage in transit to that entry only.
func FlipTarEntry(t testing.TB, path, name string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off+512 <= int64(len(b)); {
		h := b[off : off+512]
		size, err := strconv.ParseInt(strings.Trim(string(h[124:136]), " \x00"), 8, 64)
		if err != nil {
			break
		}
		if strings.TrimRight(string(h[:100]), "\x00") == name && at < size {
			b[off+512+at] ^= 0x55
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		off += 512 + (size+511)/512*512
	}
	t.Fatalf("no entry %s of more than %d bytes in %s", name, at, path)
}
