package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// bigLayout writes an OCI layout holding one image "big" whose single
// layer is n pseudo-random bytes, quickly and without umoci. It returns
// the layout and the layer's file.
func bigLayout(t *testing.T, n int) (dir string, layer []byte, layerFile string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "big")
	blobs := filepath.Join(dir, "blobs", "sha256")
	os.MkdirAll(blobs, 0o755)
	put := func(b []byte) digest.Digest {
		d := digest.FromBytes(b)
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	layer = make([]byte, n)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(layer)
	ld := put(layer)
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{string(ld)}}})
	cd := put(cfg)
	man, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": n}}})
	md := put(man)
	ix, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
		"annotations": map[string]string{"org.opencontainers.image.ref.name": "big"}}}})
	os.WriteFile(filepath.Join(dir, "index.json"), ix, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return dir, layer, filepath.Join(blobs, ld.Encoded())
}

// stallLayer replaces a layer's file with a named pipe and returns a
// function that opens it for writing (once a reader has opened it) and
// feeds it the first k bytes: a save of the layout then waits, mid-write,
// for bytes that never come, however fast or busy the machine is.
func stallLayer(t *testing.T, file string, layer []byte) (feed func(k int, exited <-chan struct{}) *os.File) {
	t.Helper()
	os.Remove(file)
	if err := mkfifo(file); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	return func(k int, exited <-chan struct{}) *os.File {
		opened := make(chan *os.File, 1)
		go func() {
			w, err := os.OpenFile(file, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
			}
			opened <- w
		}()
		select {
		case w := <-opened:
			if _, err := w.Write(layer[:k]); err != nil {
				t.Fatalf("feeding the layer: %v", err)
			}
			return w
		case <-exited:
			t.Fatalf("save exited before it read the layer")
			return nil
		}
	}
}

// TestSave_KilledMidWrite: a save killed with SIGKILL while writing
// leaves no bundle and the catalog as it was: the next save for the site
// plans the same blobs.
func TestSave_KilledMidWrite(t *testing.T) {
	src, layer, file := bigLayout(t, 8<<20)
	feed := stallLayer(t, file, layer)
	s := newSites(t)
	plan := func() string {
		r := must(t, s.hq, "--json", "save", "oci:"+src+":big", "--for", "plant-7", "--dry-run")
		return r.stdout
	}
	before := plan()
	out := filepath.Join(s.dir, "out")
	os.MkdirAll(out, 0o755)
	cmd := exec.Command(os.Args[0], "--home", s.hq, "save", "oci:"+src+":big", "--for", "plant-7", "-o", filepath.Join(out, "trip.ferry"))
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// Half the layer: the save writes it out and waits for the rest.
	w := feed(len(layer)/2, exited)
	defer w.Close()
	for written := false; !written; {
		tmps, _ := filepath.Glob(filepath.Join(out, ".trip.ferry.tmp-*"))
		if len(tmps) == 1 {
			st, err := os.Stat(tmps[0])
			written = err == nil && st.Size() > 1<<20
		}
		select {
		case <-exited:
			t.Fatalf("save exited while waiting for the rest of its layer")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	if _, err := os.Stat(filepath.Join(out, "trip.ferry")); err == nil {
		t.Errorf("a killed save left a bundle under its final name")
	}
	if after := plan(); after != before {
		t.Errorf("after a killed save the plan changed:\nbefore %s\nafter %s", before, after)
	}
	r := must(t, s.hq, "--json", "site", "show", "plant-7")
	if !strings.Contains(r.stdout, `"made": null`) && !strings.Contains(r.stdout, `"made": []`) {
		t.Errorf("a killed save recorded a trip: %s", r.stdout)
	}
}
