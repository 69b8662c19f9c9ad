package tarfile

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// FileSpool keeps blobs as they are, one after another in one temporary
// file, hashed as they are written; Close removes the file.
type FileSpool struct {
	mu   sync.Mutex
	f    *os.File
	end  int64
	kept map[digest.Digest]span
	buf  []byte
}

type span struct{ off, n int64 }

var _ runtime.Spool = (*FileSpool)(nil)

// NewFileSpool makes the spool's file in dir ("" for the system's).
func NewFileSpool(dir string) (*FileSpool, error) {
	f, err := os.CreateTemp(dir, ".ferry-spool-*")
	if err != nil {
		return nil, err
	}
	return &FileSpool{f: f, kept: map[digest.Digest]span{}}, nil
}

// Keep appends r to the file.
func (s *FileSpool) Keep(r io.Reader) (digest.Digest, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := sha256.New()
	w := atomicfile.SmallWriter(io.NewOffsetWriter(s.f, s.end))
	if s.buf == nil {
		s.buf = make([]byte, 1<<20)
	}
	n, err := io.CopyBuffer(io.MultiWriter(w, h), r, s.buf)
	if err != nil {
		return "", 0, fmt.Errorf("spool %s: %w", s.f.Name(), err)
	}
	d := digest.NewDigest(digest.SHA256, h)
	if _, ok := s.kept[d]; !ok {
		s.kept[d] = span{off: s.end, n: n}
	}
	s.end += n
	return d, n, nil
}

// Open returns a kept blob's bytes; several may be read at once.
func (s *FileSpool) Open(d digest.Digest) (io.ReadCloser, error) {
	s.mu.Lock()
	sp, ok := s.kept[d]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("spool: blob %s: %w", d, spec.ErrNotFound)
	}
	return io.NopCloser(io.NewSectionReader(s.f, sp.off, sp.n)), nil
}

// Close removes the file.
func (s *FileSpool) Close() error {
	s.f.Close()
	return os.Remove(s.f.Name())
}
