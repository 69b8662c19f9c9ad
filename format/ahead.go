package format

import (
	"crypto/sha256"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
)

// Ahead writes the data frames of blobs one after another into one
// writer (a spool file, appended to), as Encoder.Encode does, but without
// waiting at each blob's end for the compressor to finish it: a blob is
// read, hashed and handed to the compressor, and the next one is read
// while the last chunks of the one before are still being compressed and
// written. A Docker export of twenty small layers otherwise drains the
// two compressing cores twenty times. Where each blob's frames went is
// told afterwards, in the order of the blobs.
type Ahead struct {
	e  *Encoder
	cw *countWriter // the writer's position: bytes written before

	mu  sync.Mutex
	err error // the first failure to write, once known
}

// Placed says where Ahead wrote a blob's frames: Off is the number of
// bytes written to its writer before them, Encoded.Frames their length,
// and Err the first failure to write them or any frames before them.
type Placed struct {
	Encoded
	Off int64
	Err error
}

// Ahead returns a stream of frames into w, which nothing else may write
// to meanwhile. The Encoder is Ahead's until Close.
func (e *Encoder) Ahead(w io.Writer) *Ahead {
	a := &Ahead{e: e, cw: &countWriter{w: w}}
	e.sink.out = a.cw
	if e.sink.comp != nil {
		e.sink.drain = func() { a.fail(e.sink.comp.end()) }
	}
	return a
}

// Encode reads r to its end, hashing it, and returns its digest and size
// once read; its frames are written after, and done is called, by the
// compressor's writer or at once, with where they went. Not safe for
// concurrent use (nor with Wait); done must not call into a.
func (a *Ahead) Encode(r io.Reader, done func(Placed)) (digest.Digest, int64, error) {
	s := &a.e.sink
	var start int64
	s.mark(func(error) { start = a.cw.n })
	h := sha256.New()
	n, _, err := writeData(s, io.TeeReader(r, h), a.e.buf, frameAuto)
	if err != nil {
		s.abort()
		return "", 0, err
	}
	enc := Encoded{Digest: digest.NewDigest(digest.SHA256, h), Size: n, encoding: a.e.encoding}
	s.endAhead(func(err error) {
		a.fail(err)
		enc.Frames = a.cw.n - start
		done(Placed{Encoded: enc, Off: start, Err: a.Err()})
	})
	return enc.Digest, n, nil
}

// Wait returns once every frame handed to the compressor is written,
// with the first failure to write any of them.
func (a *Ahead) Wait() error {
	if c := a.e.sink.comp; c != nil {
		a.fail(c.end())
	}
	return a.Err()
}

// Err is the first failure to write, as far as known.
func (a *Ahead) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *Ahead) fail(err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.mu.Unlock()
}
