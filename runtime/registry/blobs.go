package registry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
)

// blobs opens blob streams of one repository, on the client's
// authenticated transport for it (see client.repo) but not through
// go-containerregistry's layer reader, which hashes every byte: the
// caller's blobReader hashes what it delivers, once, so a blob crosses
// sha256 once on its way into a bundle or a store (one core less per GiB
// than two hashes). At most jobs streams are open at once.
type blobs struct {
	c    *client
	repo name.Repository
	slot chan struct{}
}

func newBlobs(c *client, repo name.Repository) *blobs {
	return &blobs{c: c, repo: repo, slot: make(chan struct{}, c.opts.jobs())}
}

// open requests blob d; its stream is not verified here.
func (b *blobs) open(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	rc, err := b.c.repo(ctx, b.repo, false)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: rc.rt}
	select {
	case b.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	u := url.URL{Scheme: b.repo.Scheme(), Host: b.repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/blobs/%s", b.repo.RepositoryStr(), d)}
	req, err := http.NewRequestWithContext(sendOnce(ctx), http.MethodGet, u.String(), nil)
	if err == nil {
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			if err = transport.CheckError(resp, http.StatusOK); err == nil {
				return &slotBody{ReadCloser: resp.Body, free: func() { <-b.slot }}, nil
			}
			resp.Body.Close()
		}
	}
	<-b.slot
	return nil, err
}

// slotBody gives its slot back when closed.
type slotBody struct {
	io.ReadCloser
	once sync.Once
	free func()
}

func (s *slotBody) Close() error {
	err := s.ReadCloser.Close()
	s.once.Do(s.free)
	return err
}
