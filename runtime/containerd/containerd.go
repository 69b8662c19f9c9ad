// Package containerd is the containerd:REF transport: images read from and
// written to containerd's content store and image service through the
// containerd Go client (github.com/containerd/containerd/v2/client), which
// speaks containerd's stable gRPC API and so works with containerd 1.6 and
// later. Reading streams blobs from the content store; writing puts every
// blob into the content store under a lease, with the garbage-collection
// labels that tie a manifest or index to its children, then creates or
// updates the image record. Digests are kept exactly.
package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/ferryhq/ferry/spec"
)

// DefaultAddress is containerd's socket when neither Options.Address nor
// CONTAINERD_ADDRESS sets one.
const DefaultAddress = "/run/containerd/containerd.sock"

// DefaultNamespace is the namespace when neither Options.Namespace nor
// CONTAINERD_NAMESPACE sets one, as ctr does.
const DefaultNamespace = "default"

// Options says which containerd and which namespace. The zero value uses
// the environment, as ctr does.
type Options struct {
	// Address is containerd's gRPC socket; "" means CONTAINERD_ADDRESS,
	// or DefaultAddress when that is unset.
	Address string
	// Namespace is the containerd namespace; "" means
	// CONTAINERD_NAMESPACE, or DefaultNamespace when that is unset.
	Namespace string
	// NoUnpack leaves the images a Target writes packed; by default each
	// is unpacked, as ctr images import does.
	NoUnpack bool
	// Snapshotter is the snapshotter a Target unpacks into; "" means
	// CONTAINERD_SNAPSHOTTER, or the namespace's default snapshotter.
	Snapshotter string
}

func (o Options) address() string {
	return firstSet(o.Address, os.Getenv("CONTAINERD_ADDRESS"), DefaultAddress)
}

func (o Options) namespace() string {
	return firstSet(o.Namespace, os.Getenv("CONTAINERD_NAMESPACE"), DefaultNamespace)
}

func firstSet(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// conn is one client of one containerd, bound to one namespace.
type conn struct {
	c       *client.Client
	address string
	ns      string
}

func dial(opts Options) (*conn, error) {
	address, ns := opts.address(), opts.namespace()
	if err := identifiers.Validate(ns); err != nil {
		return nil, fmt.Errorf("containerd %s: namespace %q: %v: %w", address, ns, err, spec.ErrBadInput)
	}
	// containerd's dialer waits up to its timeout for an absent socket
	// to appear; say at once that there is none.
	if path, ok := socketPath(address); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("containerd %s: no socket (is containerd running? CONTAINERD_ADDRESS names its socket): %w", address, err)
		}
	}
	c, err := client.New(address, client.WithDefaultNamespace(ns))
	if err != nil {
		return nil, fmt.Errorf("containerd %s: %w", address, err)
	}
	return &conn{c: c, address: address, ns: ns}, nil
}

// socketPath is the file of a unix socket address: a path, or unix://PATH.
func socketPath(address string) (string, bool) {
	if p, ok := strings.CutPrefix(address, "unix://"); ok {
		return p, true
	}
	return address, !strings.Contains(address, "://")
}

// ctx puts the namespace on ctx, as every containerd call needs it.
func (c *conn) ctx(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, c.ns)
}

// where names the daemon and namespace in errors.
func (c *conn) where() string {
	return fmt.Sprintf("containerd %s (namespace %s)", c.address, c.ns)
}

func (c *conn) close() error { return c.c.Close() }

// wrap maps containerd's error classes onto ferry's sentinels, keeping
// containerd's message, and names the daemon: an unreachable socket
// reads "containerd /run/x.sock (namespace default): … connection refused".
func (c *conn) wrap(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%v: %w", err, cerr)
	}
	switch {
	case errdefs.IsNotFound(err) && !errors.Is(err, spec.ErrNotFound):
		err = fmt.Errorf("%w: %w", err, spec.ErrNotFound)
	case errdefs.IsUnavailable(err):
		err = fmt.Errorf("%w (is containerd running? set CONTAINERD_ADDRESS to its socket)", err)
	}
	return fmt.Errorf("%s: %w", c.where(), err)
}

// List returns the name of every image in the namespace opts names,
// sorted: what `ctr images ls -q` prints.
func List(ctx context.Context, opts Options) ([]string, error) {
	c, err := dial(opts)
	if err != nil {
		return nil, err
	}
	defer c.close()
	return c.list(ctx)
}

func (c *conn) list(ctx context.Context) ([]string, error) {
	imgs, err := c.c.ImageService().List(c.ctx(ctx))
	if err != nil {
		return nil, c.wrap(ctx, err)
	}
	names := make([]string, 0, len(imgs))
	for _, img := range imgs {
		names = append(names, img.Name)
	}
	slices.Sort(names)
	return names, nil
}
