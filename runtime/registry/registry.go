// Package registry reads images from and writes images to container
// registries (the docker://REF transport): distribution, Harbor, Zot,
// Docker Hub and the rest. The distribution protocol, the token dance and
// retries of single requests are go-containerregistry's (pkg/v1/remote);
// this package adds streaming verification of every blob, resumption of a
// blob download cut mid-stream, credentials from REGISTRY_AUTH_FILE,
// mirrors, and errors that name the registry and the image.
//
// Hosts on loopback (127.0.0.0/8, ::1, localhost) are tried over HTTPS
// first and fall back to plain HTTP, as skopeo does for insecure
// registries; Options.Insecure does the same for every host and skips
// certificate verification.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Options configure access to registries. The zero value works: the
// system's CAs, TLS verified, credentials from Keychain(), 5 retries.
type Options struct {
	// Insecure skips TLS certificate verification and allows plain HTTP
	// for every host (the command line's --tls-verify=false).
	Insecure bool
	// CAFile is a PEM file of CA certificates trusted besides the
	// system's (--ca-file).
	CAFile string
	// Mirrors maps a registry host to the host[/prefix] its images are
	// read from (--registry-mirror FROM=TO). "docker.io" also matches
	// index.docker.io. Only reading uses mirrors, and only the mirror
	// is asked: there is no fallback to the original host.
	Mirrors map[string]string
	// Keychain resolves credentials per registry; nil means Keychain():
	// REGISTRY_AUTH_FILE, then the Docker config with its helpers.
	Keychain authn.Keychain
	// Retries is how many times a transient failure (a 5xx, a reset or
	// cut connection, a timeout) is retried; 0 means 5, negative none.
	Retries int
	// RetryDelay is the first wait between attempts, doubled each time;
	// 0 means 1s.
	RetryDelay time.Duration
	// Jobs is how many blobs a Target uploads at once; 0 means 4.
	Jobs int
	// Progress, if set, is told of each blob a Target uploads.
	Progress Progress
	// UserAgent is sent with every request; "" means "ferry".
	UserAgent string
}

// Progress receives the progress of uploads: a blob started (Blob) and
// bytes sent (Add). Blobs the registry already holds or mounts are not
// reported. A retried upload reports its bytes again.
type Progress interface {
	Blob(d digest.Digest, size int64)
	Add(n int64)
}

func (o Options) retries() int {
	switch {
	case o.Retries < 0:
		return 0
	case o.Retries == 0:
		return 5
	}
	return o.Retries
}

func (o Options) retryDelay() time.Duration {
	if o.RetryDelay <= 0 {
		return time.Second
	}
	return o.RetryDelay
}

func (o Options) jobs() int {
	if o.Jobs <= 0 {
		return 4
	}
	return o.Jobs
}

func (o Options) nameOptions() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// httpTransport is go-containerregistry's default transport with the TLS
// settings of o.
func (o Options) httpTransport() (http.RoundTripper, error) {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Insecure}
	if o.CAFile != "" {
		pool, err := caPool(o.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it: %w", file, spec.ErrBadInput)
	}
	return pool, nil
}

// client holds what every request to one registry shares.
type client struct {
	opts  Options
	tr    http.RoundTripper // the connections, TLS as opts say
	base  http.RoundTripper // tr with retries and the user agent: baseTransport
	creds string            // which credentials were used, for error messages
	auth  authn.Authenticator

	mu    sync.Mutex
	repos map[repoKey]*repoConn // see repo
}

func newClient(opts Options, reg name.Registry) (*client, error) {
	tr, err := opts.httpTransport()
	if err != nil {
		return nil, err
	}
	auth, creds, err := resolveAuth(opts.Keychain, reg)
	if err != nil {
		return nil, fmt.Errorf("registry %s: credentials: %w", reg.RegistryStr(), err)
	}
	c := &client{opts: opts, tr: tr, auth: auth, creds: creds}
	c.base = c.baseTransport()
	return c, nil
}

// remoteOptions are the options of every remote call: transport, auth,
// retries with backoff.
func (c *client) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.tr),
		remote.WithAuth(c.auth),
		remote.WithUserAgent(c.userAgent()),
		remote.WithJobs(c.opts.jobs()),
		remote.WithNondistributable,
		remote.WithRetryBackoff(c.backoff()),
	}
}
