package recompress

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/ferryhq/ferry/spec"
)

// gzip header flags (RFC 1952 section 2.3.1).
const (
	flagHCRC    = 1 << 1
	flagExtra   = 1 << 2
	flagName    = 1 << 3
	flagComment = 1 << 4
	flagsKnown  = 0x1f
)

// gzipHeaderLen returns the length of the gzip member header at the start
// of b, which must hold all of it (at most spec.MaxRecipeHeader bytes).
func gzipHeaderLen(b []byte) (int, error) {
	bad := func(what string) (int, error) {
		return 0, fmt.Errorf("gzip header: %s: %w", what, spec.ErrCorrupt)
	}
	if len(b) < 10 || b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
		return bad("not a deflate member")
	}
	flg := b[3]
	if flg&^flagsKnown != 0 {
		return bad("reserved flags set")
	}
	n := 10
	if flg&flagExtra != 0 {
		if len(b) < n+2 {
			return bad("extra field cut")
		}
		n += 2 + int(binary.LittleEndian.Uint16(b[n:]))
	}
	for _, f := range []byte{flagName, flagComment} {
		if flg&f == 0 {
			continue
		}
		for n < len(b) && b[n] != 0 {
			n++
		}
		n++ // the terminating zero
	}
	if flg&flagHCRC != 0 {
		n += 2
	}
	if n > len(b) {
		return bad("cut or longer than the cap")
	}
	return n, nil
}

// parseGzipHeader decodes a recipe's header, which must be exactly one
// gzip member header.
func parseGzipHeader(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) > spec.MaxRecipeHeader {
		return nil, fmt.Errorf("recipe: header is not hex of at most %d bytes: %w", spec.MaxRecipeHeader, spec.ErrCorrupt)
	}
	n, err := gzipHeaderLen(b)
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	if n != len(b) {
		return nil, fmt.Errorf("recipe: %d bytes after the gzip header: %w", len(b)-n, spec.ErrCorrupt)
	}
	return b, nil
}

// gzipWriter writes one gzip member: the recipe's header verbatim, the
// deflate stream of the recipe's encoder, and the trailer.
type gzipWriter struct {
	w      io.Writer
	header []byte
	body   flateWriter
	crc    hash.Hash32
	size   uint32
	err    error
}

func newGzipWriter(w io.Writer, r spec.Recipe) (*gzipWriter, error) {
	header, err := parseGzipHeader(r.Header)
	if err != nil {
		return nil, err
	}
	e := encoders[r.Encoder]
	var body flateWriter
	if r.BlockSize > 0 {
		body, err = newBlockWriter(w, e, r.Level, r.BlockSize)
	} else {
		body, err = e.newFlate(w, r.Level)
	}
	if err != nil {
		return nil, fmt.Errorf("recipe %s level %d: %v: %w", r.Encoder, r.Level, err, spec.ErrCannotReproduce)
	}
	return &gzipWriter{w: w, header: header, body: body, crc: crc32.NewIEEE()}, nil
}

func (z *gzipWriter) writeHeader() error {
	if z.header != nil {
		_, z.err = z.w.Write(z.header)
		z.header = nil
	}
	return z.err
}

func (z *gzipWriter) Write(p []byte) (int, error) {
	if err := z.writeHeader(); err != nil {
		return 0, err
	}
	z.crc.Write(p)
	z.size += uint32(len(p))
	n, err := z.body.Write(p)
	if err != nil {
		z.err = err
	}
	return n, err
}

func (z *gzipWriter) Close() error {
	if err := z.writeHeader(); err != nil {
		return err
	}
	if err := z.body.Close(); err != nil {
		return err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], z.crc.Sum32())
	binary.LittleEndian.PutUint32(trailer[4:], z.size)
	_, err := z.w.Write(trailer[:])
	return err
}

// tailSize is the dictionary pgzip gives each block: the last bytes of the
// block before it.
const tailSize = 16384

// blockWriter writes a deflate stream as klauspost/pgzip does: the input
// cut into blocks of size bytes, each compressed on its own with the last
// tailSize bytes of the previous block as dictionary and ended with a sync
// flush; Close compresses the last (possibly empty) block and ends the
// stream. pgzip compresses blocks in parallel; the bytes do not depend on
// that, so this writer does it in order, in constant memory.
type blockWriter struct {
	w       io.Writer
	fw      flateWriter
	size    int64
	n       int64  // bytes in the current block
	started bool   // the current block's stream has begun
	tail    []byte // the current block's last tailSize bytes
	prev    []byte // the previous block's tail: the dictionary
}

func newBlockWriter(w io.Writer, e *encoder, level int, size int64) (*blockWriter, error) {
	fw, err := e.newFlate(io.Discard, level)
	if err != nil {
		return nil, err
	}
	if _, ok := fw.(dictResetter); !ok {
		return nil, errors.New("encoder cannot write blocks")
	}
	return &blockWriter{w: w, fw: fw, size: size, tail: make([]byte, 0, tailSize)}, nil
}

func (b *blockWriter) start() {
	if !b.started {
		b.fw.(dictResetter).ResetDict(b.w, b.prev)
		b.started = true
	}
}

func (b *blockWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		b.start()
		k := int(min(int64(len(p)), b.size-b.n))
		if _, err := b.fw.Write(p[:k]); err != nil {
			return total - len(p), err
		}
		b.keepTail(p[:k])
		b.n += int64(k)
		p = p[k:]
		if b.n == b.size {
			if err := b.fw.Flush(); err != nil {
				return total - len(p), err
			}
			b.prev = append(b.prev[:0], b.tail...)
			b.tail, b.n, b.started = b.tail[:0], 0, false
		}
	}
	return total, nil
}

// keepTail keeps the last tailSize bytes of the block so far.
func (b *blockWriter) keepTail(p []byte) {
	if len(p) >= tailSize {
		b.tail = append(b.tail[:0], p[len(p)-tailSize:]...)
		return
	}
	if over := len(b.tail) + len(p) - tailSize; over > 0 {
		b.tail = append(b.tail[:0], b.tail[over:]...)
	}
	b.tail = append(b.tail, p...)
}

func (b *blockWriter) Flush() error { return b.fw.Flush() }

func (b *blockWriter) Close() error {
	b.start()
	if err := b.fw.Flush(); err != nil {
		return err
	}
	return b.fw.Close()
}

func newGzipReader(r io.Reader) (io.ReadCloser, error) {
	zr, err := kgzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w: %v", spec.ErrCorrupt, err)
	}
	return zr, nil
}
