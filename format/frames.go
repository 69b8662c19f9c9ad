package format

import (
	"bytes"
	"errors"
	"io"
)

// A zstd bundle is a sequence of zstd frames cut at entry boundaries
// (spec/bundle-v1.md §2.2): the index, the signature and each layout file
// are one frame each (tar header, data, padding); a blob is two, its tar
// header, then its data and padding; the end-of-archive marker is the
// last. Data that is already compressed (gzip, zstd, xz, bzip2: every
// layer a registry serves) goes into a frame of raw blocks, which no
// compressor touches and every decoder copies, instead of through the
// encoder, which would find nothing to remove and cost time at both ends.
// A blob's data frames do not depend on where its entry sits, so they can
// be written ahead of the bundle (Encode) and copied in (WriteEncoded).

// rawBlockMax is the largest raw block: zstd's Block_Maximum_Size.
const rawBlockMax = 128 << 10

// rawFrameHeader starts a frame of raw blocks: the zstd magic, a frame
// header descriptor with no flag set (no content size, not
// single-segment, no content checksum, no dictionary), and a
// Window_Descriptor of 128 KiB (exponent 7, mantissa 0), the size of one
// block. No checksum: the content is in a compressed format that checks
// itself (gzip's CRC-32, zstd's, xz's, bzip2's), every entry is checked
// by its sha256, and XXH64 over every byte of every layer was 5% of the
// CPU of a save of a 2 GiB layer (spec/bundle-v1.md, 2.2).
var rawFrameHeader = []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38}

// frameSink is what a Writer's tar writer writes into: the current frame
// (compressed, in chunks: compressor, or of raw blocks), or the file
// itself for an uncompressed bundle.
type frameSink struct {
	out  io.Writer
	comp *compressor // nil for an uncompressed bundle
	raw  *rawFrame   // the open raw frame, if any
	in   bool        // a compressed frame is open
	// shared says comp is another's (a SetWriter's, for all its
	// volumes): close leaves it running.
	shared bool
	// drain, if set, is called before a frame of raw blocks begins, which
	// the caller writes itself: it waits until comp's writer has written
	// what it holds (Ahead, which does not wait at each frame's end).
	drain func()
}

var errNoFrame = errors.New("format: write outside a frame")

func (s *frameSink) Write(p []byte) (int, error) {
	switch {
	case s.comp == nil:
		return s.out.Write(p)
	case s.raw != nil:
		return s.raw.Write(p)
	case s.in:
		return s.comp.Write(p)
	}
	return 0, errNoFrame
}

// begin opens a frame: of raw blocks when raw, else compressed. It does
// nothing for an uncompressed bundle.
func (s *frameSink) begin(raw bool) {
	switch {
	case s.comp == nil:
	case raw:
		if s.drain != nil {
			s.drain()
		}
		s.raw = newRawFrame(s.out)
	default:
		s.comp.begin(s.out)
		s.in = true
	}
}

// end closes the open frame.
func (s *frameSink) end() error {
	switch {
	case s.raw != nil:
		err := s.raw.Close()
		s.raw = nil
		return err
	case s.in:
		s.in = false
		return s.comp.end()
	}
	return nil
}

// endAhead closes the open frame as end does, but for a compressed one
// does not wait until its chunks are written: done is called (by comp's
// writer) once they are, and, like every mark, in the order of the calls.
func (s *frameSink) endAhead(done func(error)) {
	if s.in {
		s.in = false
		s.comp.endAhead(done)
		return
	}
	if err := s.end(); err != nil {
		done(err)
		return
	}
	s.mark(done)
}

// mark calls done once everything written before it is: at once, but
// for the chunks comp's writer has yet to write.
func (s *frameSink) mark(done func(error)) {
	if s.comp == nil {
		done(nil)
		return
	}
	s.comp.mark(done)
}

// abort drops the open frame, unfinished, after a failure.
func (s *frameSink) abort() {
	if s.in {
		s.comp.abort()
		s.in = false
	}
	s.raw = nil
}

// close stops the compressor's workers.
func (s *frameSink) close() {
	if s.comp != nil && !s.shared {
		s.comp.close()
	}
	s.comp = nil
}

// rawFrame writes a zstd frame of raw blocks of rawBlockMax bytes (the
// last one shorter, possibly empty, so the frame is the same however the
// bytes were split into writes), with no checksum (rawFrameHeader).
type rawFrame struct {
	out     io.Writer
	pending []byte
	started bool
	err     error
}

func newRawFrame(out io.Writer) *rawFrame {
	return &rawFrame{out: out}
}

func (f *rawFrame) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n := len(p)
	if len(f.pending) > 0 {
		k := min(rawBlockMax-len(f.pending), len(p))
		f.pending = append(f.pending, p[:k]...)
		p = p[k:]
		if len(f.pending) == rawBlockMax {
			f.block(f.pending, false)
			f.pending = f.pending[:0]
		}
	}
	for len(p) >= rawBlockMax && f.err == nil {
		f.block(p[:rawBlockMax], false)
		p = p[rawBlockMax:]
	}
	if len(p) > 0 {
		if f.pending == nil {
			f.pending = make([]byte, 0, rawBlockMax)
		}
		f.pending = append(f.pending, p...)
	}
	if f.err != nil {
		return 0, f.err
	}
	return n, nil
}

// block writes one raw block, after the frame header if it is the first.
func (f *rawFrame) block(b []byte, last bool) {
	if f.err != nil {
		return
	}
	if !f.started {
		f.started = true
		if _, f.err = f.out.Write(rawFrameHeader); f.err != nil {
			return
		}
	}
	hdr := uint32(len(b)) << 3 // Block_Type 0: raw
	if last {
		hdr |= 1
	}
	if _, f.err = f.out.Write([]byte{byte(hdr), byte(hdr >> 8), byte(hdr >> 16)}); f.err != nil {
		return
	}
	_, f.err = f.out.Write(b)
}

// Close writes the last block.
func (f *rawFrame) Close() error {
	f.block(f.pending, true)
	if f.err != nil {
		return f.err
	}
	f.err = errors.New("format: raw frame closed")
	return nil
}

// compressedMagic are the first bytes of the formats whose data a zstd
// encoder cannot shrink.
var compressedMagic = [][]byte{
	{0x1f, 0x8b},                     // gzip
	{0x28, 0xb5, 0x2f, 0xfd},         // zstd
	{0xfd, '7', 'z', 'X', 'Z', 0x00}, // xz
	{'B', 'Z', 'h'},                  // bzip2
}

// alreadyCompressed reports whether data that begins with head is in a
// compressed format.
func alreadyCompressed(head []byte) bool {
	for _, m := range compressedMagic {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}
