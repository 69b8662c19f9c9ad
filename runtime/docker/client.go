// Package docker is the docker-daemon:REF transport: images read from and
// written to a Docker Engine through its HTTP API (the unix socket or TCP
// address of DOCKER_HOST), with no Docker library. A Source streams the
// engine's image export (GET /images/get) into a spool file and reads it
// as a docker archive; a Target streams a docker archive into the
// engine's image load (POST /images/load), leaving out the layers the
// engine already has.
package docker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// DefaultHost is the engine's address when neither Options.Host nor
// DOCKER_HOST sets one.
const DefaultHost = "unix:///var/run/docker.sock"

// Options says which engine to talk to. The zero value uses DOCKER_HOST.
type Options struct {
	// Host is the engine's address, unix:///PATH or tcp://HOST:PORT;
	// "" means DOCKER_HOST, or DefaultHost when that is unset. A tcp
	// address uses TLS when DOCKER_TLS_VERIFY is set, with ca.pem,
	// cert.pem and key.pem from DOCKER_CERT_PATH (default ~/.docker).
	Host string
	// TmpDir is where a Source spools the engine's export; "" means
	// os.TempDir().
	TmpDir string
	// Spool, if set, keeps the layers of a Source's export instead of a
	// file in TmpDir (runtime.Spool: a save keeps them as the bundle's
	// frames, compressed while they stream). The Source does not close it.
	Spool runtime.Spool
}

func (o Options) host() string {
	switch {
	case o.Host != "":
		return o.Host
	case os.Getenv("DOCKER_HOST") != "":
		return os.Getenv("DOCKER_HOST")
	}
	return DefaultHost
}

// client speaks the Engine API to one engine.
type client struct {
	host    string // as given, for messages
	base    string // scheme://authority, no version
	version string // "/v1.41", from the engine's ping
	http    *http.Client
}

func newClient(o Options) (*client, error) {
	host := o.host()
	scheme, addr, ok := strings.Cut(host, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("docker host %q: want unix:///PATH or tcp://HOST:PORT: %w", host, spec.ErrBadInput)
	}
	tr := &http.Transport{DisableCompression: true, WriteBufferSize: 1 << 20, ReadBufferSize: 1 << 20}
	c := &client{host: host, http: &http.Client{Transport: tr}}
	switch scheme {
	case "unix":
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}
		c.base = "http://docker"
	case "tcp", "http", "https":
		cfg, err := tlsConfig(scheme)
		if err != nil {
			return nil, fmt.Errorf("docker host %s: %w", host, err)
		}
		tr.TLSClientConfig = cfg
		c.base = "http://" + addr
		if cfg != nil {
			c.base = "https://" + addr
		}
	default:
		return nil, fmt.Errorf("docker host %q: scheme %s not supported (unix or tcp): %w", host, scheme, spec.ErrBadInput)
	}
	return c, nil
}

// tlsConfig follows the docker CLI: TLS when DOCKER_TLS_VERIFY is set
// (or the scheme is https), with the CA and client certificate of
// DOCKER_CERT_PATH (default ~/.docker). With DOCKER_TLS_VERIFY all three
// files are required, as the docker CLI requires them; a file that is
// there but cannot be read or parsed is refused, naming it, never
// silently left out (which would talk TLS with no client certificate, or
// trust the system's CAs instead of the one given).
func tlsConfig(scheme string) (*tls.Config, error) {
	verify := os.Getenv("DOCKER_TLS_VERIFY") != ""
	if !verify && scheme != "https" {
		return nil, nil
	}
	dir := os.Getenv("DOCKER_CERT_PATH")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	ca, err := readCertFile(filepath.Join(dir, "ca.pem"), verify)
	if err != nil {
		return nil, err
	}
	if ca != nil {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, certError(filepath.Join(dir, "ca.pem"), errors.New("no PEM certificate in it"))
		}
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert, err := readCertFile(certFile, verify)
	if err != nil {
		return nil, err
	}
	key, err := readCertFile(keyFile, verify || cert != nil)
	if err != nil || cert == nil {
		return cfg, err
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, certError(certFile+" and "+keyFile, err)
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// readCertFile reads one file of DOCKER_CERT_PATH: nil when it is absent
// and not required.
func readCertFile(path string, required bool) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !required {
		return nil, nil
	}
	if err != nil {
		return nil, certError(path, err)
	}
	return data, nil
}

func certError(what string, err error) error {
	return fmt.Errorf("docker TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH): %s: %v: fix or replace it: %w", what, err, spec.ErrBadInput)
}

// ping checks the engine answers and learns the API version it speaks
// (DOCKER_API_VERSION overrides it).
func (c *client) ping(ctx context.Context) error {
	if c.version != "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(ctx, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("docker daemon at %s: ping: %s", c.host, resp.Status)
	}
	v := os.Getenv("DOCKER_API_VERSION")
	if v == "" {
		v = resp.Header.Get("Api-Version")
	}
	if v == "" {
		v = "1.41"
	}
	c.version = "/v" + strings.TrimPrefix(v, "v")
	return nil
}

func (c *client) unreachable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("docker daemon at %s is unreachable (start Docker, or set DOCKER_HOST to where it listens): %w", c.host, err)
}

// do sends a request to the versioned API path and returns the response
// when its status is 2xx; otherwise an error with the engine's message,
// wrapping spec.ErrNotFound for a 404.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Response, error) {
	if err := c.ping(ctx); err != nil {
		return nil, err
	}
	u := c.base + c.version + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.unreachable(ctx, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, apiError(resp)
}

func apiError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var m struct {
		Message string `json:"message"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		msg = m.Message
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w", msg, spec.ErrNotFound)
	case http.StatusBadRequest, http.StatusConflict:
		return fmt.Errorf("%s: %w", msg, spec.ErrBadInput)
	}
	return fmt.Errorf("%s (HTTP %d)", msg, resp.StatusCode)
}

// getJSON decodes the JSON answer to a GET, at most 64 MiB of it.
func (c *client) getJSON(ctx context.Context, path string, query url.Values, v any) error {
	resp, err := c.do(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %v: %w", path, err, spec.ErrCorrupt)
	}
	return nil
}

// streamError reads a JSON message stream (load, commit progress) to its
// end and returns the first error message in it: the engine reports
// failures there with status 200.
func streamError(r io.Reader) (msgs []string, err error) {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return msgs, nil
		} else if err != nil {
			return msgs, fmt.Errorf("reading the engine's answer: %w", err)
		}
		if m.Error != "" {
			return msgs, errors.New(m.Error)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			msgs = append(msgs, s)
		}
	}
}
