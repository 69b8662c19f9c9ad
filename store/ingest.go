package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/spec"
)

// copyBufferSize is the ingest and verify read size: large reads keep
// sha256 and the disk busy with few system calls.
const copyBufferSize = 1 << 20

var buffers = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

func getBuffer() *[]byte  { return buffers.Get().(*[]byte) }
func putBuffer(b *[]byte) { buffers.Put(b) }

// Ingested says what Ingest did with a blob.
type Ingested int

const (
	// Stored: the blob is new in the store.
	Stored Ingested = iota
	// Held: the store had the blob, and its file matched the verified
	// bytes byte for byte.
	Held
	// Repaired: the store's file of the blob was damaged (bit rot, an
	// edit); the verified bytes replaced it.
	Repaired
)

// Ingest stores the blob desc from r, containerd-style: the digest is
// validated first; r is read fully through a verifying reader (r itself
// when it checks exactly desc: spec.Verify) into a
// temp file, which is synced and, only when size and digest match,
// made read-only and renamed to blobs/sha256/<hex>, and the directory
// synced. If the blob is already stored, r is still read and verified in
// full and compared with the stored file as it streams: a stored file
// that differs is replaced by the verified bytes (Repaired), never kept
// in place of a good copy. On any error nothing is left behind and the
// error names the digest; bad bytes give an error wrapping a
// *spec.VerifyError. Safe to call concurrently, for the same digest too.
func (b *Store) Ingest(ctx context.Context, desc ocispec.Descriptor, r io.Reader) (Ingested, error) {
	bt := b.NewBatch(nil)
	got, err := bt.Ingest(ctx, desc, r)
	if ferr := bt.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	return got, nil
}

func ingestError(desc ocispec.Descriptor, err error) error {
	var verr *spec.VerifyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &verr):
		return fmt.Errorf("ingest %w", err) // "ingest blob sha256:…: size mismatch…"
	default:
		return fmt.Errorf("ingest blob %s: %w", desc.Digest, err)
	}
}

// copyBuffer copies src to dst through buf, checking ctx before every
// read. Unlike io.CopyBuffer it never bypasses buf through ReaderFrom.
func copyBuffer(ctx context.Context, dst io.Writer, src io.Reader, buf []byte) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}
