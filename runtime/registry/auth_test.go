package registry_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// writeAuth writes a Docker config / containers auth.json holding
// user:password for host and returns its path.
func writeAuth(t *testing.T, dir, file, host, user, password string) string {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	p := filepath.Join(dir, file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, fmt.Appendf(nil, `{"auths":{%q:{"auth":%q}}}`, host, auth), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noAmbientCredentials points HOME, DOCKER_CONFIG, XDG_* and
// REGISTRY_AUTH_FILE at nothing.
func noAmbientCredentials(t *testing.T) {
	empty := t.TempDir()
	for _, k := range []string{"HOME", "DOCKER_CONFIG", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"} {
		t.Setenv(k, empty)
	}
	t.Setenv(registry.AuthFileEnv, "")
}

func TestAuthTLS(t *testing.T) {
	noAmbientCredentials(t)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	opts := fast
	opts.CAFile = reg.CAFile
	dir := filepath.Join(t.TempDir(), "oci")
	want := runtimetest.UmociImage(t, dir, "v1", 21, 1, 800)
	lay, err := ocilayout.FromPath(dir, "v1")
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := lay.Resolve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/sec:v1" // a tag-only name goes to the prefix as its repository

	t.Setenv(registry.AuthFileEnv, writeAuth(t, t.TempDir(), "auth.json", reg.Host, "ferry", "s3cret"))
	write(t, "docker://"+reg.Host+"/sec", opts, lay, imgs...)
	got := runtimetest.Skopeo(t, "inspect", "--raw", "--cert-dir", reg.CertDir, "--creds", "ferry:s3cret", "docker://"+ref)
	if digest.FromBytes(got) != want.Digest {
		t.Errorf("skopeo digest of %s = %s, want %s", ref, digest.FromBytes(got), want.Digest)
	}

	t.Setenv(registry.AuthFileEnv, "")
	t.Setenv("DOCKER_CONFIG", filepath.Join(t.TempDir(), "docker"))
	writeAuth(t, os.Getenv("DOCKER_CONFIG"), "config.json", reg.Host, "ferry", "s3cret")
	src, img := open(t, ref, opts)
	runtimetest.Skopeo(t, "inspect", "--raw", "--cert-dir", reg.CertDir, "--creds", "ferry:s3cret", "docker://"+ref)
	if img.Desc.Digest != want.Digest {
		t.Errorf("Resolve(%s) with DOCKER_CONFIG = %s, want %s", ref, img.Desc.Digest, want.Digest)
	}
	if err := copyToLayout(src, img, filepath.Join(t.TempDir(), "out")); err != nil {
		t.Errorf("copy from %s with DOCKER_CONFIG = %v", ref, err)
	}
	testAuthFailures(t, reg, ref, opts, lay, imgs)
}

func testAuthFailures(t *testing.T, reg *runtimetest.Registry, ref string, opts registry.Options,
	lay runtime.Source, imgs []runtime.Image) {
	t.Setenv(registry.AuthFileEnv, writeAuth(t, t.TempDir(), "auth.json", reg.Host, "ferry", "wrong"))
	wantErr(t, ref, opts, spec.ErrUnauthorized, "unauthorized, tried as user ferry", "ferry login "+reg.Host)
	noAmbientCredentials(t)
	wantErr(t, ref, opts, spec.ErrUnauthorized, "unauthorized, tried anonymously", registry.AuthFileEnv)
	tgt, err := registry.NewTarget("docker://"+reg.Host+"/sec2", opts)
	if err != nil {
		t.Fatal(err)
	}
	err = tgt.Write(context.Background(), imgs, lay)
	if !errors.Is(err, spec.ErrUnauthorized) || !strings.Contains(err.Error(), "registry "+reg.Host) ||
		!strings.Contains(err.Error(), reg.Host+"/sec2:v1") {
		t.Errorf("Write without credentials = %v, want ErrUnauthorized naming registry and image", err)
	}
	opts.CAFile = ""
	wantErr(t, ref, opts, nil, "registry "+reg.Host, "image "+ref)
}

func wantErr(t *testing.T, ref string, opts registry.Options, is error, subs ...string) {
	t.Helper()
	src, err := registry.FromReference(ref, opts)
	if err == nil {
		_, err = src.Resolve(context.Background())
	}
	if err == nil || (is != nil && !errors.Is(err, is)) {
		t.Fatalf("Resolve(%s) = %v, want %v", ref, err, is)
	}
	if testing.Verbose() {
		t.Log(err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Resolve(%s) = %q, want it to contain %q", ref, err, s)
		}
	}
}
