package docker_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/docker"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestCommit_Snapshot: a container writes a file; its snapshot, read from
// engine A and written into engine B, runs there and finds the file.
func TestCommit_Snapshot(t *testing.T) {
	a, b := engines(t)
	dir := filepath.Join(t.TempDir(), "oci")
	runtimetest.RunnableImage(t, dir, "probe")
	a.SkopeoLoad(t, "oci:"+dir+":probe", "probe:1")
	a.Docker(t, "run", "--network", "none", "--name", "Snap_Me", "probe:1", "write", "/state.txt", "written at the source")
	ref, err := docker.Commit(t.Context(), opts(a), "Snap_Me")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, docker.SnapshotRepo+"snap_me:") || len(ref) != len(docker.SnapshotRepo+"snap_me:20060102T150405Z") {
		t.Errorf("Commit = %s, want %ssnap_me:<UTC time>", ref, docker.SnapshotRepo)
	}
	copyImage(t, a, b, ref)
	if _, err := b.TryDocker(t, "run", "--rm", "--network", "none", ref, "check", "/state.txt", "written at the source"); err != nil {
		t.Errorf("the snapshot in B does not hold the file: %v", err)
	}
	if _, err := b.TryDocker(t, "run", "--rm", "--network", "none", ref, "check", "/state.txt", "other"); err == nil {
		t.Errorf("check of the wrong text succeeded: the probe proves nothing")
	}
	if _, err := docker.Commit(t.Context(), opts(a), "no-such-container"); err == nil || !strings.Contains(err.Error(), "no-such-container") {
		t.Errorf("Commit(no-such-container) = %v, want an error naming it", err)
	}
}
