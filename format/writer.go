package format

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// Compression names for WriterOptions.Compression.
const (
	CompressionZstd = "zstd"
	CompressionNone = "none"
)

// The encoder is zstd's asynchronous stream encoder: it compresses one
// block in the background while the caller hashes the next bytes. Its
// concurrent-blocks mode wrote incompressible layers faster in memory
// (1.27 against 0.9 GB/s on two cores) but held about 80 MiB live, past
// DESIGN's 64 MiB peak RSS for a save; data that is already compressed
// now bypasses the encoder anyway (frames.go). The output depends on the
// options only, never on the machine; the concurrency is a constant, not
// GOMAXPROCS (TestWriter_Deterministic).
const encoderConcurrency = 2

// encoderWindow is the zstd window at the default level. What compresses
// (manifests, configs, uncompressed layers from Docker) finds its matches
// near; a small window keeps the encoder's buffers and the reader's
// history small.
const encoderWindow = 1 << 20

// copyBuffer is the size of the buffer a blob streams through.
const copyBuffer = 1 << 20

// WriterOptions tune a Writer. The zero value writes a zstd bundle with
// every timestamp at the Unix epoch.
type WriterOptions struct {
	// Compression is "zstd" (the default when "") or "none".
	Compression string
	// ModTime is the mtime of every tar header, truncated to seconds;
	// zero means the Unix epoch. It is also the index's created time when
	// the index has none. Same input and options, same bytes.
	ModTime time.Time
	// Level is the zstd level as the zstd command numbers them (1–22,
	// mapped by zstd.EncoderLevelFromZstd). 0 means zstd.SpeedFastest:
	// layers are already gzip- or zstd-compressed, so a slower level buys
	// almost nothing and costs throughput; what compresses (manifests,
	// configs, the index) is small.
	Level int
}

// Writer writes a bundle: WriteHeader first, then WriteFile for every
// listed file and WriteBlob for every shipped blob (in index order for the
// canonical layout), then Close. Errors are sticky: after one, every call
// returns it.
type Writer struct {
	opts    WriterOptions
	sink    *frameSink
	tw      *tar.Writer
	buf     []byte
	ix      *Index
	volume  int // the volume of a set whose body this writes (SetWriter); 0 for a whole bundle
	files   map[string]File
	blobs   map[digest.Digest]Entry // the entry of each blob carried whole
	expect  map[string]Entry        // every entry to write, by name
	written map[string]bool
	err     error
}

// NewWriter returns a Writer to w. Close does not close w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	bw := &Writer{opts: opts}
	bw.opts.ModTime = modTime(opts.ModTime)
	bw.sink = &frameSink{out: w}
	switch opts.Compression {
	case "", CompressionZstd:
		bw.sink.comp, bw.err = newCompressor(opts.Level)
	case CompressionNone:
	default:
		bw.err = fmt.Errorf("compression %q unknown (want %q or %q): %w", opts.Compression, CompressionZstd, CompressionNone, spec.ErrBadInput)
	}
	bw.tw = tar.NewWriter(bw.sink)
	return bw
}

func modTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC().Truncate(time.Second)
}

func newEncoder(level int) (*zstd.Encoder, error) {
	opts := []zstd.EOption{zstd.WithEncoderConcurrency(encoderConcurrency)}
	if level == 0 {
		opts = append(opts, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(encoderWindow))
	} else {
		opts = append(opts, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
	}
	return zstd.NewWriter(nil, opts...)
}

// WriteHeader completes ix, validates it and writes the index and its
// signature by s. It sets SchemaVersion and MediaType when zero, Created
// from WriterOptions.ModTime when empty, From.Fingerprint from s, sorts
// Blobs with Order and sets ID when empty (see Index.ID). The Writer keeps
// ix; the caller must not change it afterwards.
func (w *Writer) WriteHeader(ix *Index, s ssh.Signer) error {
	if w.err != nil {
		return w.err
	}
	if w.ix != nil {
		return w.fail(errors.New("write header: already written"))
	}
	raw, err := completeIndex(ix, s, w.opts.ModTime)
	if err != nil {
		return w.fail(fmt.Errorf("bundle index: %w", err))
	}
	sig, err := Sign(s, spec.SignatureNamespace, raw)
	if err != nil {
		return w.fail(err)
	}
	w.ix = ix
	w.indexEntries()
	if err := w.writeEntry(spec.IndexEntry, raw); err != nil {
		return err
	}
	return w.writeEntry(spec.SignatureEntry, sig)
}

// completeIndex fills ix's defaults and returns its canonical bytes.
func completeIndex(ix *Index, s ssh.Signer, created time.Time) ([]byte, error) {
	if err := fillIndex(ix, s, created); err != nil {
		return nil, err
	}
	if ix.ID == "" {
		id, err := bundleID(ix)
		if err != nil {
			return nil, err
		}
		ix.ID = id
	}
	if err := ix.Validate(); err != nil {
		return nil, err
	}
	return Canonical(ix)
}

// fillIndex fills ix's defaults but its id: version, media type, created
// time, the signer's fingerprint, and Blobs in entry order.
func fillIndex(ix *Index, s ssh.Signer, created time.Time) error {
	if s == nil {
		return errors.New("no signer")
	}
	if ix.SchemaVersion == 0 {
		ix.SchemaVersion = spec.BundleSchemaVersion
	}
	if ix.MediaType == "" {
		ix.MediaType = spec.IndexMediaType
	}
	if ix.Created == "" {
		ix.Created = created.Format(time.RFC3339)
	}
	ix.Images = nonNil(ix.Images)
	ix.Files = nonNil(ix.Files)
	ix.Blobs = nonNil(ix.Blobs)
	Order(ix.Blobs)
	ix.From.Fingerprint = Fingerprint(s.PublicKey())
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// bundleID is the first 32 hex digits of the sha256 of the canonical
// index with an empty id.
func bundleID(ix *Index) (string, error) {
	c := *ix
	c.ID = ""
	raw, err := Canonical(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:32], nil
}

func (w *Writer) indexEntries() {
	w.files = make(map[string]File, len(w.ix.Files))
	for _, f := range w.ix.Files {
		w.files[f.Name] = f
	}
	entries := w.ix.Entries(w.volume)
	w.blobs = make(map[digest.Digest]Entry, len(entries))
	w.expect = make(map[string]Entry, len(entries))
	for _, e := range entries {
		w.expect[e.Name] = e
		if e.Blob != nil && e.Part == 0 {
			w.blobs[e.Blob.Digest] = e
		}
	}
	w.written = make(map[string]bool, len(entries))
}

// WriteFile writes one of the OCI layout files; ix.Files must list it with
// data's digest and size.
func (w *Writer) WriteFile(name string, data []byte) error {
	if err := w.ready(); err != nil {
		return err
	}
	f, ok := w.files[name]
	if !ok {
		return w.fail(fmt.Errorf("file %q: not listed in the index: %w", name, spec.ErrBadInput))
	}
	if w.written[name] {
		return w.fail(fmt.Errorf("file %q: written twice: %w", name, spec.ErrBadInput))
	}
	if got := digest.FromBytes(data); got != f.Digest || int64(len(data)) != f.Size {
		return w.fail(fmt.Errorf("file %q: %w", name, &spec.VerifyError{Want: f.Digest, WantSize: f.Size, GotDigest: got, GotSize: int64(len(data))}))
	}
	w.written[name] = true
	return w.writeEntry(name, data)
}

// WriteBlob streams the entry of blob d from r into the bundle. The index
// must list d as shipped, of a kind of kinds.go; r must give exactly the
// bytes that kind's entry holds (for spec.KindBlob and spec.KindExtra,
// the blob's own: the listed size and digest; for spec.KindDelta, the
// delta's: Delta.Size and Delta.Digest), or the write fails with a
// *spec.VerifyError (and the bundle with it).
func (w *Writer) WriteBlob(d digest.Digest, r io.Reader) error {
	e, err := w.startBlob(d)
	if err != nil {
		return err
	}
	if _, err := w.writeData(spec.Verify(r, e.Digest, e.Size), frameAuto); err != nil {
		return w.fail(fmt.Errorf("blob %s: %w", d, err))
	}
	return nil
}

// writeData writes an entry's data and padding in frames of their own
// (mode: raw blocks, compressed, or as the data's first bytes say) and
// returns the mode it used.
func (w *Writer) writeData(r io.Reader, mode frameMode) (frameMode, error) {
	if w.buf == nil {
		w.buf = make([]byte, copyBuffer)
	}
	_, used, err := encodeData(w.sink, r, w.buf, mode)
	return used, err
}

// WriteEncoded writes the entry of blob e.Digest from its data frames,
// read from frames: what an Encoder with this Writer's options made of
// the entry's bytes (and hashed them to e.Digest), copied as they are.
// The index must list the blob as shipped, of a kind whose entry holds
// the blob's own bytes, of e.Size bytes.
func (w *Writer) WriteEncoded(e Encoded, frames io.Reader) error {
	if err := w.ready(); err != nil {
		return err
	}
	if e.encoding != encoding(w.opts) {
		return w.fail(fmt.Errorf("blob %s: %w (%s, the bundle is %s): %w", e.Digest, errEncoding, e.encoding, encoding(w.opts), spec.ErrBadInput))
	}
	if b, ok := w.blobs[e.Digest]; ok && (b.Digest != e.Digest || b.Size != e.Size) {
		return w.fail(fmt.Errorf("blob %s: %w", e.Digest, &spec.VerifyError{Want: b.Digest, WantSize: b.Size, GotDigest: e.Digest, GotSize: e.Size}))
	}
	if _, err := w.startBlob(e.Digest); err != nil {
		return err
	}
	n, err := io.Copy(w.sink.out, io.LimitReader(frames, e.Frames))
	if err == nil && n != e.Frames {
		err = fmt.Errorf("%d bytes of frames, want %d: %w", n, e.Frames, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return w.fail(fmt.Errorf("blob %s: %w", e.Digest, err))
	}
	return nil
}

// startBlob checks that the entry of blob d may be written now and
// writes its tar header (startEntry). It returns the entry.
func (w *Writer) startBlob(d digest.Digest) (Entry, error) {
	if err := w.ready(); err != nil {
		return Entry{}, err
	}
	e, ok := w.blobs[d]
	if !ok {
		return Entry{}, w.fail(w.notHere(d))
	}
	return e, w.startEntry(e)
}

// notHere says why blob d is not an entry this writer takes.
func (w *Writer) notHere(d digest.Digest) error {
	for _, b := range w.ix.Blobs {
		if b.Digest != d || b.Status != spec.StatusShipped {
			continue
		}
		if _, ok := kinds[b.Kind]; !ok {
			return fmt.Errorf("blob %s: kind %q cannot be written by this ferry: %w", d, b.Kind, spec.ErrBadInput)
		}
		if w.volume > 0 {
			return fmt.Errorf("blob %s: volume %d does not carry it whole: %w", d, w.volume, spec.ErrBadInput)
		}
	}
	return fmt.Errorf("blob %s: not listed as shipped in the index: %w", d, spec.ErrBadInput)
}

// startEntry writes entry e's tar header, in a frame of its own, once.
func (w *Writer) startEntry(e Entry) error {
	if w.written[e.Name] {
		return w.fail(fmt.Errorf("entry %s: written twice: %w", e.Name, spec.ErrBadInput))
	}
	w.written[e.Name] = true
	hdr, err := headerBytes(w.header(e.Name, e.Size))
	if err != nil {
		return w.fail(err)
	}
	w.sink.begin(false)
	if _, err := w.sink.Write(hdr); err != nil {
		return w.fail(err)
	}
	if err := w.sink.end(); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) ready() error {
	if w.err != nil {
		return w.err
	}
	if w.ix == nil {
		return w.fail(errors.New("write: WriteHeader was not called"))
	}
	return nil
}

func (w *Writer) header(name string, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  w.opts.ModTime,
	}
}

// writeEntry writes a small entry, its header, data and padding, as one
// frame.
func (w *Writer) writeEntry(name string, data []byte) error {
	w.sink.begin(false)
	if err := w.tw.WriteHeader(w.header(name, int64(len(data)))); err != nil {
		return w.fail(err)
	}
	if _, err := w.tw.Write(data); err != nil {
		return w.fail(err)
	}
	if err := w.tw.Flush(); err != nil {
		return w.fail(err)
	}
	if err := w.sink.end(); err != nil {
		return w.fail(err)
	}
	return nil
}

// Close checks that every listed file and shipped blob was written, then
// writes the tar trailer and ends the zstd frame. It does not close the
// underlying writer. A bundle that lacks an entry is not finished: Close
// names what is missing and writes no trailer.
func (w *Writer) Close() error {
	if w.err == nil && w.ix == nil {
		w.err = errors.New("close: WriteHeader was not called")
	}
	if w.err == nil {
		w.err = w.checkComplete()
	}
	if w.err != nil {
		w.release()
		return w.err
	}
	w.sink.begin(false)
	if err := w.tw.Close(); err != nil {
		return w.fail(err)
	}
	if err := w.sink.end(); err != nil {
		return w.fail(err)
	}
	w.sink.close()
	w.err = errors.New("write: writer closed")
	return nil
}

func (w *Writer) checkComplete() error {
	var missing []string
	for name, e := range w.expect {
		if !w.written[name] {
			if e.Blob != nil && e.Part == 0 {
				name = string(e.Blob.Digest)
			}
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	n := len(missing)
	if n > 10 {
		missing = append(missing[:10], fmt.Sprintf("and %d more", n-10))
	}
	return fmt.Errorf("close: %d listed entries not written: %v: %w", n, missing, spec.ErrIncomplete)
}

// release stops the compressor, finished or not.
func (w *Writer) release() {
	w.sink.abort()
	w.sink.close()
}

// fail makes err sticky and stops the compressor: nothing more is
// written.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.release()
	}
	return w.err
}
