// Package runtimetest owns what the transport packages' tests share: the
// conformance suite that every runtime.Target and runtime.Source passes
// (Run) on images made in this process (RandomImage, so it needs no
// tool), the real daemons and registries the tests start, and umoci and
// skopeo as the independent writer and reader of the round-trip tests.
package runtimetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// NeedTool returns the path of the program name, skipping the test when
// it is absent, or failing it when CI=true.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", name, err)
	}
	t.Skipf("%s not installed: %v", name, err)
	return ""
}

// run runs a program and fails the test with its output on error.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(NeedTool(t, name), args...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return out
}

// Skopeo runs skopeo with args and returns its standard output.
func Skopeo(t testing.TB, args ...string) []byte {
	t.Helper()
	return run(t, "skopeo", args...)
}

// Umoci runs umoci with args and returns its standard output: an
// independent reader of OCI layouts (umoci unpack refuses a manifest or
// layer whose media type it does not know, or bytes that are not what the
// type says).
func Umoci(t testing.TB, args ...string) []byte {
	t.Helper()
	return run(t, "umoci", args...)
}

// SkopeoDigest is the manifest digest of ref as skopeo sees it: the
// sha256 of `skopeo inspect --raw ref`.
func SkopeoDigest(t testing.TB, ref string) digest.Digest {
	t.Helper()
	return digest.FromBytes(Skopeo(t, "inspect", "--raw", ref))
}

// fixed is the time given to every file umoci packs, and the image's
// creation time, so that the same seed gives the same image.
var fixed = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// UmociImage adds an image tagged tag to the OCI layout layoutDir
// (created if missing) with umoci: layers layers, each adding one file of
// layerBytes pseudo-random bytes from seed, and a config for linux/amd64
// whose command is /bin/true. It returns the manifest's descriptor. The
// same arguments give the same image.
func UmociImage(t testing.TB, layoutDir, tag string, seed int64, layers, layerBytes int) ocispec.Descriptor {
	t.Helper()
	if _, err := os.Stat(filepath.Join(layoutDir, spec.LayoutEntry)); err != nil {
		run(t, "umoci", "init", "--layout", layoutDir)
	}
	image := layoutDir + ":" + tag
	run(t, "umoci", "new", "--image", image)
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "umoci", "unpack", "--rootless", "--image", image, bundle)
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(layers)))
	for i := range layers {
		writeRandom(t, filepath.Join(bundle, "rootfs"), fmt.Sprintf("%s-%d", tag, i), rng, layerBytes)
		run(t, "umoci", "repack", "--refresh-bundle", "--no-history", "--image", image, bundle)
	}
	run(t, "umoci", "config", "--no-history", "--image", image, "--config.cmd=/bin/true",
		"--os=linux", "--architecture=amd64", "--created="+fixed.Format(time.RFC3339))
	return indexEntry(t, layoutDir, tag)
}

func writeRandom(t testing.TB, rootfs, name string, rng *rand.Rand, n int) {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	p := filepath.Join(rootfs, "data", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{p, filepath.Dir(p), rootfs} {
		if err := os.Chtimes(q, fixed, fixed); err != nil {
			t.Fatal(err)
		}
	}
}

func indexEntry(t testing.TB, dir, tag string) ocispec.Descriptor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, spec.LayoutIndexEntry))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	for _, d := range idx.Manifests {
		if d.Annotations[ocispec.AnnotationRefName] == tag {
			return d
		}
	}
	t.Fatalf("%s: umoci wrote no image tagged %q", dir, tag)
	return ocispec.Descriptor{}
}
