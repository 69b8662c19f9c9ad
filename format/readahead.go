package format

import "io"

// Read-ahead: a large entry's bytes are read (the file, zstd, tar) by a
// goroutine into a few buffers while the caller hashes the buffers filled
// before, so that decoding and sha256 run on two cores at once and verify
// goes at the speed of sha256 alone. Memory is bounded: readAheadBuffers
// buffers of copyBuffer bytes, allocated once per Reader. Nothing is
// trusted sooner: the caller hashes every byte, and the entry's last
// chunk carries the verdict, as with a plain VerifyingReader.
const (
	readAheadBuffers = 4
	// readAheadMin is the smallest entry read ahead; a goroutine is not
	// worth it for a manifest.
	readAheadMin = 2 * copyBuffer
)

// chunk is a filled buffer, and the error that ended the read, if any.
type chunk struct {
	b   []byte
	err error
}

// readAhead reads src to its end (or an error) in a goroutine.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  chunk
	off  int
}

func startReadAhead(src io.Reader, bufs [][]byte) *readAhead {
	ra := &readAhead{
		full: make(chan chunk, len(bufs)),
		free: make(chan []byte, len(bufs)),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for _, b := range bufs {
		ra.free <- b
	}
	go ra.run(src)
	return ra
}

// run fills free buffers from src and hands them on, until src ends or
// fails (that chunk carries the error) or close is called. A send never
// blocks: there are as many places in full as buffers.
func (ra *readAhead) run(src io.Reader) {
	defer close(ra.done)
	for {
		var b []byte
		select {
		case b = <-ra.free:
		case <-ra.stop:
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
		ra.full <- chunk{b: b[:n], err: err}
		if err != nil {
			return
		}
	}
}

// fill makes cur hold unread bytes, or returns the error that ended the
// stream (io.EOF at its end).
func (ra *readAhead) fill() error {
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b
		}
		ra.cur, ra.off = <-ra.full, 0
	}
	return nil
}

// next returns the unread bytes of the current chunk, valid until the
// next call, or the error that ended the stream.
func (ra *readAhead) next() ([]byte, error) {
	if err := ra.fill(); err != nil {
		return nil, err
	}
	b := ra.cur.b[ra.off:]
	ra.off = len(ra.cur.b)
	return b, nil
}

func (ra *readAhead) Read(p []byte) (int, error) {
	if err := ra.fill(); err != nil {
		return 0, err
	}
	n := copy(p, ra.cur.b[ra.off:])
	ra.off += n
	return n, nil
}

// close stops the goroutine and waits for it, so that the source may be
// used again.
func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}
