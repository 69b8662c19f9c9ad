package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakefile_RunsEveryFuzzTarget: make test runs every fuzz target of
// the module, and each keeps a seed corpus under its package's
// testdata/fuzz, which plain go test runs too. A new target that is in
// neither would otherwise never run.
func TestMakefile_RunsEveryFuzzTarget(t *testing.T) {
	root := filepath.Join("..", "..")
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	found := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := "./" + filepath.ToSlash(dir)
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(src), -1) {
			found++
			if !strings.Contains(string(makefile), "$(call fuzz,"+m[1]+","+pkg+",") {
				t.Errorf("%s in %s is not run by make test: add $(call fuzz,%s,%s,PERCENT) to the Makefile", m[1], path, m[1], pkg)
			}
			seeds, _ := os.ReadDir(filepath.Join(filepath.Dir(path), "testdata", "fuzz", m[1]))
			if len(seeds) == 0 {
				t.Errorf("%s in %s has no seed corpus under testdata/fuzz/%s", m[1], path, m[1])
			}
		}
		return nil
	})
	if err != nil || found == 0 {
		t.Fatalf("looking for fuzz targets: %v, %d found", err, found)
	}
}
