package runtimetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// HelmVersion is the helm CLI the tests check ferry's charts with: the
// release of the Helm SDK ferry builds with.
const HelmVersion = "v4.3.1"

// HelmPath is where `make helm` (and Helm under CI=true) installs the
// helm CLI: $XDG_CACHE_HOME/ferry-test/helm-VERSION/helm, or the value of
// FERRY_TEST_HELM.
func HelmPath() string {
	if p := os.Getenv("FERRY_TEST_HELM"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "ferry-test", "helm-"+HelmVersion, "helm")
}

var helmOnce sync.Once

// Helm returns the path of the helm CLI (HelmVersion) at HelmPath. When
// it is absent: under CI=true it is built there with `go install` (a few
// minutes the first time, from the Go module proxy, then cached), and a
// failure fails the test; otherwise the test is skipped, saying to run
// `make helm`.
func Helm(t testing.TB) string {
	t.Helper()
	p := HelmPath()
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") != "true" {
		t.Skipf("helm %s not at %s: run make helm (or set FERRY_TEST_HELM)", HelmVersion, p)
	}
	var out []byte
	var err error
	helmOnce.Do(func() {
		cmd := exec.Command("go", "install", "helm.sh/helm/v4/cmd/helm@"+HelmVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(p))
		out, err = cmd.CombinedOutput()
	})
	if _, serr := os.Stat(p); serr != nil {
		t.Fatalf("helm %s is required under CI=true: go install: %v\n%s", HelmVersion, err, out)
	}
	return p
}
