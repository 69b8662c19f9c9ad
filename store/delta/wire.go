package delta

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ferryhq/ferry/spec"
)

// The delta stream (spec/delta-v1.md section 3), inside one zstd frame:
//
//	magic "ferry-delta\x00" version 1
//	uvarint bases; uvarint refs; each ref: uvarint base, ordinal, size, 32-byte sha256
//	ops until 'E': 'R' uvarint n, n bytes                  tar bytes as they are
//	               'C' uvarint ref                          a base file's whole content
//	               'P' uvarint ref, dictOff, dictLen, out   zstd frame with the base file's
//	                   then chunks (uvarint n, n bytes), 0  bytes [dictOff, +dictLen) as raw dictionary
const (
	magic      = "ferry-delta\x00"
	version    = 1
	opRaw      = 'R'
	opCopy     = 'C'
	opPatch    = 'P'
	opEnd      = 'E'
	maxRefs    = 1 << 17 // references one delta may hold (kept in memory: ~64 B each)
	maxRaw     = 1 << 20 // bytes of one raw op
	maxChunk   = 1 << 20 // bytes of one chunk of a patch
	maxDict    = 4 << 20 // bytes of a patch's dictionary (held in memory)
	maxPatch   = 4 << 20 // bytes one patch writes
	patchWin   = 8 << 20 // zstd window of a patch: dictionary plus output
	outerWin   = 2 << 20 // zstd window of the delta stream
	dictID     = 1
	patchSlack = 1 << 20 // a big file's chunk takes dictionary from this far before and after it
)

// ref is a base file a delta uses: the content of entry ordinal of base
// layer base, size bytes with sha256 digest.
type ref struct {
	base    int
	ordinal int64
	size    int64
	digest  [32]byte
}

// op is one decoded operation.
type op struct {
	kind    byte
	n       int64 // raw: bytes; patch: output bytes
	ref     int
	dictOff int64
	dictLen int64
}

var errBadDelta = errors.New("delta stream")

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s: %w", errBadDelta, fmt.Sprintf(format, a...), spec.ErrCorrupt)
}

// wireWriter writes the delta stream's records.
type wireWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (w *wireWriter) uvarint(v int64) {
	n := binary.PutUvarint(w.buf[:], uint64(v))
	w.w.Write(w.buf[:n])
}

func (w *wireWriter) header(bases int, refs []ref) {
	w.w.WriteString(magic)
	w.w.WriteByte(version)
	w.uvarint(int64(bases))
	w.uvarint(int64(len(refs)))
	for _, r := range refs {
		w.uvarint(int64(r.base))
		w.uvarint(r.ordinal)
		w.uvarint(r.size)
		w.w.Write(r.digest[:])
	}
}

func (w *wireWriter) raw(p []byte) {
	for len(p) > 0 {
		n := min(len(p), maxRaw)
		w.w.WriteByte(opRaw)
		w.uvarint(int64(n))
		w.w.Write(p[:n])
		p = p[n:]
	}
}

func (w *wireWriter) copyRef(i int) {
	w.w.WriteByte(opCopy)
	w.uvarint(int64(i))
}

func (w *wireWriter) patch(o op) {
	w.w.WriteByte(opPatch)
	w.uvarint(int64(o.ref))
	w.uvarint(o.dictOff)
	w.uvarint(o.dictLen)
	w.uvarint(o.n)
}

// chunk writes one chunk of a patch's frame; an empty one ends it.
func (w *wireWriter) chunk(p []byte) {
	w.uvarint(int64(len(p)))
	w.w.Write(p)
}

func (w *wireWriter) end() error {
	w.w.WriteByte(opEnd)
	return w.w.Flush()
}

// wireReader reads and validates the delta stream's records; every number
// is bounded before it is used.
type wireReader struct {
	r     *bufio.Reader
	bases int
	refs  []ref
}

func (r *wireReader) uvarint(what string, max int64) (int64, error) {
	v, err := binary.ReadUvarint(r.r)
	if err != nil {
		return 0, corrupt("%s: %v", what, unexpected(err))
	}
	if v > uint64(max) {
		return 0, corrupt("%s %d over %d", what, v, max)
	}
	return int64(v), nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// header reads the magic and the reference table: at most maxRefs refs,
// each of a known base, sorted by base then ordinal without repeats (so
// one pass over each base finds them all), none larger than maxSize.
func (r *wireReader) header(bases int, maxSize int64) error {
	var m [len(magic) + 1]byte
	if _, err := io.ReadFull(r.r, m[:]); err != nil || string(m[:len(magic)]) != magic {
		return corrupt("not a ferry delta")
	}
	if m[len(magic)] != version {
		return fmt.Errorf("%w: version %d: %w", errBadDelta, m[len(magic)], spec.ErrUnsupportedVersion)
	}
	nb, err := r.uvarint("bases", spec.MaxDeltaBases)
	if err != nil {
		return err
	}
	if int(nb) != bases {
		return corrupt("%d bases, the index lists %d", nb, bases)
	}
	r.bases = bases
	n, err := r.uvarint("references", maxRefs)
	if err != nil {
		return err
	}
	for i := range n {
		var f ref
		b, err := r.uvarint("reference base", int64(bases-1))
		if err != nil {
			return err
		}
		f.base = int(b)
		if f.ordinal, err = r.uvarint("reference entry", 1<<40); err != nil {
			return err
		}
		if f.size, err = r.uvarint("reference size", maxSize); err != nil {
			return err
		}
		if _, err := io.ReadFull(r.r, f.digest[:]); err != nil {
			return corrupt("reference %d: %v", i, unexpected(err))
		}
		if len(r.refs) > 0 {
			p := r.refs[len(r.refs)-1]
			if f.base < p.base || (f.base == p.base && f.ordinal <= p.ordinal) {
				return corrupt("reference %d out of order", i)
			}
		}
		r.refs = append(r.refs, f)
	}
	return nil
}

// next reads the next op. Raw bytes and patch chunks are left for the
// caller to read from r.r.
func (r *wireReader) next() (op, error) {
	k, err := r.r.ReadByte()
	if err != nil {
		return op{}, corrupt("op: %v", unexpected(err))
	}
	o := op{kind: k}
	switch k {
	case opEnd:
		return o, nil
	case opRaw:
		o.n, err = r.uvarint("raw length", maxRaw)
		if err == nil && o.n == 0 {
			err = corrupt("empty raw op")
		}
		return o, err
	case opCopy, opPatch:
		i, err := r.uvarint("reference", int64(len(r.refs))-1)
		if err != nil {
			return o, err
		}
		o.ref = int(i)
		if k == opCopy {
			return o, nil
		}
		return o, r.patchArgs(&o)
	}
	return o, corrupt("unknown op %#x", k)
}

func (r *wireReader) patchArgs(o *op) error {
	size := r.refs[o.ref].size
	var err error
	if o.dictOff, err = r.uvarint("dictionary offset", size); err != nil {
		return err
	}
	if o.dictLen, err = r.uvarint("dictionary length", min(maxDict, size-o.dictOff)); err != nil {
		return err
	}
	if o.n, err = r.uvarint("patch length", maxPatch); err != nil {
		return err
	}
	return nil
}

// chunks reads a patch's chunks as one stream, up to the empty chunk.
type chunks struct {
	r    *wireReader
	left int64 // bytes left in the current chunk
	done bool
}

func (c *chunks) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		n, err := c.r.uvarint("chunk length", maxChunk)
		if err != nil {
			return 0, err
		}
		c.left, c.done = n, n == 0
	}
	n, err := c.r.r.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	if err == io.EOF {
		err = corrupt("chunk cut")
	}
	return n, err
}
