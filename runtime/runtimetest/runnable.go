package runtimetest

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// probeSource is a program that needs nothing but a kernel: "write PATH
// TEXT" writes TEXT to PATH; "check PATH TEXT" exits 0 when PATH holds
// exactly TEXT and 3 otherwise.
const probeSource = `package main

import "os"

func main() {
	if len(os.Args) != 4 {
		os.Exit(2)
	}
	switch os.Args[1] {
	case "write":
		if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
			os.Exit(1)
		}
	case "check":
		b, err := os.ReadFile(os.Args[2])
		if err != nil || string(b) != os.Args[3] {
			os.Exit(3)
		}
	default:
		os.Exit(2)
	}
}
`

// RunnableImage adds to the OCI layout layoutDir (created if missing) an
// image tagged tag, built with umoci and no network, whose one layer is
// a static Go program /probe (see probeSource) and whose entrypoint is
// /probe: run it with "write PATH TEXT" or "check PATH TEXT".
func RunnableImage(t testing.TB, layoutDir, tag string) ocispec.Descriptor {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "bundle")
	if _, err := os.Stat(filepath.Join(layoutDir, "oci-layout")); err != nil {
		run(t, "umoci", "init", "--layout", layoutDir)
	}
	image := layoutDir + ":" + tag
	run(t, "umoci", "new", "--image", image)
	run(t, "umoci", "unpack", "--rootless", "--image", image, bundle)
	buildProbe(t, filepath.Join(bundle, "rootfs", "probe"))
	run(t, "umoci", "repack", "--no-history", "--image", image, bundle)
	run(t, "umoci", "config", "--no-history", "--image", image, "--config.entrypoint=/probe",
		"--os=linux", "--architecture="+goruntime.GOARCH, "--created="+fixed.Format(time.RFC3339))
	return indexEntry(t, layoutDir, tag)
}

func buildProbe(t testing.TB, out string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(probeSource), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(NeedTool(t, "go"), "build", "-trimpath", "-o", out, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=", "GO111MODULE=on")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build probe: %v\n%s", err, b)
	}
}
