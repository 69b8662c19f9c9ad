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
// layer is n pseudo-random bytes, quickly and without umoci.
func bigLayout(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "big")
	blobs := filepath.Join(dir, "blobs", "sha256")
	os.MkdirAll(blobs, 0o755)
	put := func(b []byte) digest.Digest {
		d := digest.FromBytes(b)
		if err := os.WriteFile(filepath.Join(blobs, d.Encoded()), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	layer := make([]byte, n)
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
	return dir
}

// TestSave_KilledMidWrite: a save killed with SIGKILL while writing
// leaves no bundle and the catalog as it was: the next save for the site
// plans the same blobs.
func TestSave_KilledMidWrite(t *testing.T) {
	src := bigLayout(t, 256<<20)
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
	killed := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		tmps, _ := filepath.Glob(filepath.Join(out, ".trip.ferry.tmp-*"))
		if len(tmps) == 1 {
			if st, err := os.Stat(tmps[0]); err == nil && st.Size() > 1<<20 {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
				break
			}
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("save finished before it could be killed mid-write")
	}
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
