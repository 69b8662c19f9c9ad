package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/ferryhq/ferry/spec"
)

// explain wraps err from a request to host about image with what it
// means and what to do: unauthorized (spec.ErrUnauthorized, naming the
// credentials tried), not found (spec.ErrNotFound), unreachable, an
// untrusted certificate. Errors already explained, verification errors
// and context errors are only prefixed.
func (c *client) explain(err error, host, image string) error {
	if err == nil {
		return nil
	}
	prefix := "registry " + host + ": image " + image
	var te *transport.Error
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	dial := dialCause(err)
	switch {
	case errors.Is(err, errExplained):
		return err
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", prefix, err)
	case errors.As(err, &te) && unauthorized(te):
		return explained(fmt.Errorf("%s: unauthorized, tried %s: check `ferry login %s` or %s: %v: %w",
			prefix, c.creds, host, AuthFileEnv, err, spec.ErrUnauthorized))
	case errors.As(err, &te) && notFound(te):
		return explained(spec.Mark(errors.New(prefix+": not found (the registry says "+says(te)+")"), err, spec.ErrNotFound))
	case errors.As(err, &ue) || errors.As(err, &he):
		return explained(fmt.Errorf("%s: TLS certificate not trusted (give its CA with --ca-file, or --tls-verify=false): %w",
			prefix, err))
	case dial != nil:
		// go-containerregistry's ping joins the attempt over https and the
		// one over http (when plain http is allowed): one dial error says it.
		return explained(spec.Mark(fmt.Errorf("%s: registry unreachable (check the address, and that the registry is running): %v",
			prefix, dial), err))
	}
	return explained(fmt.Errorf("%s: %w", prefix, err))
}

// errExplained marks an error explain has already dressed.
var errExplained = errors.New("explained")

type explainedError struct{ error }

func (e explainedError) Unwrap() []error { return []error{e.error, errExplained} }

func explained(err error) error { return explainedError{err} }

func unauthorized(te *transport.Error) bool {
	if te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.UnauthorizedErrorCode || d.Code == transport.DeniedErrorCode {
			return true
		}
	}
	return false
}

func notFound(te *transport.Error) bool {
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.NameUnknownErrorCode, transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode:
			return true
		}
	}
	return false
}

// dialCause is the failed dial or name lookup in err, or nil.
func dialCause(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return oe
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return de
	}
	return nil
}

// says is what the registry answered, in short: its error codes and
// messages (not their details, which repeat the request), or the HTTP
// status.
func says(te *transport.Error) string {
	var parts []string
	for _, d := range te.Errors {
		parts = append(parts, string(d.Code)+": "+d.Message)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode))
	}
	return strings.Join(parts, "; ")
}

// transient reports whether err may go away when the request is made
// again: a cut or reset connection, a timeout, a 5xx, 408 or 429.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ve *spec.VerifyError
	if errors.As(err, &ve) {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode >= 500 || te.StatusCode == http.StatusRequestTimeout ||
			te.StatusCode == http.StatusTooManyRequests
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
