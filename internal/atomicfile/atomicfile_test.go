package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite_ReplacesReadOnly: a file is replaced whole even when the old
// one is read-only (a verified blob; on Windows the rename itself would
// refuse it), and gets the new mode.
func TestWrite_ReplacesReadOnly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	if err := WriteFile(p, []byte("old"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o444); err != nil {
		t.Fatalf("WriteFile over a read-only file: %v", err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("ReadFile = %q, %v, want new", got, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm()&0o200 != 0 {
		t.Errorf("mode after WriteFile(0o444) = %v, %v, want read-only", fi.Mode(), err)
	}
	leftovers(t, dir, "blob")
}

// TestWrite_FailureLeavesNothing: a fill that fails leaves the old file as
// it was and no temporary file, in the given temp dir or beside the file.
func TestWrite_FailureLeavesNothing(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "index.json")
	if err := WriteFile(p, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, tmp, "ferry-*", 0o644, func(f *os.File) error {
		f.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the fill's error", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "v1" {
		t.Errorf("after a failed Write the file holds %q, want v1", got)
	}
	leftovers(t, dir, "index.json")
	leftovers(t, tmp)
}

func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want only %v", dir, names, want)
	}
}
