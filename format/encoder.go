package format

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// Encoder makes a blob's data frames ahead of its bundle: exactly what a
// Writer with the same options writes after the blob's tar header (its
// data and padding, in frames of their own: spec/bundle-v1.md §2.2), so
// that a blob can be compressed while it still arrives (from a Docker
// export, which streams once) and copied into the bundle when its turn
// comes (Writer.WriteEncoded). The bundle is the same, byte for byte.
type Encoder struct {
	encoding string
	sink     frameSink
	buf      []byte
}

// Encoded says what Encoder.Encode made: the blob's digest and size, and
// the length of its frames.
type Encoded struct {
	Digest   digest.Digest
	Size     int64
	Frames   int64
	encoding string
}

// NewEncoder returns an Encoder for a Writer with opts (ModTime plays no
// part in data frames).
func NewEncoder(opts WriterOptions) (*Encoder, error) {
	e := &Encoder{encoding: encoding(opts), buf: make([]byte, copyBuffer)}
	switch opts.Compression {
	case "", CompressionZstd:
		comp, err := newCompressor(opts.Level)
		if err != nil {
			return nil, err
		}
		e.sink.comp = comp
	case CompressionNone:
	default:
		return nil, fmt.Errorf("compression %q unknown (want %q or %q): %w", opts.Compression, CompressionZstd, CompressionNone, spec.ErrBadInput)
	}
	return e, nil
}

// encoding names what decides the bytes of data frames.
func encoding(opts WriterOptions) string {
	c := opts.Compression
	if c == "" {
		c = CompressionZstd
	}
	return c + "/" + strconv.Itoa(opts.Level)
}

// Encode reads r to its end and writes its data frames to w, hashing the
// data as it goes. Not safe for concurrent use.
func (e *Encoder) Encode(w io.Writer, r io.Reader) (Encoded, error) {
	h := sha256.New()
	cw := &countWriter{w: w}
	e.sink.out = cw
	n, _, err := encodeData(&e.sink, io.TeeReader(r, h), e.buf, frameAuto)
	if err != nil {
		e.sink.abort()
		return Encoded{}, err
	}
	return Encoded{Digest: digest.NewDigest(digest.SHA256, h), Size: n, Frames: cw.n, encoding: e.encoding}, nil
}

// Close stops the Encoder's compressor.
func (e *Encoder) Close() { e.sink.close() }

// Decode returns the blob's bytes from its frames, read from r.
func (e Encoded) Decode(r io.Reader) (io.ReadCloser, error) {
	switch {
	case e.encoding == "":
		return nil, errors.New("format: decode: not an Encoder's output")
	case strings.HasPrefix(e.encoding, CompressionNone+"/"):
		return io.NopCloser(io.LimitReader(r, e.Size)), nil
	}
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.IgnoreChecksum(true),
		zstd.WithDecoderMaxMemory(spec.MaxDecoderMemory))
	if err != nil {
		return nil, err
	}
	return decoded{Reader: io.LimitReader(zr, e.Size), zr: zr}, nil
}

type decoded struct {
	io.Reader
	zr *zstd.Decoder
}

func (d decoded) Close() error { d.zr.Close(); return nil }

// frameMode says how an entry's data is framed: as its first bytes say
// (frameAuto), in raw blocks, or compressed.
type frameMode int

const (
	frameAuto frameMode = iota
	frameRaw
	frameCompressed
)

// encodeData writes the data of r and its tar padding into s, in a frame
// of their own: raw blocks when mode says so, or, for frameAuto, when the
// data's first bytes say it is already compressed; else compressed; no
// frame at all for no data. It returns the bytes of data read and the
// mode it used.
func encodeData(s *frameSink, r io.Reader, buf []byte, mode frameMode) (int64, frameMode, error) {
	n, mode, err := writeData(s, r, buf, mode)
	if err != nil {
		return n, mode, err
	}
	return n, mode, s.end()
}

// BufferOwner is a reader whose bytes are in buffers of its own, which
// its WriteTo hands on as they are (internal/readahead.Reader: a blob
// received on one core while the other writes it). A blob's data is
// taken from one so, not copied into the writer's buffer first: that copy
// was 3.6% of the CPU of a save of a 2 GiB layer from a registry. Other
// readers' WriteTo is not used: an *os.File's would read in 32 KiB calls.
type BufferOwner interface {
	io.WriterTo
	OwnsBuffers()
}

// writeData is encodeData but for closing the frame: the caller ends it
// (frameSink.end, or endAhead).
func writeData(s *frameSink, r io.Reader, buf []byte, mode frameMode) (int64, frameMode, error) {
	n, err := fill(r, buf)
	switch {
	case err == io.EOF && n == 0:
		return 0, mode, nil
	case err != nil && err != io.EOF:
		return 0, mode, err
	}
	if mode == frameAuto {
		mode = frameCompressed
		if alreadyCompressed(buf[:n]) {
			mode = frameRaw
		}
	}
	s.begin(mode == frameRaw)
	total := int64(n)
	if _, werr := s.Write(buf[:n]); werr != nil {
		return total, mode, werr
	}
	if err == nil {
		var m int64
		if o, ok := r.(BufferOwner); ok {
			m, err = o.WriteTo(s)
		} else {
			m, err = io.CopyBuffer(s, struct{ io.Reader }{r}, buf)
		}
		total += m
		if err != nil {
			return total, mode, err
		}
	}
	if pad := (blockSize - total%blockSize) % blockSize; pad > 0 {
		if _, err := s.Write(zeroBlock[:pad]); err != nil {
			return total, mode, err
		}
	}
	return total, mode, nil
}

// fill reads r until buf is full (nil) or r ends (io.EOF) or fails. Not
// io.ReadFull, whose io.ErrUnexpectedEOF for a short read is also what a
// cut stream (a tar member, an HTTP body) fails with: a blob cut in its
// first buffer would read as a whole, shorter one.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// blockSize is tar's; zeroBlock pads an entry's data to it.
const blockSize = 512

var zeroBlock [blockSize]byte

// headerBytes is the tar header of an entry as a tar.Writer writes it
// (one block, or a PAX record and a block for sizes USTAR cannot hold).
func headerBytes(h *tar.Header) ([]byte, error) {
	var b bytes.Buffer
	if err := tar.NewWriter(&b).WriteHeader(h); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// errEncoding: frames made for other options than the Writer's.
var errEncoding = errors.New("frames encoded for another compression")

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
