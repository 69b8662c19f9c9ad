package docker_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// Two private engines shared by the package's tests, started on first
// use and stopped after the last test: A is where images come from, B
// where they go.
var (
	once   sync.Once
	a, b   *runtimetest.Dockerd
	stops  []func() error
	engErr error
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, stop := range stops {
		if err := stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// engines returns A and B, skipping the test when dockerd is missing
// (failing it under CI=true).
func engines(t testing.TB) (*runtimetest.Dockerd, *runtimetest.Dockerd) {
	t.Helper()
	for _, tool := range []string{"dockerd", "containerd", "docker", "skopeo", "umoci"} {
		runtimetest.NeedTool(t, tool)
	}
	once.Do(func() {
		var ds [2]*runtimetest.Dockerd
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range ds {
			wg.Go(func() {
				d, stop, err := runtimetest.LaunchDockerd()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					engErr = err
					return
				}
				ds[i] = d
				stops = append(stops, stop)
			})
		}
		wg.Wait()
		a, b = ds[0], ds[1]
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return a, b
}

func opts(d *runtimetest.Dockerd) docker.Options {
	return docker.Options{Host: d.Host, TmpDir: os.TempDir()}
}

// TestConformance runs the suite against engine B, emptied before each
// subtest. Docker gives images back with manifests of its own, so the
// round trip checks names and image IDs.
func TestConformance(t *testing.T) {
	_, b := engines(t)
	runtimetest.RunImageIDs(t, "docker", runtimetest.Harness{
		NewTarget: func(t *testing.T, dir string) (runtime.Target, runtimetest.Reopen) {
			b.RemoveAllImages(t)
			o := docker.Options{Host: b.Host, TmpDir: dir}
			tgt, err := docker.NewTarget(o)
			if err != nil {
				t.Fatal(err)
			}
			return tgt, func() (runtime.Source, error) { return allImages(t, o) }
		},
	})
}

func allImages(t *testing.T, o docker.Options) (runtime.Source, error) {
	names, err := docker.Images(t.Context(), o)
	if err != nil {
		return nil, err
	}
	return docker.FromDaemonImages(names, o)
}
