package format

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// A signed file (a bundle, a receipt) is a tar stream, zstd-compressed or
// plain, whose first entry is a document of canonical JSON and whose
// second is the document's detached SSHSIG signature. Both are read
// through an envelope, with one policy for hostile input: the zstd
// decoder's memory and window capped at spec.MaxDecoderMemory, a budget
// of decoded bytes past which reading stops however well the stream
// compresses, small entries read only up to their cap (never by the size
// a header declares), one classifier of the stream's faults, and one
// schema-version check of the document that runs before anything else
// is decoded from it.

// zstdMagic starts every zstd frame; anything else is read as plain tar.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// envelope reads the tar stream of a signed file.
type envelope struct {
	// what names the file at the start of a fault of the stream
	// ("bundle: zstd: …", "bundle truncated: …"); "" when the caller
	// names it itself.
	what  string
	in    *source       // the caller's reader, to tell its errors from ours
	zr    *zstd.Decoder // nil for a plain tar
	tarIn *source       // what the tar reader reads: decoded bytes
	tr    *tar.Reader
}

// openEnvelope sniffs r (zstd by its magic, else plain tar) and reads at
// most budget decoded bytes from it. tuning adds decoder options; the
// memory and window caps apply whatever it says.
func openEnvelope(what string, r io.Reader, budget int64, tuning ...zstd.DOption) (envelope, error) {
	e := envelope{what: what, in: &source{r: r}}
	buf := bufio.NewReaderSize(e.in, 64<<10)
	var plain io.Reader = buf
	if magic, _ := buf.Peek(len(zstdMagic)); bytes.Equal(magic, zstdMagic) {
		caps := []zstd.DOption{zstd.WithDecoderMaxMemory(spec.MaxDecoderMemory), zstd.WithDecoderMaxWindow(spec.MaxDecoderMemory)}
		zr, err := zstd.NewReader(buf, slices.Concat(tuning, caps)...)
		if err != nil {
			return e, err
		}
		e.zr, plain = zr, zr
	}
	e.tarIn = &source{r: plain, limit: budget}
	e.tr = tar.NewReader(e.tarIn)
	return e, nil
}

// closeDecoder releases the zstd decoder and its goroutines.
func (e *envelope) closeDecoder() {
	if e.zr != nil {
		e.zr.Close()
		e.zr = nil
	}
}

// next returns the next header, io.EOF at the end of a complete archive,
// or a fault of the stream: an empty stream, an archive with no
// end-of-archive marker, or what fault names.
func (e *envelope) next() (*tar.Header, error) {
	h, err := e.tr.Next()
	switch {
	case err == io.EOF && e.tarIn.n == 0 && e.in.err == nil:
		return nil, &streamError{msg: e.say("empty stream"), errs: []error{spec.ErrCorrupt}}
	case err == io.EOF && e.tarIn.eof:
		return nil, &streamError{msg: e.say("truncated: no end-of-archive marker"), errs: []error{spec.ErrCorrupt, io.ErrUnexpectedEOF}}
	case err != nil && err != io.EOF:
		return nil, e.fault(err)
	}
	return h, err
}

// entry reads the next entry, which must be a regular file called name
// of at most max bytes; absent or named otherwise it is the fault missing.
func (e *envelope) entry(name string, max int64, missing error) ([]byte, error) {
	h, err := e.next()
	if err == io.EOF {
		return nil, fmt.Errorf("no %s entry: %w", name, missing)
	}
	if err != nil {
		return nil, err
	}
	return e.small(h, name, max, missing)
}

// otherFile says what a stream is whose first entry is another signed
// file's document, and what reads it: a receipt given to load, say.
var otherFile = map[string]string{
	spec.IndexEntry:   "it is a bundle, not a receipt: ferry verify and ferry load read it",
	spec.ReceiptEntry: "it is a receipt, not a bundle: ferry receipt apply reads it, on the sender",
}

// errOtherFile marks the error of a stream that is the other kind of
// signed file (otherFile).
var errOtherFile = errors.New("the other kind of file")

// small reads the entry h into memory: a regular file called name (else
// the fault missing) of at most max bytes. It never allocates by the
// header's size.
func (e *envelope) small(h *tar.Header, name string, max int64, missing error) ([]byte, error) {
	if what, ok := otherFile[h.Name]; ok && h.Name != name {
		return nil, spec.Mark(errors.New(what), missing, errOtherFile)
	}
	if h.Name != name {
		return nil, fmt.Errorf("entry %q where %s should be: %w", clip(h.Name), name, missing)
	}
	if err := checkType(h); err != nil {
		return nil, fmt.Errorf("entry %q: %w: %w", h.Name, err, spec.ErrCorrupt)
	}
	if h.Size > max {
		return nil, fmt.Errorf("entry %q of %d bytes, at most %d: %w", h.Name, h.Size, max, spec.ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(e.tr, max+1))
	if err != nil {
		return nil, e.fault(err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("entry %q over %d bytes: %w", h.Name, max, spec.ErrTooLarge)
	}
	return data, nil
}

// fault names a fault of the stream: the budget, the input's own read
// error, a truncation, a zstd fault or a tar fault.
func (e *envelope) fault(err error) error {
	switch {
	case errors.Is(e.tarIn.err, errOverBudget):
		return &streamError{msg: e.say(fmt.Sprintf("the stream holds more than the %d bytes its signed document accounts for (an entry that expands without bound?); over the size limit", e.tarIn.limit)),
			errs: []error{spec.ErrCorrupt, spec.ErrTooLarge}}
	case e.in.err != nil:
		return fmt.Errorf("%s%w", e.say("read: "), e.in.err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &streamError{msg: e.say("truncated: " + err.Error()), errs: []error{spec.ErrCorrupt, err}}
	case e.tarIn.err != nil && e.zr != nil:
		errs := []error{spec.ErrCorrupt, e.tarIn.err}
		if errors.Is(e.tarIn.err, zstd.ErrWindowSizeExceeded) || errors.Is(e.tarIn.err, zstd.ErrDecoderSizeExceeded) {
			errs = append(errs, spec.ErrTooLarge)
		}
		return &streamError{msg: e.say("zstd: " + e.tarIn.err.Error()), errs: errs}
	}
	return &streamError{msg: e.say("tar: " + err.Error()), errs: []error{spec.ErrCorrupt, err}}
}

// say puts the file's name before msg: "bundle truncated: …", "bundle:
// zstd: …".
func (e *envelope) say(msg string) string {
	switch {
	case e.what == "":
		return msg
	case strings.HasPrefix(msg, "truncated"):
		return e.what + " " + msg
	}
	return e.what + ": " + msg
}

// checkSigner checks that key, which made a document's signature, is the key
// the document names by its fingerprint (named); doc says which document.
func checkSigner(key ssh.PublicKey, named, doc string) error {
	if fp := Fingerprint(key); named != fp {
		return fmt.Errorf("signature: made by key %s, but the %s names %s: %w", fp, doc, named, spec.ErrBadSignature)
	}
	return nil
}

// checkSchemaVersion reads only a document's schemaVersion, so that a
// document of another version is refused for its version
// (spec.ErrUnsupportedVersion, naming it), not for fields this build does
// not know; want is the version this build reads.
func checkSchemaVersion(data []byte, want int) error {
	var probe struct {
		SchemaVersion *json.Number `json:"schemaVersion"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&probe); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return fmt.Errorf("%w: not a JSON object", spec.ErrCorrupt)
		case errors.As(err, &te):
			return fmt.Errorf("%w: schemaVersion: a JSON %s, not a number", spec.ErrCorrupt, te.Value)
		}
		return fmt.Errorf("%w: %s", spec.ErrCorrupt, clipErr(err))
	}
	if probe.SchemaVersion == nil {
		return fmt.Errorf("%w: no schemaVersion", spec.ErrCorrupt)
	}
	if v := probe.SchemaVersion.String(); v != fmt.Sprint(want) {
		if len(v) > 20 {
			v = v[:20] + "…"
		}
		return fmt.Errorf("schemaVersion %s: %w (this ferry reads %d)", v, spec.ErrUnsupportedVersion, want)
	}
	return nil
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
