package runtimetest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/bcrypt"
)

// RegistryOptions choose how StartRegistry's registry is served.
type RegistryOptions struct {
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a CA
	// made for the test (Registry.CAFile).
	TLS bool
	// User and Password, when User is set, require basic auth
	// (htpasswd, bcrypt).
	User, Password string
}

// Registry is a distribution registry (Debian's docker-registry) that a
// test started on a free loopback port.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// CAFile is the PEM of the CA that signed the server certificate;
	// "" without TLS. CertDir holds it as ca.crt, for skopeo's
	// --cert-dir.
	CAFile, CertDir string
	// LogPath is the access log: one line per request in the combined
	// log format, `"GET /v2/REPO/blobs/DIGEST HTTP/1.1" 200 …`.
	LogPath string
}

// StartRegistry starts docker-registry with a configuration written for
// the test (filesystem storage in a temporary directory), waits until
// /v2/ answers and stops it when the test ends. It skips the test when
// docker-registry is not installed, or fails it under CI=true.
func StartRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	bin := NeedTool(t, "docker-registry")
	dir := t.TempDir()
	r := &Registry{LogPath: filepath.Join(dir, "access.log")}
	var tlsCfg string
	if opts.TLS {
		r.CertDir = filepath.Join(dir, "certs")
		r.CAFile = filepath.Join(r.CertDir, "ca.crt")
		cert, key := writeCerts(t, r.CertDir, filepath.Join(dir, "server"))
		tlsCfg = fmt.Sprintf("  tls:\n    certificate: %s\n    key: %s\n", cert, key)
	}
	var auth string
	if opts.User != "" {
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: ferry-test\n    path: %s\n", writeHtpasswd(t, dir, opts.User, opts.Password))
	}
	for attempt := 0; ; attempt++ {
		r.Host = FreePort(t)
		cfg := filepath.Join(dir, "config.yml")
		writeFile(t, cfg, fmt.Sprintf(registryConfig, filepath.Join(dir, "data"), r.Host, tlsCfg, auth))
		stop, err := r.start(bin, cfg, opts.TLS)
		if err == nil {
			t.Cleanup(stop)
			return r
		} else if attempt == 2 {
			t.Fatalf("docker-registry: %v", err)
		}
	}
}

// LaunchRegistry starts docker-registry on a free loopback port, plain
// HTTP, no auth, its storage and log in dir, for programs with no
// testing.TB (the benchmark). stop kills it.
func LaunchRegistry(dir string) (r *Registry, stop func(), err error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	r = &Registry{LogPath: filepath.Join(dir, "access.log")}
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		r.Host = l.Addr().String()
		l.Close()
		cfg := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(registryConfig, filepath.Join(dir, "data"), r.Host, "", "")), 0o600); err != nil {
			return nil, nil, err
		}
		stop, err := r.start(bin, cfg, false)
		if err == nil || attempt == 2 {
			return r, stop, err
		}
	}
}

const registryConfig = `version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: ferry-test
%s%s`

// start runs the registry and waits until /v2/ answers; stop kills it.
func (r *Registry) start(bin, cfg string, useTLS bool) (stop func(), err error) {
	logf, err := os.Create(r.LogPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Env = registryEnv()
	proc, err := startDaemon("docker-registry", cmd, logf)
	if err != nil {
		logf.Close()
		return nil, err
	}
	stop = func() { proc.stop(os.Kill) }
	if err := proc.waitReady(20*time.Millisecond, r.ready(useTLS)); err != nil {
		stop()
		log, _ := os.ReadFile(r.LogPath)
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	return stop, nil
}

// ready asks the registry for /v2/.
func (r *Registry) ready(useTLS bool) func() error {
	client, url := r.Client(useTLS), "http://"+r.Host+"/v2/"
	if useTLS {
		url = "https://" + r.Host + "/v2/"
	}
	return func() error {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
}

// Client is an HTTP client that trusts the registry's CA.
func (r *Registry) Client(useTLS bool) *http.Client {
	if !useTLS || r.CAFile == "" {
		return &http.Client{Timeout: StartTimeout}
	}
	pem, _ := os.ReadFile(r.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Timeout: StartTimeout,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// BlobGets counts the GET requests for blob d (any repository) in the
// access log so far.
func (r *Registry) BlobGets(t testing.TB, d digest.Digest) int {
	t.Helper()
	b, err := os.ReadFile(r.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"GET /v2/`) && strings.Contains(line, "/blobs/"+d.String()+" ") {
			n++
		}
	}
	return n
}

// FreePort returns "127.0.0.1:PORT" for a port that was free a moment
// ago: where nothing answers, until something else takes it.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeHtpasswd(t testing.TB, dir, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "htpasswd")
	writeFile(t, p, user+":"+string(hash)+"\n")
	return p
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// registryEnv is this process's environment without REGISTRY_*: the
// registry reads REGISTRY_<SECTION>_<KEY> as configuration, so a test's
// REGISTRY_AUTH_FILE (containers' auth file) would become an "auth: file"
// section, and the registry would pick it or htpasswd at random.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	return env
}
