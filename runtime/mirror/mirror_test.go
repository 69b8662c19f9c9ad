package mirror

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker/config"

	"github.com/ferryhq/ferry/spec"
)

// write writes files under a temporary directory and returns it.
func write(t *testing.T, files []File) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestFiles_ContainerdReadsThem: containerd's own hosts parser, given the
// certs.d directory, sends each registry's pulls to the site registry
// under its prefix, with the TLS settings asked for, and falls back to
// the registry itself.
func TestFiles_ContainerdReadsThem(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		scheme     string
		path       string
		skipVerify bool
	}{
		{"https with a prefix", Options{Registry: "registry.plant7:5000/mirror"}, "https", "/v2/mirror", false},
		{"http, no prefix", Options{Registry: "10.0.0.5:5000", PlainHTTP: true}, "http", "/v2", false},
		{"self-signed, deep prefix", Options{Registry: "reg.site.example/a/b", SkipVerify: true}, "https", "/v2/a/b", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Files([]string{"quay.io", "docker.io", "registry.k8s.io", "quay.io"}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			dir := write(t, files)
			hosts := config.ConfigureHosts(context.Background(), config.HostOptions{HostDir: config.HostDirFromRoot(filepath.Join(dir, ContainerdDir))})
			site, _, _ := strings.Cut(tc.opts.Registry, "/")
			for _, up := range []struct{ host, fallback string }{{"quay.io", "quay.io"}, {"docker.io", "registry-1.docker.io"}, {"registry.k8s.io", "registry.k8s.io"}} {
				got, err := hosts(up.host)
				if err != nil {
					t.Fatalf("containerd's hosts for %s: %v", up.host, err)
				}
				if len(got) != 2 {
					t.Fatalf("containerd's hosts for %s: %d, want the mirror then %s", up.host, len(got), up.fallback)
				}
				m := got[0]
				if m.Host != site || m.Scheme != tc.scheme || m.Path != tc.path || m.Capabilities.Has(1<<2) {
					t.Errorf("%s mirror = %s://%s%s caps %b, want %s://%s%s, pull and resolve only", up.host, m.Scheme, m.Host, m.Path, m.Capabilities, tc.scheme, site, tc.path)
				}
				if m.Client == nil || m.Client.Transport == nil {
					t.Fatalf("%s mirror has no client", up.host)
				}
				if got[1].Host != up.fallback {
					t.Errorf("%s fallback = %s, want %s", up.host, got[1].Host, up.fallback)
				}
			}
		})
	}
}

func TestFiles_RegistriesConf(t *testing.T) {
	files, err := Files([]string{"quay.io", "docker.io"}, Options{Registry: "10.0.0.5:5000/mirror", PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[len(files)-1].Data)
	for _, want := range []string{"[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n\n[[registry.mirror]]\nlocation = \"10.0.0.5:5000/mirror\"\ninsecure = true\n",
		"prefix = \"quay.io\""} {
		if !strings.Contains(conf, want) {
			t.Errorf("registries.conf =\n%s\nwant it to contain\n%s", conf, want)
		}
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if want := []string{"certs.d/docker.io/hosts.toml", "certs.d/quay.io/hosts.toml", RegistriesConf}; !slices.Equal(paths, want) {
		t.Errorf("files = %v, want %v", paths, want)
	}
}

func TestFiles_Refuses(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		reg   string
	}{
		{[]string{"quay.io"}, "not a host"},
		{[]string{"quay.io"}, "mirror"}, // no host
		{[]string{"quay.io"}, "registry.example.com/UPPER"},
		{[]string{"quay.io\n[host.\"evil\"]"}, "registry.example.com"},
		{[]string{"../etc"}, "registry.example.com"},
	} {
		if _, err := Files(tc.hosts, Options{Registry: tc.reg}); !spec.IsBadInput(err) {
			t.Errorf("Files(%q, %q) = %v, want a bad-input error", tc.hosts, tc.reg, err)
		}
	}
}

func TestHosts(t *testing.T) {
	hosts, warnings := Hosts([]string{"quay.io/jetstack/cert-manager-controller:v1.21.1", "docker.io/library/busybox:1.36",
		"busybox:1.36", "docker.io/team/app:1", "quay.io/team/app:1", "registry.k8s.io/pause:3.10@sha256:" + strings.Repeat("a", 64)})
	if want := []string{"docker.io", "quay.io", "registry.k8s.io"}; !slices.Equal(hosts, want) {
		t.Errorf("Hosts = %v, want %v", hosts, want)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "busybox:1.36 is not named by a full reference") ||
		!strings.Contains(warnings[1], "docker.io/team/app:1 and quay.io/team/app:1 are one path") {
		t.Errorf("warnings = %q, want the bare name and the two images at one path", warnings)
	}
}
