package format

import (
	"errors"
	"io"
	"sync"

	"github.com/ferryhq/ferry/spec"
)

// discardBuffers is how many buffers of copyBuffer bytes carry the bytes
// of discarded entries to their hashes: at most that many are in flight,
// made as they are first needed and kept by the Reader. An entry smaller
// than discardMin is hashed at once: a goroutine costs more than its hash.
const (
	discardBuffers = 4
	discardMin     = 64 << 10
)

// Discard reads the rest of the current entry for a caller that only
// checks it (verify), and hashes its bytes on a goroutine of their own, so
// that the next entries are read, and hashed, while this one's hash runs:
// a bundle of many small blobs is checked on several cores, where Read
// hashes one entry after the other on the caller's. It returns a function
// that waits for the entry's verdict: nil when its bytes are what the
// index lists, else the *spec.VerifyError (or, for a refused entry, its
// *EntryError). A fault of the stream is returned as err, fatal as from
// Read. With no buffer free, Discard waits for a hash to hand one back.
//
// An entry large enough to be read ahead is hashed here, while the
// read-ahead reads: its buffers would have to be copied, and the next
// entry could not start before all but discardBuffers of it were hashed
// anyway. One under discardMin is hashed here too.
func (r *Reader) Discard() (verdict func() error, err error) {
	switch {
	case r.err != nil && r.err != io.EOF:
		return nil, r.err
	case r.curErr != nil:
		err := r.curErr
		return func() error { return err }, nil
	case r.ver == nil:
		return func() error { return nil }, nil
	case r.verdict != nil:
		v := r.verdict
		return func() error { return ended(v) }, nil
	}
	if _, size := r.ver.Promise(); r.ra != nil || size < discardMin {
		// A large entry is read ahead on another goroutine already,
		// while this one hashes: nothing to gain, and a copy to pay.
		_, err := r.WriteTo(io.Discard)
		if errors.As(err, new(*spec.VerifyError)) {
			return func() error { return err }, nil
		}
		if err != nil {
			return nil, err
		}
		return func() error { return nil }, nil
	}
	if r.discard == nil {
		r.discard = make(chan []byte, discardBuffers)
	}
	h := &entryHash{ver: r.ver, in: make(chan []byte, discardBuffers), free: r.discard, done: make(chan error, 1)}
	go h.run()
	for {
		buf := r.discardBuffer()
		n, err := fill(r.tr, buf)
		if n > 0 {
			h.in <- buf[:n]
		} else {
			r.discard <- buf
		}
		if err == nil {
			continue
		}
		close(h.in)
		if err != io.EOF {
			r.err = r.fault(err)
			<-h.done
			return nil, r.err
		}
		r.verdict = io.EOF // read to its end; its verdict is the hash's
		return sync.OnceValue(func() error { return <-h.done }), nil
	}
}

// discardBuffer returns a free buffer of copyBuffer bytes: one a hash
// handed back, a new one while fewer than discardBuffers were made, else
// the next one handed back.
func (r *Reader) discardBuffer() []byte {
	select {
	case b := <-r.discard:
		return b[:cap(b)] // handed back as it was sent: cut to its bytes
	default:
	}
	if r.discardMade < discardBuffers {
		r.discardMade++
		return make([]byte, copyBuffer)
	}
	b := <-r.discard
	return b[:cap(b)]
}

// ended is an entry's verdict as Discard gives it: nil for a good end.
func ended(v error) error {
	if v == io.EOF {
		return nil
	}
	return v
}

// entryHash hashes one discarded entry's buffers in order and hands each
// back; done gets its verdict.
type entryHash struct {
	ver  *spec.Verifier
	in   chan []byte
	free chan []byte
	done chan error
}

func (h *entryHash) run() {
	var err error
	for b := range h.in {
		if err == nil {
			_, err = h.ver.Write(b)
		}
		h.free <- b
	}
	if err == nil {
		err = h.ver.Verify()
	}
	h.done <- err
}
