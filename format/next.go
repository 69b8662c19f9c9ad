package format

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/spec"
)

// Next advances to the next entry and returns it as the index lists it;
// its bytes are then read with Read. Bytes of the previous entry that were
// not read are skipped (that entry then simply was not read in full). Next
// returns io.EOF at the end of a complete stream, an *EntryError for an
// entry it refuses (call Next again to go on), and any other error for a
// fault of the stream, which is fatal.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.cur, r.curErr = nil, nil
	h, err := r.nextHeader()
	if err != nil {
		r.err = err
		return nil, err
	}
	r.entries++
	if r.entries > spec.MaxEntries+2 {
		r.err = fmt.Errorf("bundle: more than %d entries: %w", spec.MaxEntries+2, spec.ErrTooLarge)
		return nil, r.err
	}
	e, err := r.admit(h)
	if err != nil {
		r.curErr = err
		return nil, err
	}
	r.cur = spec.NewVerifyingReader(r.tr, e.Digest, e.Size)
	return e, nil
}

func (r *Reader) nextHeader() (*tar.Header, error) {
	if h := r.pending; h != nil {
		r.pending = nil
		return h, nil
	}
	h, err := r.tr.Next()
	if err == io.EOF && r.tarIn.n == 0 {
		return nil, fmt.Errorf("bundle: empty stream: %w", spec.ErrCorrupt)
	}
	if err == io.EOF && r.tarIn.eof {
		return nil, &streamError{msg: "bundle truncated: no end-of-archive marker", errs: []error{spec.ErrCorrupt, io.ErrUnexpectedEOF}}
	}
	if err != nil && err != io.EOF {
		return nil, r.fatal(err)
	}
	return h, err
}

// admit checks a header against the index.
func (r *Reader) admit(h *tar.Header) (*Entry, error) {
	d := blobDigest(h.Name)
	refuse := func(err error) error { return &EntryError{Name: h.Name, Digest: d, Err: err} }
	if d == "" && !isFileName(h.Name) {
		return nil, refuse(errNameRefused)
	}
	if err := checkType(h); err != nil {
		return nil, refuse(err)
	}
	l, ok := r.want[h.Name]
	if !ok {
		return nil, refuse(errors.New("not listed in the index"))
	}
	if r.seen[h.Name] {
		return nil, refuse(errors.New("duplicate entry"))
	}
	r.seen[h.Name] = true
	switch {
	case l.status == spec.StatusPrerequisite:
		return nil, refuse(errors.New("listed as a prerequisite, present as an entry"))
	case l.Kind != spec.KindBlob && l.Kind != spec.KindFile:
		return nil, refuse(fmt.Errorf("kind %q unknown to this ferry", l.Kind))
	case h.Size != l.Size:
		return nil, refuse(fmt.Errorf("size %d, the index lists %d", h.Size, l.Size))
	}
	e := l.Entry
	return &e, nil
}

// Read reads the current entry's bytes, hashed as they stream: at the end
// a *spec.VerifyError if they are not what the index lists (not fatal for
// the stream). Reading a refused entry returns its *EntryError.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	if r.curErr != nil {
		return 0, r.curErr
	}
	if r.cur == nil {
		return 0, io.EOF
	}
	n, err := r.cur.Read(p)
	var ve *spec.VerifyError
	if err != nil && err != io.EOF && !errors.As(err, &ve) {
		r.err = r.fatal(err)
		return n, r.err
	}
	return n, err
}

// WriteTo copies the current entry to w through a large buffer; io.Copy
// uses it. It returns nil at the end of a good entry.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if r.buf == nil {
		r.buf = make([]byte, copyBuffer)
	}
	var total int64
	for {
		n, err := r.Read(r.buf)
		if n > 0 {
			m, werr := w.Write(r.buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// fatal names a fault of the stream: the input's own read error, a
// truncation, a zstd fault or a tar fault.
func (r *Reader) fatal(err error) error {
	switch {
	case errors.Is(r.tarIn.err, errOverBudget):
		return &streamError{msg: fmt.Sprintf("bundle: the stream holds more than the %d bytes its index accounts for (an entry that expands without bound?); over the size limit", r.tarIn.limit),
			errs: []error{spec.ErrCorrupt, spec.ErrTooLarge}}
	case r.in.err != nil:
		return fmt.Errorf("bundle: read: %w", r.in.err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &streamError{msg: "bundle truncated: " + err.Error(), errs: []error{spec.ErrCorrupt, err}}
	case r.tarIn.err != nil && r.zr != nil:
		return zstdError(r.tarIn.err)
	}
	return &streamError{msg: "bundle: tar: " + err.Error(), errs: []error{spec.ErrCorrupt, err}}
}

func zstdError(err error) error {
	errs := []error{spec.ErrCorrupt, err}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		errs = append(errs, spec.ErrTooLarge)
	}
	return &streamError{msg: "bundle: zstd: " + err.Error(), errs: errs}
}

// streamError is a fatal fault of the stream.
type streamError struct {
	msg  string
	errs []error
}

func (e *streamError) Error() string   { return e.msg }
func (e *streamError) Unwrap() []error { return e.errs }

// source records how a reader ended: a clean EOF with no bytes, or an
// error of its own.
type source struct {
	r   io.Reader
	n   int64
	eof bool
	err error
	// limit, when > 0, is the most bytes the stream may hold: past it
	// Read fails with errOverBudget, so an entry that expands without
	// bound costs bounded time, not only bounded memory.
	limit int64
}

// errOverBudget: the stream holds more bytes than its index accounts for.
var errOverBudget = errors.New("over budget")

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.limit > 0 && s.n > s.limit && s.err == nil {
		s.err = errOverBudget
		return n, errOverBudget
	}
	switch {
	case err == io.EOF && n == 0:
		s.eof = true
	case err != nil && err != io.EOF && s.err == nil:
		s.err = err
	}
	return n, err
}
