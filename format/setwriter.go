package format

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// SetWriter writes a set of volumes that PlanSet cut, in one pass over
// the blobs: the caller writes each blob of Order once, in that order;
// the SetWriter writes the layout files and every repeated blob (the
// manifests and indexes) into each volume itself, cuts each chunked blob
// into its parts as it streams, hashing each, and once every volume's
// body is written, writes each volume's index and signature into the room
// it left at the start of the volume's file (volplan.go). Errors are
// sticky.
type SetWriter struct {
	ix       *Index
	s        ssh.Signer
	opts     SetOptions
	files    map[string][]byte
	src      SetSource
	deriveID bool
	blobs    map[digest.Digest]int // index in ix.Blobs of each shipped blob
	carriers map[digest.Digest]int // the volume that carries a blob whole (the first, for a repeated one)
	outs     []io.WriterAt
	heads    [][]byte // each volume's header as reserved: its length is final
	cur      *volumeBody
	comp     *compressor   // every volume's, one for the set (nil uncompressed)
	bw       *bufio.Writer // every volume's, one for the set
	buf      []byte        // every volume's copy buffer
	err      error
}

// SetSource is what a SetWriter reads and writes besides the blobs the
// caller writes: the bytes of the blobs every volume carries, and the
// file of each volume.
type SetSource interface {
	// Repeat opens a blob that every volume carries (a manifest or an
	// index): a SetWriter reads it once per volume.
	Repeat(d digest.Digest) (io.ReadCloser, error)
	// Volume returns the file of volume n, from 1, written at offsets:
	// the body from the end of the header, then the header at 0.
	Volume(n int) (io.WriterAt, error)
}

// volumeBody is the volume being written: a Writer of its entries after
// the header.
type volumeBody struct {
	n     int
	w     *Writer
	buf   *bufio.Writer
	count *countWriter
}

// NewSetWriter returns a SetWriter of ix, which PlanSet cut with the same
// options, signed by s; files are the bytes of ix.Files by name.
func NewSetWriter(ix *Index, s ssh.Signer, opts SetOptions, files map[string][]byte, src SetSource) (*SetWriter, error) {
	if !ix.IsSet() {
		return nil, fmt.Errorf("write a set: the index was not cut into volumes (PlanSet): %w", spec.ErrBadInput)
	}
	w := &SetWriter{ix: ix, s: s, opts: opts, files: files, src: src, deriveID: ix.ID == ""}
	if w.deriveID {
		ix.ID = placeholderID
	}
	if err := ix.Validate(); err != nil {
		return nil, fmt.Errorf("bundle index: %w", err)
	}
	if c := opts.Compression; c == "" || c == CompressionZstd {
		comp, err := newCompressor(opts.Level)
		if err != nil {
			return nil, err
		}
		w.comp = comp
	}
	w.blobs, w.carriers = map[digest.Digest]int{}, map[digest.Digest]int{}
	for i, b := range ix.Blobs {
		if b.Status == spec.StatusShipped {
			w.blobs[b.Digest] = i
		}
	}
	for _, v := range slices.Backward(ix.Volumes) {
		for _, d := range v.Blobs {
			w.carriers[d] = v.Number
		}
	}
	return w, nil
}

// Order returns the shipped blobs the caller writes, in the order it must
// write them: volume by volume, each volume's whole blobs in index order,
// then the blob whose first part ends that volume. Blobs every volume
// carries are not among them.
func (w *SetWriter) Order() []Blob {
	whole := make([][]Blob, len(w.ix.Volumes)+1)
	first := make([][]Blob, len(w.ix.Volumes)+1) // chunked blobs by the volume of their first part
	for _, b := range w.ix.Blobs {
		switch {
		case b.Chunk != nil:
			first[b.Chunk.Parts[0].Volume] = append(first[b.Chunk.Parts[0].Volume], b)
		case !repeated(b) && w.carriers[b.Digest] > 0:
			whole[w.carriers[b.Digest]] = append(whole[w.carriers[b.Digest]], b)
		}
	}
	var out []Blob
	for v := range whole {
		out = append(append(out, whole[v]...), first[v]...)
	}
	return out
}

// WriteBlob writes blob d from r: whole into the volume that carries it,
// or cut into its parts, each into its volume. r must give exactly the
// bytes the index lists for d, or the write fails with a
// *spec.VerifyError (and the set with it).
func (w *SetWriter) WriteBlob(d digest.Digest, r io.Reader) error {
	if w.err != nil {
		return w.err
	}
	b := w.shipped(d)
	if b == nil {
		return w.fail(fmt.Errorf("blob %s: not listed as shipped in the index: %w", d, spec.ErrBadInput))
	}
	if b.Chunk == nil {
		if err := w.advance(w.carrier(d)); err != nil {
			return err
		}
		return w.sticky(w.cur.w.WriteBlob(d, r))
	}
	return w.writeParts(b, spec.Verify(r, b.Digest, b.Size))
}

// WriteEncoded writes blob e.Digest from the data frames an Encoder made
// of it (Writer.WriteEncoded): copied as they are into the volume that
// carries it whole, or decoded and cut into parts.
func (w *SetWriter) WriteEncoded(e Encoded, frames io.Reader) error {
	if w.err != nil {
		return w.err
	}
	b := w.shipped(e.Digest)
	if b == nil || b.Chunk != nil {
		rc, err := e.Decode(frames)
		if err != nil {
			return w.fail(err)
		}
		defer rc.Close()
		return w.WriteBlob(e.Digest, rc)
	}
	if err := w.advance(w.carrier(e.Digest)); err != nil {
		return err
	}
	return w.sticky(w.cur.w.WriteEncoded(e, frames))
}

// writeParts writes each part of chunked blob b from r, which verifies the
// whole blob, into its volume, and puts each part's digest into the
// index. The first bytes of the blob say how every part is framed.
func (w *SetWriter) writeParts(b *Blob, r io.Reader) error {
	mode := frameAuto
	for i := range b.Chunk.Parts {
		p := &b.Chunk.Parts[i]
		if err := w.advance(p.Volume); err != nil {
			return err
		}
		name := spec.PartEntry(b.Digest, i+1)
		e, ok := w.cur.w.expect[name]
		if !ok {
			return w.fail(fmt.Errorf("entry %s: volume %d does not carry it: %w", name, p.Volume, spec.ErrBadInput))
		}
		if err := w.sticky(w.cur.w.startEntry(e)); err != nil {
			return err
		}
		h := sha256.New()
		lr := &io.LimitedReader{R: r, N: p.Size}
		var err error
		if mode, err = w.cur.w.writeData(io.TeeReader(lr, h), mode); err == nil && lr.N > 0 {
			err = &spec.VerifyError{Want: b.Digest, WantSize: b.Size, GotSize: b.Size - lr.N} // the source ended early
		}
		if err != nil {
			return w.fail(fmt.Errorf("blob %s: part %d: %w", b.Digest, i+1, err))
		}
		p.Digest = digest.NewDigest(digest.SHA256, h)
	}
	var one [1]byte // the end of r, where it checks the whole blob
	if n, err := r.Read(one[:]); n > 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = &spec.VerifyError{Want: b.Digest, WantSize: b.Size, GotSize: b.Size + 1}
		}
		return w.fail(fmt.Errorf("blob %s: %w", b.Digest, err))
	}
	return nil
}

// Close ends the last volume, then writes every volume's index (with
// every part's digest and the set's id, now known) and signature into the
// room left for them.
func (w *SetWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.advance(len(w.ix.Volumes)); err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	if w.deriveID {
		w.ix.ID = ""
		id, err := bundleID(w.ix)
		if err != nil {
			return w.fail(err)
		}
		w.ix.ID = id
	}
	for i, out := range w.outs {
		head, err := w.header(i + 1)
		if err == nil {
			_, err = out.WriteAt(head, 0)
		}
		if err != nil {
			return w.fail(fmt.Errorf("volume %d: %w", i+1, err))
		}
	}
	w.err = errors.New("write: set writer closed")
	w.closeComp()
	return nil
}

// closeComp stops the set's compressor, once.
func (w *SetWriter) closeComp() {
	if w.comp != nil {
		w.comp.close()
		w.comp = nil
	}
}

// header is volume n's final index and signature, as long as the room
// left for them: an ed25519 or RSA signature's length never changes, an
// ECDSA one is made again until it has the length reserved.
func (w *SetWriter) header(n int) ([]byte, error) {
	c := *w.ix
	c.Volume = n
	raw, err := Canonical(&c)
	if err != nil {
		return nil, err
	}
	want := len(w.heads[n-1])
	for range 1000 {
		sig, err := Sign(w.s, spec.SignatureNamespace, raw)
		if err != nil {
			return nil, err
		}
		head, err := headerFrames(raw, sig, w.opts.WriterOptions)
		if err != nil || len(head) == want {
			return head, err
		}
	}
	return nil, fmt.Errorf("the index and signature take another length than the %d bytes left for them: %w", want, spec.ErrBadInput)
}

// advance ends volumes until volume n is the one being written.
func (w *SetWriter) advance(n int) error {
	for w.cur == nil || w.cur.n < n {
		if w.cur != nil {
			if err := w.finish(); err != nil {
				return err
			}
		}
		if err := w.open(len(w.outs) + 1); err != nil {
			return err
		}
	}
	if w.cur.n > n {
		return w.fail(fmt.Errorf("write a set: an entry of volume %d after volume %d was begun (write in Order): %w", n, w.cur.n, spec.ErrBadInput))
	}
	return nil
}

// open starts volume n: leaves room for its header and writes its layout
// files and repeated blobs.
func (w *SetWriter) open(n int) error {
	out, err := w.src.Volume(n)
	if err != nil {
		return w.fail(fmt.Errorf("volume %d: %w", n, err))
	}
	head, err := volumeHeader(w.ix, n, w.s, w.opts.WriterOptions)
	if err != nil {
		return w.fail(err)
	}
	w.outs, w.heads = append(w.outs, out), append(w.heads, head)
	at := io.NewOffsetWriter(out, int64(len(head)))
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(at, copyBuffer)
	}
	w.bw.Reset(at)
	buf := w.bw
	count := &countWriter{w: buf}
	body := NewWriter(count, WriterOptions{Compression: CompressionNone, ModTime: w.opts.ModTime})
	body.opts, body.sink.comp, body.sink.shared = w.opts.WriterOptions, w.comp, true // the set's compressor
	body.opts.ModTime = modTime(w.opts.ModTime)
	body.ix, body.volume, body.buf = w.ix, n, w.buf
	body.indexEntries()
	w.cur = &volumeBody{n: n, w: body, buf: buf, count: count}
	for _, f := range w.ix.Files {
		if err := w.sticky(body.WriteFile(f.Name, w.files[f.Name])); err != nil {
			return err
		}
	}
	for _, b := range w.ix.Blobs {
		if repeated(b) {
			if err := w.repeat(b.Digest); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *SetWriter) repeat(d digest.Digest) error {
	rc, err := w.src.Repeat(d)
	if err != nil {
		return w.fail(fmt.Errorf("blob %s: %w", d, err))
	}
	defer rc.Close()
	return w.sticky(w.cur.w.WriteBlob(d, rc))
}

// finish ends the volume being written and checks that it kept within
// the size: the plan's bounds make it so, and a volume over it is a bug
// that fails the set.
func (w *SetWriter) finish() error {
	v := w.cur
	if err := w.sticky(v.w.Close()); err != nil {
		return err
	}
	w.buf = v.w.buf
	if err := v.buf.Flush(); err != nil {
		return w.fail(fmt.Errorf("volume %d: %w", v.n, err))
	}
	if total := int64(len(w.heads[v.n-1])) + v.count.n; total > w.opts.Size {
		return w.fail(fmt.Errorf("volume %d: %d bytes, over the %d planned (a bug: please report it)", v.n, total, w.opts.Size))
	}
	return nil
}

// shipped returns the index's blob d when it is shipped.
func (w *SetWriter) shipped(d digest.Digest) *Blob {
	if i, ok := w.blobs[d]; ok {
		return &w.ix.Blobs[i]
	}
	return nil
}

// carrier is the volume that carries blob d whole; 0 for none.
func (w *SetWriter) carrier(d digest.Digest) int { return w.carriers[d] }

// sticky makes err, from a volume's Writer, the set's.
func (w *SetWriter) sticky(err error) error {
	if err != nil && w.err == nil {
		w.err = err
		w.closeComp()
	}
	return err
}

func (w *SetWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
		if w.cur != nil {
			w.cur.w.release()
		}
		w.closeComp()
	}
	return w.err
}
