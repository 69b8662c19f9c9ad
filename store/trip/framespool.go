package trip

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// FrameSpool is a runtime.Spool that keeps each blob as the data frames
// a bundle's writer makes of it (format.Encoder), so that a source which
// streams its blobs once (a Docker export) has them compressed while they
// arrive — on the other core than the hashing, and while the engine is
// still sending — and Save copies the frames into the bundle instead of
// reading and compressing the blob again. The bundle is the same, byte
// for byte. Keep returns once a blob is read and hashed, while its last
// chunks are still being compressed (format.Ahead): the next one is read
// meanwhile. Its one file, in the directory given (the home's tmp/), is
// made at the first Keep and removed by Close.
type FrameSpool struct {
	dir  string
	opts format.WriterOptions

	keep  sync.Mutex // one Keep at a time; Keep, then reading, in turn
	enc   *format.Encoder
	ahead *format.Ahead
	f     *os.File

	mu   sync.Mutex // kept and err, which the compressor's writer sets
	kept map[digest.Digest]keptFrames
	err  error
}

type keptFrames struct {
	off int64
	e   format.Encoded
}

var _ runtime.Spool = (*FrameSpool)(nil)

// NewFrameSpool keeps frames for a bundle of compression ("zstd" or
// "none") in a file in dir.
func NewFrameSpool(dir, compression string) *FrameSpool {
	return &FrameSpool{dir: dir, opts: format.WriterOptions{Compression: compression}, kept: map[digest.Digest]keptFrames{}}
}

// Keep encodes r to its end into the spool's file. It returns once r is
// read and hashed; its frames are written after, and the blob is kept
// once they are (Open and frames wait for them).
func (s *FrameSpool) Keep(r io.Reader) (digest.Digest, int64, error) {
	s.keep.Lock()
	defer s.keep.Unlock()
	if s.f == nil {
		enc, err := format.NewEncoder(s.opts)
		if err != nil {
			return "", 0, err
		}
		f, err := os.CreateTemp(s.dir, ".ferry-frames-*")
		if err != nil {
			enc.Close()
			return "", 0, err
		}
		s.enc, s.f = enc, f
		s.ahead = enc.Ahead(atomicfile.SmallWriter(f))
	}
	d, n, err := s.ahead.Encode(r, s.place)
	if err != nil {
		return "", 0, fmt.Errorf("spool %s: %w", s.f.Name(), err)
	}
	return d, n, nil
}

// place keeps a blob whose frames are written.
func (s *FrameSpool) place(p format.Placed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("spool %s: %w", s.f.Name(), p.Err)
		}
		return
	}
	if _, ok := s.kept[p.Digest]; !ok {
		s.kept[p.Digest] = keptFrames{off: p.Off, e: p.Encoded}
	}
}

// settle waits until every frame Keep handed on is written, and returns
// the first failure to write one.
func (s *FrameSpool) settle() error {
	s.keep.Lock()
	if s.ahead != nil {
		s.ahead.Wait()
	}
	s.keep.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Open returns a kept blob's bytes, decoded from its frames.
func (s *FrameSpool) Open(d digest.Digest) (io.ReadCloser, error) {
	if err := s.settle(); err != nil {
		return nil, err
	}
	e, frames, ok := s.frames(d)
	if !ok {
		return nil, fmt.Errorf("spool: blob %s: %w", d, spec.ErrNotFound)
	}
	return e.Decode(frames)
}

// frames returns a kept blob's frames, for Writer.WriteEncoded.
func (s *FrameSpool) frames(d digest.Digest) (format.Encoded, io.Reader, bool) {
	if s == nil || s.settle() != nil {
		return format.Encoded{}, nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.kept[d]
	if !ok {
		return format.Encoded{}, nil, false
	}
	return k.e, io.NewSectionReader(s.f, k.off, k.e.Frames), true
}

// encoded returns the length of each kept blob's frames, for a set's
// plan (format.SetOptions.Encoded).
func (s *FrameSpool) encoded() map[digest.Digest]int64 {
	if s == nil || s.settle() != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[digest.Digest]int64, len(s.kept))
	for d, k := range s.kept {
		out[d] = k.e.Frames
	}
	return out
}

// Close removes the spool's file.
func (s *FrameSpool) Close() error {
	s.keep.Lock()
	defer s.keep.Unlock()
	if s.f == nil {
		return nil
	}
	s.enc.Close() // its writer goroutine ends: nothing writes to f after
	s.f.Close()
	err := os.Remove(s.f.Name())
	s.mu.Lock()
	s.f, s.ahead, s.kept = nil, nil, map[digest.Digest]keptFrames{}
	s.mu.Unlock()
	return err
}
