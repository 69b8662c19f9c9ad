package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// manifestOf reads the manifest of the image tagged tag in an OCI layout,
// straight from the files, into v.
func manifestOf(t *testing.T, layout, tag string, v any) {
	t.Helper()
	var ix struct {
		Manifests []struct {
			Digest      string
			Annotations map[string]string
		}
	}
	readJSON(t, filepath.Join(layout, "index.json"), &ix)
	for _, m := range ix.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == tag {
			readJSON(t, filepath.Join(layout, "blobs", "sha256", m.Digest[len("sha256:"):]), v)
			return
		}
	}
	t.Fatalf("no image %s in %s", tag, layout)
}

// configDigest is the config digest of the image tagged tag in a layout.
func configDigest(t *testing.T, layout, tag string) string {
	t.Helper()
	var man struct{ Config struct{ Digest string } }
	manifestOf(t, layout, tag, &man)
	return man.Config.Digest
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// lsNames is the names `ferry ls --json` lists.
func lsNames(t *testing.T, home string) []string {
	t.Helper()
	r := must(t, home, "--json", "ls")
	var imgs []struct{ Name string }
	if err := json.Unmarshal([]byte(r.stdout), &imgs); err != nil {
		t.Fatalf("ls --json = %s: %v", r.stdout, err)
	}
	var names []string
	for _, im := range imgs {
		names = append(names, im.Name)
	}
	return names
}
