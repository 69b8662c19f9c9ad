package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// blobLayer is a blob that go-containerregistry uploads: Compressed
// streams it from src, verified against desc, every time it is called (a
// retried upload calls it again). It remembers why the last stream
// failed, so that Write reports the source's error (a missing blob, a
// *spec.VerifyError) rather than the HTTP client's account of it.
type blobLayer struct {
	ctx  context.Context
	desc ocispec.Descriptor
	src  runtime.Fetcher
	prog Progress

	mu  sync.Mutex
	err error
}

var _ v1.Layer = (*blobLayer)(nil)

func (l *blobLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.desc.Digest.String()) }
func (l *blobLayer) Size() (int64, error)     { return l.desc.Size, nil }
func (l *blobLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.desc.MediaType), nil
}

var errNoDiffID = errors.New("registry: a blob pushed as is has no DiffID")

func (l *blobLayer) DiffID() (v1.Hash, error)             { return v1.Hash{}, errNoDiffID }
func (l *blobLayer) Uncompressed() (io.ReadCloser, error) { return nil, errNoDiffID }

func (l *blobLayer) Compressed() (io.ReadCloser, error) {
	l.setErr(nil)
	if err := l.ctx.Err(); err != nil {
		l.setErr(err)
		return nil, err
	}
	rc, err := l.src.Fetch(l.ctx, l.desc)
	if err != nil {
		err = fmt.Errorf("blob %s: %w", l.desc.Digest, err)
		l.setErr(err)
		return nil, err
	}
	if l.prog != nil {
		l.prog.Blob(l.desc.Digest, l.desc.Size)
	}
	return &layerReader{l: l, rc: rc, r: spec.Verify(rc, l.desc.Digest, l.desc.Size)}, nil
}

func (l *blobLayer) setErr(err error) {
	l.mu.Lock()
	l.err = err
	l.mu.Unlock()
}

// failure is why the last stream failed, nil if it did not.
func (l *blobLayer) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

type layerReader struct {
	l  *blobLayer
	rc io.Closer
	r  io.Reader
}

func (r *layerReader) Read(p []byte) (int, error) {
	if err := r.l.ctx.Err(); err != nil {
		r.l.setErr(err)
		return 0, err
	}
	n, err := r.r.Read(p)
	if r.l.prog != nil && n > 0 {
		r.l.prog.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		var ve *spec.VerifyError
		if !errors.As(err, &ve) {
			err = fmt.Errorf("blob %s: %w", r.l.desc.Digest, err)
		}
		r.l.setErr(err)
	}
	return n, err
}

func (r *layerReader) Close() error { return r.rc.Close() }
