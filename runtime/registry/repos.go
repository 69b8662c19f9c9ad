package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// repoConn is what every request to one repository shares: its
// authenticated transport, made once (the registry pinged, a token
// fetched), and the go-containerregistry puller and pusher on it. Left
// to themselves, a puller and a pusher, and the blob reader beside them,
// would each ping and fetch a token of their own.
type repoConn struct {
	rt     http.RoundTripper // a *transport.Wrapper: ggcr adds nothing to it
	puller *remote.Puller
	pusher *remote.Pusher // nil when opened to pull
}

type repoKey struct {
	repo string
	push bool
}

// repo returns the connection to repo, to pull from it or to push to it
// (and pull), authenticating on first use; a failure (a canceled ctx, a
// registry down) is not kept, and the next call tries again. Callers
// wait for one another's handshake rather than each making its own.
//
// A pusher mounting a blob from another repository asks the registry
// with this transport; a token registry answers 401 with the scope
// lacking, which go-containerregistry's bearer transport then adds.
func (c *client) repo(ctx context.Context, repo name.Repository, push bool) (*repoConn, error) {
	key := repoKey{repo.String(), push}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc, ok := c.repos[key]; ok {
		return rc, nil
	}
	scope := transport.PullScope
	if push {
		scope = transport.PushScope
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, c.auth, c.base, []string{repo.Scope(scope)})
	if err != nil {
		return nil, err
	}
	opts := append(c.remoteOptions(context.Background()), remote.WithTransport(rt))
	rc := &repoConn{rt: rt}
	if rc.puller, err = remote.NewPuller(opts...); err != nil {
		return nil, err
	}
	if push {
		if rc.pusher, err = remote.NewPusher(opts...); err != nil {
			return nil, err
		}
	}
	if c.repos == nil {
		c.repos = map[repoKey]*repoConn{}
	}
	c.repos[key] = rc
	return rc, nil
}

// baseTransport is tr as go-containerregistry's options would wrap it
// (retries of transient failures, then the user agent), under the
// authentication repo adds; a request whose context is marked by
// sendOnce skips the retries.
func (c *client) baseTransport() http.RoundTripper {
	retrying := transport.NewRetry(c.tr,
		transport.WithRetryBackoff(c.backoff()),
		transport.WithRetryPredicate(retryable),
		transport.WithRetryStatusCodes(retryStatusCodes...))
	return transport.NewUserAgent(retrySwitch{retry: retrying, once: c.tr}, c.userAgent())
}

func (c *client) userAgent() string {
	if c.opts.UserAgent == "" {
		return "ferry"
	}
	return c.opts.UserAgent
}

func (c *client) backoff() remote.Backoff {
	return remote.Backoff{Duration: c.opts.retryDelay(), Factor: 2, Jitter: 0.1, Steps: c.opts.retries() + 1}
}

// retryStatusCodes are go-containerregistry's defaults: the answers of a
// registry that may answer otherwise a moment later.
var retryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
	http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
	499, // nginx: client closed request
	522, // Cloudflare: connection timed out
}

// retryable is go-containerregistry's default retry predicate: a
// temporary error, or a connection cut or closed.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

type sendOnceKey struct{}

// sendOnce marks ctx's requests to be sent once by the transport: a blob
// stream is resumed by resumingReader, which counts its own attempts.
func sendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, sendOnceKey{}, true)
}

// retrySwitch sends a request through retry, or through once when its
// context is marked by sendOnce.
type retrySwitch struct{ retry, once http.RoundTripper }

func (s retrySwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Context().Value(sendOnceKey{}) != nil {
		return s.once.RoundTrip(r)
	}
	return s.retry.RoundTrip(r)
}
