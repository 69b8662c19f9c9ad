package runtime

import (
	"context"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/spec"
)

// CopyBlob writes the bytes of b to w: b.Data when it is set (already
// verified by Walk), otherwise the blob fetched from f and verified
// against b.Desc as it streams. It stops with ctx's error when ctx is
// done. Errors name the digest; a wrong blob gives a *spec.VerifyError.
func CopyBlob(ctx context.Context, w io.Writer, f Fetcher, b Blob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.Data != nil {
		_, err := w.Write(b.Data)
		return err
	}
	if err := spec.ValidateDigest(b.Desc.Digest); err != nil {
		return err
	}
	rc, err := f.Fetch(ctx, b.Desc)
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
	}
	defer rc.Close()
	r := ContextReader(ctx, spec.Verify(rc, b.Desc.Digest, b.Desc.Size))
	if _, err := io.Copy(w, r); err != nil {
		if _, ok := err.(*spec.VerifyError); ok {
			return err // already names the digest
		}
		return fmt.Errorf("blob %s: %w", b.Desc.Digest, err)
	}
	return nil
}

// ContextReader fails reads once ctx is done, so that a long copy stops
// promptly when it is cancelled.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx: ctx, r: r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
