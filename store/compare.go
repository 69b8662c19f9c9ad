package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/spec"
)

// compare reads vr, the verified stream of a blob the store holds in
// held (the file at p), against held's bytes. While they agree nothing is
// written and the result is Held. At the first difference (or a file of
// another length) the stored file is damaged: the bytes read so far, the
// rest of vr and nothing else go to a temp file that replaces p once vr
// has verified to its end, and the result is Repaired. An error of vr (a
// *spec.VerifyError for bad bytes) leaves p as it was.
func (b *Store) compare(ctx context.Context, desc ocispec.Descriptor, vr io.Reader, held *os.File, p string) (Ingested, error) {
	buf, mine := getBuffer(), getBuffer()
	defer putBuffer(buf)
	defer putBuffer(mine)
	var same int64 // bytes of vr that held matched
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, rerr := vr.Read(*buf)
		if n > 0 {
			m, _ := io.ReadFull(held, (*mine)[:n])
			if m < n || !bytes.Equal((*buf)[:n], (*mine)[:n]) {
				return Repaired, b.replace(ctx, desc, held, same, (*buf)[:n], vr, p)
			}
			same += int64(n)
		}
		if rerr == io.EOF {
			if extra, _ := held.Read((*mine)[:1]); extra > 0 {
				return Repaired, b.replace(ctx, desc, held, same, nil, eofReader{}, p)
			}
			return Held, nil
		}
		if rerr != nil {
			return 0, rerr
		}
	}
}

// replace writes a new file for the blob at p: the first prefix bytes of
// held (which matched the verified stream), then chunk and the rest of
// vr. What the temp file receives is hashed again, so that a file that
// changed while it was read cannot slip in; it replaces p only when vr
// verified and the file's own digest is desc's.
func (b *Store) replace(ctx context.Context, desc ocispec.Descriptor, held *os.File, prefix int64, chunk []byte, vr io.Reader, p string) error {
	buf := getBuffer()
	defer putBuffer(buf)
	return atomicfile.WriteIn(p, b.tmp, tmpPrefix+"repair-*", 0o444, func(f *os.File) error {
		h := &hashingWriter{w: f, h: sha256.New()}
		if _, err := held.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.CopyN(h, held, prefix); err != nil {
			return fmt.Errorf("re-read the stored copy: %w", err)
		}
		if _, err := h.Write(chunk); err != nil {
			return err
		}
		if err := copyBuffer(ctx, h, vr, *buf); err != nil {
			return err
		}
		if got := digest.NewDigest(digest.SHA256, h.h); got != desc.Digest || h.n != desc.Size {
			return &spec.VerifyError{Want: desc.Digest, WantSize: desc.Size, GotDigest: got, GotSize: h.n}
		}
		return nil
	})
}

// hashingWriter hashes and counts what it writes to w.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
