package docker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferryhq/ferry/runtime/runtimetest"
	"github.com/ferryhq/ferry/spec"
)

// TestTLSConfig: with DOCKER_TLS_VERIFY, a CA or client certificate of
// DOCKER_CERT_PATH that is missing, unreadable or not a certificate is
// refused, naming the file. Before, each was silently left out.
func TestTLSConfig(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spoil  func(dir string)
		verify string
		want   string // "" for a good config
	}{
		{"all there", func(string) {}, "1", ""},
		{"no CA", func(d string) { os.Remove(filepath.Join(d, "ca.pem")) }, "1", "ca.pem"},
		{"CA not PEM", func(d string) { os.WriteFile(filepath.Join(d, "ca.pem"), []byte("junk"), 0o644) }, "1", "ca.pem"},
		{"cert unreadable", func(d string) {
			os.Remove(filepath.Join(d, "cert.pem"))
			os.Mkdir(filepath.Join(d, "cert.pem"), 0o755)
		}, "1", "cert.pem"},
		{"key of another cert", func(d string) {
			other := runtimetest.DockerCertPath(t, t.TempDir())
			data, _ := os.ReadFile(filepath.Join(other, "key.pem"))
			os.WriteFile(filepath.Join(d, "key.pem"), data, 0o600)
		}, "1", "key.pem"},
		{"https without verify: absent files are fine", func(d string) {
			os.Remove(filepath.Join(d, "cert.pem"))
			os.Remove(filepath.Join(d, "key.pem"))
		}, "", ""},
		{"https without verify: a broken CA is not", func(d string) { os.WriteFile(filepath.Join(d, "ca.pem"), []byte("junk"), 0o644) }, "", "ca.pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := runtimetest.DockerCertPath(t, t.TempDir())
			tc.spoil(dir)
			t.Setenv("DOCKER_CERT_PATH", dir)
			t.Setenv("DOCKER_TLS_VERIFY", tc.verify)
			cfg, err := tlsConfig("https")
			if tc.want == "" {
				if err != nil || cfg == nil || cfg.RootCAs == nil {
					t.Errorf("tlsConfig = %v, %v, want a config with the CA", cfg, err)
				}
				return
			}
			if !errors.Is(err, spec.ErrBadInput) || !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) {
				t.Errorf("tlsConfig = %v, want ErrBadInput naming %s", err, tc.want)
			}
		})
	}
}
