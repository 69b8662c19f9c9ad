package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime/registry"
	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestCheckLogin: a registry behind TLS and htpasswd accepts the right
// password, refuses a wrong one as unauthorized (never echoing it), and an
// untrusted certificate is named as such.
func TestCheckLogin(t *testing.T) {
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	ctx := context.Background()
	opts := fast
	opts.CAFile = reg.CAFile
	if err := registry.CheckLogin(ctx, reg.Host, "ferry", "s3cret", opts); err != nil {
		t.Errorf("CheckLogin(right password) = %v", err)
	}
	err := registry.CheckLogin(ctx, reg.Host, "ferry", "wrong-pw", opts)
	if !errors.Is(err, spec.ErrUnauthorized) || !strings.Contains(err.Error(), reg.Host) || strings.Contains(err.Error(), "wrong-pw") {
		t.Errorf("CheckLogin(wrong password) = %v, want ErrUnauthorized naming the registry, not the password", err)
	}
	err = registry.CheckLogin(ctx, reg.Host, "ferry", "s3cret", fast)
	if err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("CheckLogin(untrusted CA) = %v, want it to say --ca-file", err)
	}
	if err := registry.CheckLogin(ctx, reg.Host+"/repo", "ferry", "s3cret", opts); !errors.Is(err, spec.ErrBadInput) {
		t.Errorf("CheckLogin(HOST/repo) = %v, want ErrBadInput", err)
	}
}

// TestCredentials_DockerConfig: Save writes the Docker config with mode
// 0600 (also over a 0644 file), keeps its other settings, and the saved
// login is what the registry transport then uses; Remove takes it out.
func TestCredentials_DockerConfig(t *testing.T) {
	noAmbientCredentials(t)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	dir := filepath.Join(t.TempDir(), "docker")
	t.Setenv("DOCKER_CONFIG", dir)
	os.MkdirAll(dir, 0o755)
	cfgPath := filepath.Join(dir, "config.json")
	os.WriteFile(cfgPath, []byte(`{"auths":{"other.example:5000":{"auth":"dTpw"}},"psFormat":"table {{.ID}}"}`), 0o644)
	creds, err := registry.CredentialsFile()
	if err != nil || creds.Path != cfgPath || creds.Podman {
		t.Fatalf("CredentialsFile() = %+v, %v, want %s", creds, err, cfgPath)
	}
	where, err := creds.Save(reg.Host, "ferry", "s3cret")
	if err != nil || where != cfgPath {
		t.Fatalf("Save = %q, %v", where, err)
	}
	var cfg struct {
		Auths    map[string]struct{ Auth string }
		PsFormat string
	}
	readJSON(t, cfgPath, &cfg)
	if cfg.Auths[reg.Host].Auth == "" || cfg.Auths["other.example:5000"].Auth != "dTpw" || cfg.PsFormat != "table {{.ID}}" {
		t.Errorf("config.json after Save = %+v, want the new login beside the old settings", cfg)
	}
	wantMode(t, cfgPath, 0o600)
	opts := fast
	opts.CAFile = reg.CAFile
	tgt, err := registry.NewTarget("docker://"+reg.Host+"/x", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Exists(context.Background(), anyBlob); err != nil {
		t.Errorf("a request with the saved login = %v", err)
	}
	if got, _ := creds.Registries(); strings.Join(got, ",") != reg.Host+",other.example:5000" {
		t.Errorf("Registries() = %v", got)
	}
	if _, found, err := creds.Remove(reg.Host); !found || err != nil {
		t.Errorf("Remove = %v, %v, want found", found, err)
	}
	if _, found, err := creds.Remove(reg.Host); found || err != nil {
		t.Errorf("second Remove = %v, %v, want not found", found, err)
	}
	cfg.Auths = nil
	readJSON(t, cfgPath, &cfg)
	if _, ok := cfg.Auths[reg.Host]; ok || cfg.Auths["other.example:5000"].Auth != "dTpw" {
		t.Errorf("config.json after Remove = %+v, want only the other login", cfg)
	}
}

// TestCredentials_AuthFileAndHub: REGISTRY_AUTH_FILE wins over the Docker
// config, and Docker Hub is kept under each file's own name for it.
func TestCredentials_AuthFileAndHub(t *testing.T) {
	noAmbientCredentials(t)
	t.Setenv("DOCKER_CONFIG", filepath.Join(t.TempDir(), "docker"))
	authFile := filepath.Join(t.TempDir(), "containers", "auth.json")
	t.Setenv(registry.AuthFileEnv, authFile)
	creds, _ := registry.CredentialsFile()
	if creds.Path != authFile || !creds.Podman {
		t.Fatalf("CredentialsFile() = %+v, want %s", creds, authFile)
	}
	if _, err := creds.Save("docker.io", "u", "p"); err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string }
	}
	readJSON(t, authFile, &cfg)
	if _, ok := cfg.Auths["docker.io"]; !ok {
		t.Errorf("auth.json = %+v, want Docker Hub as docker.io (podman's name)", cfg)
	}
	wantMode(t, authFile, 0o600)
	if _, err := os.Stat(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json")); err == nil {
		t.Errorf("Save with %s set wrote the Docker config too", registry.AuthFileEnv)
	}
	t.Setenv(registry.AuthFileEnv, "")
	creds, _ = registry.CredentialsFile()
	creds.Save("index.docker.io", "u", "p")
	readJSON(t, creds.Path, &cfg)
	if _, ok := cfg.Auths["https://index.docker.io/v1/"]; !ok {
		t.Errorf("config.json = %+v, want Docker Hub as https://index.docker.io/v1/ (docker's name)", cfg)
	}
	if got, _ := creds.Registries(); strings.Join(got, ",") != "docker.io" {
		t.Errorf("Registries() = %v, want docker.io", got)
	}
}

// TestCredentials_Helper: with a credential helper configured, the secret
// goes to the helper (docker-credential-<name> on PATH, by its protocol)
// and the file only names the registry; the transport reads it back.
func TestCredentials_Helper(t *testing.T) {
	noAmbientCredentials(t)
	reg := runtimetest.StartRegistry(t, runtimetest.RegistryOptions{TLS: true, User: "ferry", Password: "s3cret"})
	store := installHelper(t)
	dir := filepath.Join(t.TempDir(), "docker")
	t.Setenv("DOCKER_CONFIG", dir)
	os.MkdirAll(dir, 0o700)
	cfgPath := filepath.Join(dir, "config.json")
	os.WriteFile(cfgPath, []byte(`{"credsStore":"ferrytest"}`), 0o600)
	creds, _ := registry.CredentialsFile()
	where, err := creds.Save(reg.Host, "ferry", "s3cret")
	if err != nil || !strings.Contains(where, "docker-credential-ferrytest") {
		t.Fatalf("Save = %q, %v, want the helper named", where, err)
	}
	raw, _ := os.ReadFile(cfgPath)
	if strings.Contains(string(raw), "s3cret") || strings.Contains(string(raw), "ZmVycnk6czNjcmV0") {
		t.Errorf("config.json holds the secret with a helper configured: %s", raw)
	}
	if entries, _ := os.ReadDir(store); len(entries) != 1 {
		t.Errorf("the helper holds %d logins, want 1", len(entries))
	}
	opts := fast
	opts.CAFile = reg.CAFile
	tgt, err := registry.NewTarget("docker://"+reg.Host+"/x", opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Exists(context.Background(), anyBlob); err != nil {
		t.Errorf("a request with the helper's login = %v", err)
	}
	if _, found, err := creds.Remove(reg.Host); !found || err != nil {
		t.Errorf("Remove = %v, %v", found, err)
	}
	if entries, _ := os.ReadDir(store); len(entries) != 0 {
		t.Errorf("the helper holds %d logins after Remove, want 0", len(entries))
	}
}

// installHelper puts docker-credential-ferrytest on PATH: a credential
// helper speaking docker-credential-helpers' protocol (store, get, erase,
// list on standard input and output) that keeps each login as a file in
// the directory it returns. No real helper (pass, secretservice) runs
// without a keyring here.
func installHelper(t *testing.T) string {
	t.Helper()
	bin, store := t.TempDir(), t.TempDir()
	script := `#!/bin/sh
dir='` + store + `'
key() { printf %s "$1" | tr -c 'A-Za-z0-9.-' _; }
case "$1" in
store) in=$(cat); url=$(printf %s "$in" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p'); printf %s "$in" > "$dir/$(key "$url")" ;;
get) url=$(cat); f="$dir/$(key "$url")"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
erase) url=$(cat); rm -f "$dir/$(key "$url")" ;;
list) echo '{}' ;;
*) exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-ferrytest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return store
}

// anyBlob is a blob no registry holds: asking for it needs only the
// right to read.
var anyBlob = ocispec.Descriptor{Digest: digest.FromString("no such blob"), Size: 12}

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

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != want {
		t.Errorf("mode of %s = %v, %v, want %v", path, fi.Mode().Perm(), err, want)
	}
}
