// Package readahead reads a stream in a goroutine into a few buffers
// while the caller works on the buffers filled before: one core reads
// (and decodes, or receives) while the other hashes and writes. Memory is
// bounded by the buffers the caller gives.
package readahead

import "io"

// chunk is a filled buffer, and the error that ended the read, if any.
type chunk struct {
	b   []byte
	err error
}

// Reader reads its source to the end (or an error) in a goroutine.
type Reader struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  chunk
	off  int
}

// New starts reading src into bufs. The caller must Close the Reader,
// and must not use src until it has.
func New(src io.Reader, bufs [][]byte) *Reader {
	r := &Reader{
		full: make(chan chunk, len(bufs)),
		free: make(chan []byte, len(bufs)),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, b := range bufs {
		r.free <- b
	}
	go r.run(src)
	return r
}

// run fills free buffers from src and hands them on, until src ends or
// fails (that chunk carries the error) or Close is called. A send never
// blocks: there are as many places in full as buffers.
func (r *Reader) run(src io.Reader) {
	defer close(r.done)
	for {
		var b []byte
		select {
		case b = <-r.free:
		case <-r.stop:
			return
		}
		b = b[:cap(b)]
		n := 0
		var err error
		for n < len(b) && err == nil {
			var m int
			m, err = src.Read(b[n:])
			n += m
		}
		r.full <- chunk{b: b[:n], err: err}
		if err != nil {
			return
		}
	}
}

// fill makes cur hold unread bytes, or returns the error that ended the
// stream (io.EOF at its end).
func (r *Reader) fill() error {
	for r.off == len(r.cur.b) {
		if r.cur.err != nil {
			return r.cur.err
		}
		if r.cur.b != nil {
			r.free <- r.cur.b
		}
		r.cur, r.off = <-r.full, 0
	}
	return nil
}

// Next returns the unread bytes of the current buffer, valid until the
// next call, or the error that ended the stream: bytes handed on without
// a copy.
func (r *Reader) Next() ([]byte, error) {
	if err := r.fill(); err != nil {
		return nil, err
	}
	b := r.cur.b[r.off:]
	r.off = len(r.cur.b)
	return b, nil
}

func (r *Reader) Read(p []byte) (int, error) {
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(p, r.cur.b[r.off:])
	r.off += n
	return n, nil
}

// WriteTo writes the rest of the stream to w from the buffers themselves.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := r.Next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

// OwnsBuffers says that WriteTo hands on the Reader's own buffers
// (format.BufferOwner): a writer that would copy the bytes into a buffer
// of its own takes them so instead.
func (r *Reader) OwnsBuffers() {}

// Close stops the goroutine and waits for it, so that the source may be
// used again (a source that may block for long, such as a network
// stream, should be closed first to end the read under way).
func (r *Reader) Close() {
	close(r.stop)
	<-r.done
}
