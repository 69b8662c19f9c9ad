package registry

import (
	"context"
	"fmt"
	"io"
	"time"
)

// resumingReader reads a blob over HTTP and, when the connection fails
// mid-stream with a transient error, waits, requests the blob again and
// skips the bytes already delivered, at most opts.retries() times. The
// bytes it yields are verified by the caller, so a registry that serves
// other bytes the second time is caught.
type resumingReader struct {
	ctx      context.Context
	open     func() (io.ReadCloser, error)
	opts     Options
	rc       io.ReadCloser
	n        int64 // bytes delivered
	failures int
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		if r.rc == nil {
			if err := r.reopen(); err != nil {
				return 0, err
			}
		}
		n, err := r.rc.Read(p)
		r.n += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		if !r.retry(err) {
			return n, r.final(err)
		}
		r.rc.Close()
		r.rc = nil
		if n > 0 {
			return n, nil
		}
	}
}

// retry counts a failure and reports whether another attempt is allowed.
func (r *resumingReader) retry(err error) bool {
	if !transient(err) || r.failures >= r.opts.retries() || r.ctx.Err() != nil {
		return false
	}
	r.failures++
	return true
}

// reopen requests the blob again after the backoff for the failures so
// far, and skips what was already delivered.
func (r *resumingReader) reopen() error {
	for {
		if err := r.wait(); err != nil {
			return err
		}
		rc, err := r.open()
		if err == nil {
			_, err = io.CopyN(io.Discard, rc, r.n)
			if err == nil {
				r.rc = rc
				return nil
			}
			rc.Close()
		}
		if !r.retry(err) {
			return r.final(err)
		}
	}
}

// final is the error that ends the read, with the retries made.
func (r *resumingReader) final(err error) error {
	if r.failures == 0 {
		return err
	}
	return fmt.Errorf("%w (after %d retries)", err, r.failures)
}

func (r *resumingReader) wait() error {
	if r.failures == 0 {
		return nil
	}
	d := r.opts.retryDelay() << (r.failures - 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return r.ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes the current connection, if any.
func (r *resumingReader) Close() error {
	if r.rc == nil {
		return nil
	}
	err := r.rc.Close()
	r.rc = nil
	return err
}
