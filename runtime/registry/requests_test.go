package registry_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
)

// TestRequests counts the requests of a pull and of a push in the
// registry's log: one ping (the start of the auth dance) per repository,
// whether the manifest, the blobs, the existence checks or the uploads
// ask; one request per blob read; and, when the registry holds every
// blob, one existence check per blob and the manifest. Under basic auth
// over TLS, as a site registry is.
func TestRequests(t *testing.T) {
	noAmbientCredentials(t)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	t.Setenv(registry.AuthFileEnv, writeAuth(t, t.TempDir(), "auth.json", reg.Host, "ferry", "s3cret"))
	opts := fast
	opts.CAFile = reg.CAFile
	dir := filepath.Join(t.TempDir(), "oci")
	runtimetest.UmociImage(t, dir, "v1", 31, 3, 2000) // config and 3 layers
	lay, err := ocilayout.FromPath(dir, "v1")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := lay.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	since := requestCounter(t, reg)

	write(t, "docker://"+reg.Host+"/a", opts, lay, imgs...) // to a/v1... as its tag-only name: a:v1
	got := since()
	if got[`"GET /v2/ `] != 1 || got[`"PUT /v2/a/manifests/v1 `] != 1 || got[`"HEAD /v2/a/blobs/`] != 4 || got[`"PATCH /v2/a/blobs/uploads/`] != 4 {
		t.Errorf("push to an empty registry: %v, want 1 ping, 4 blob checks, 4 uploads, 1 manifest", got)
	}

	write(t, "docker://"+reg.Host+"/a", opts, lay, runtime.Image{Name: "v2", Desc: imgs[0].Desc})
	got = since()
	if got[`"GET /v2/ `] != 1 || got[`"HEAD /v2/a/blobs/`] != 4 || got[`"PATCH `] != 0 || got[`"PUT /v2/a/manifests/v2 `] != 1 {
		t.Errorf("push of held blobs under a new tag: %v, want 1 ping, 4 blob checks, no upload, 1 manifest", got)
	}

	src, img := open(t, reg.Host+"/a:v1", opts)
	if err := copyToLayout(src, img, filepath.Join(t.TempDir(), "out")); err != nil {
		t.Fatal(err)
	}
	got = since()
	if got[`"GET /v2/ `] != 1 || got[`"GET /v2/a/manifests/v1 `] != 1 || got[`"GET /v2/a/blobs/`] != 4 {
		t.Errorf("pull: %v, want 1 ping, the manifest and the 4 blobs once each", got)
	}
}

// requestCounter returns a function that counts, by prefix, the requests
// the registry logged since its last call. The registry logs a request
// once it has answered it, so each call first asks for a marker and waits
// until the log has it, after every request made before.
func requestCounter(t *testing.T, reg *runtimetest.Registry) func() map[string]int {
	client, marks := reg.Client(true), 0
	mark := func() {
		marks++
		path := fmt.Sprintf("/v2/mark%d/tags/list", marks)
		resp, err := client.Get("https://" + reg.Host + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for i := 0; count(t, reg.LogPath, path) == 0; i++ {
			if i == 500 {
				t.Fatalf("%s: not logged by the registry (%s)", path, reg.LogPath)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	log := reg.LogPath
	prefixes := []string{`"GET /v2/ `, `"HEAD /v2/a/blobs/`, `"PATCH /v2/a/blobs/uploads/`, `"PATCH `,
		`"PUT /v2/a/manifests/v1 `, `"PUT /v2/a/manifests/v2 `, `"GET /v2/a/manifests/v1 `, `"GET /v2/a/blobs/`}
	last := map[string]int{}
	since := func() map[string]int {
		t.Helper()
		mark()
		got := map[string]int{}
		for _, p := range prefixes {
			n := count(t, log, p)
			if n != last[p] {
				got[p] = n - last[p]
			}
			last[p] = n
		}
		return got
	}
	since()
	return since
}
