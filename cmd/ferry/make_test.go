package main

import (
	"io/fs"
	"os"
	"os/exec"
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

// TestMakefile_BuildIsStatic: make build (what make demo and make bench
// run) builds ferry as make release does, static, so that the bench times
// the binary users run, without the dynamic linker's start.
func TestMakefile_BuildIsStatic(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is required under CI=true")
		}
		t.Skip("make is not installed")
	}
	cmd := exec.Command(mk, "-n", "build")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "CGO_ENABLED=0 ") || !strings.Contains(string(out), " build -trimpath ") {
		t.Errorf("make build does not build static with -trimpath, as make release does:\n%s", out)
	}
}
