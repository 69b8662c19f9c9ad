package format

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/readahead"
	"github.com/ferryhq/ferry/spec"
)

// Entry is an entry of a bundle after the index and its signature, as the
// index lists it.
type Entry struct {
	Name      string        // spec.LayoutEntry, spec.LayoutIndexEntry, or the blob's entry name by its kind (kinds.go)
	Kind      string        // spec.KindFile, or the blob's kind
	Digest    digest.Digest // of the entry's bytes, as listed (for a delta, the delta's; Blob.Digest is the layer's)
	Size      int64         // as listed, and as the tar header says
	MediaType string        // blobs only
	Blob      *Blob         // the index's element, nil for the layout files
	// Part is, for a part of a chunked blob (spec.KindChunk), its number
	// from 1, Offset where its bytes start in the blob, and Volume the
	// volume of the set that carries it; zero for an entry that carries
	// its blob whole.
	Part   int
	Offset int64
	Volume int
}

// EntryError is a fault of one entry. It is not fatal: the Reader skips
// the entry's bytes and the next call to Next goes on with the stream.
// It wraps spec.ErrCorrupt.
type EntryError struct {
	Name   string        // the tar name, as found
	Digest digest.Digest // the blob's digest (the layer's, for a delta), when the name is listed or a valid blob name
	Err    error
}

func (e *EntryError) Error() string {
	if e.Err == errNameRefused {
		return fmt.Sprintf("entry name %q refused", e.Name)
	}
	return fmt.Sprintf("entry %q: %v", e.Name, e.Err)
}

func (e *EntryError) Unwrap() []error { return []error{spec.ErrCorrupt, e.Err} }

var errNameRefused = fmt.Errorf("name refused")

// blobDigest returns the digest a blob entry name stands for, or "" when
// name is not spec.BlobPrefix followed by 64 lowercase hex digits. The tar
// name is never used as a path.
func blobDigest(name string) digest.Digest {
	hex, ok := strings.CutPrefix(name, spec.BlobPrefix)
	if !ok || len(hex) != 64 {
		return ""
	}
	for _, c := range []byte(hex) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex)
}

func isFileName(name string) bool {
	return name == spec.LayoutEntry || name == spec.LayoutIndexEntry
}

// typeNames names the tar types a reader refuses.
var typeNames = map[byte]string{
	tar.TypeLink:          "hardlink",
	tar.TypeSymlink:       "symlink",
	tar.TypeChar:          "char device",
	tar.TypeBlock:         "block device",
	tar.TypeDir:           "directory",
	tar.TypeFifo:          "fifo",
	tar.TypeCont:          "contiguous file",
	tar.TypeGNUSparse:     "sparse file",
	tar.TypeGNULongName:   "GNU long name",
	tar.TypeGNULongLink:   "GNU long link",
	tar.TypeXHeader:       "PAX header",
	tar.TypeXGlobalHeader: "PAX global header",
}

// checkType refuses everything but a plain regular file.
func checkType(h *tar.Header) error {
	if h.Typeflag != tar.TypeReg {
		name, ok := typeNames[h.Typeflag]
		if !ok {
			name = fmt.Sprintf("%q", h.Typeflag)
		}
		return fmt.Errorf("type %s refused", name)
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("type sparse file refused")
		}
	}
	return nil
}

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
	r.endEntry()
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
	r.ver = spec.NewVerifier(e.Digest, e.Size)
	if e.Size >= readAheadMin {
		r.ra = readahead.New(r.tr, r.readAheadBuffers())
	}
	return e, nil
}

// Read-ahead: a large entry's bytes are read (the file, zstd, tar) by a
// goroutine into a few buffers while the caller hashes the buffers filled
// before, so that decoding and sha256 run on two cores at once and verify
// goes at the speed of sha256 alone. Memory is bounded: readAheadBuffers
// buffers of copyBuffer bytes, allocated once per Reader. Nothing is
// trusted sooner: the caller hashes every byte, and the entry's last
// chunk carries the verdict, as with a plain VerifyingReader.
//
// Two buffers are enough: one is filled while the other is hashed, and a
// hand-over is a channel send. Each buffer's pages are new memory that the
// reading goroutine faults in before the first entry flows, a cost paid
// by every load and verify: with four, `ferry load` of a 47 MiB bundle
// into a fresh home took 176 ms instead of 165 (median of 20, on a VM
// where a page fault costs 12 µs), and BenchmarkReader ran 3% slower.
const (
	readAheadBuffers = 2
	// readAheadMin is the smallest entry read ahead; a goroutine is not
	// worth it for a manifest.
	readAheadMin = 2 * copyBuffer
)

// endEntry stops the current entry's read-ahead and forgets the entry.
func (r *Reader) endEntry() {
	if r.ra != nil {
		r.ra.Close()
		r.ra = nil
	}
	r.ver, r.curErr, r.verdict = nil, nil, nil
}

func (r *Reader) readAheadBuffers() [][]byte {
	if r.bufs == nil {
		for range readAheadBuffers {
			r.bufs = append(r.bufs, make([]byte, copyBuffer))
		}
	}
	return r.bufs
}

func (r *Reader) nextHeader() (*tar.Header, error) {
	if h := r.pending; h != nil {
		r.pending = nil
		return h, nil
	}
	return r.next()
}

// admit checks a header against the index.
func (r *Reader) admit(h *tar.Header) (*Entry, error) {
	l, ok := r.want[h.Name]
	d := blobDigest(h.Name)
	if ok && l.Blob != nil {
		d = l.Blob.Digest // a delta's entry is named for the layer it rebuilds
	} else if ok {
		d = l.Digest
	}
	refuse := func(err error) error { return &EntryError{Name: h.Name, Digest: d, Err: err} }
	switch {
	case !ok && len(r.unknown) > 0:
		return nil, refuse(fmt.Errorf("not listed in the index, or an entry of kind %q unknown to this ferry", clipKind(r.unknown[0].Kind)))
	case !ok && d == "" && !isFileName(h.Name):
		return nil, refuse(errNameRefused)
	}
	if err := checkType(h); err != nil {
		return nil, refuse(err)
	}
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
	case l.status == statusElsewhere:
		return nil, refuse(fmt.Errorf("the index says another volume of the set carries it, not volume %d", r.ix.Volume))
	case h.Size != l.Size:
		return nil, refuse(fmt.Errorf("size %d, the index lists %d", h.Size, l.Size))
	}
	e := l.Entry
	return &e, nil
}

// clipKind shortens a kind from the index for a message.
func clipKind(k string) string {
	if len(k) > 40 {
		return k[:40] + "…"
	}
	return k
}

// Read reads the current entry's bytes, hashed as they stream: at the end
// a *spec.VerifyError if they are not what the index lists (not fatal for
// the stream). Reading a refused entry returns its *EntryError.
func (r *Reader) Read(p []byte) (int, error) {
	b, err := r.entryRead(p)
	return len(b), err
}

// WriteTo copies the current entry to w in large buffers, the read-ahead's
// own when it runs (no copy); io.Copy uses it. It returns nil at the end
// of a good entry.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if r.buf == nil && r.ra == nil {
		r.buf = make([]byte, copyBuffer)
	}
	var total int64
	for {
		var p []byte
		if r.ra == nil {
			p = r.buf
		}
		b, err := r.entryRead(p)
		if len(b) > 0 {
			m, werr := w.Write(b)
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

// Promise returns the digest and size the current entry's bytes are
// checked against (spec.SelfVerifying), so that a store ingesting them
// does not hash them again; "" when there is no entry to read.
func (r *Reader) Promise() (digest.Digest, int64) {
	if r.ver == nil || r.curErr != nil {
		return "", 0
	}
	return r.ver.Promise()
}

// entryRead returns the next bytes of the current entry: copied into p,
// or with p nil a buffer of the read-ahead, valid until the next call.
// Every byte is hashed; at the entry's end it returns io.EOF, or the
// *spec.VerifyError when the bytes are not what the index lists. A fault
// of the stream is fatal.
func (r *Reader) entryRead(p []byte) ([]byte, error) {
	switch {
	case r.err != nil && r.err != io.EOF:
		return nil, r.err
	case r.curErr != nil:
		return nil, r.curErr
	case r.ver == nil:
		return nil, io.EOF
	case r.verdict != nil:
		return nil, r.verdict
	}
	var b []byte
	var err error
	switch {
	case r.ra != nil && p == nil:
		b, err = r.ra.Next()
	case r.ra != nil:
		var n int
		n, err = r.ra.Read(p)
		b = p[:n]
	default:
		var n int
		n, err = r.tr.Read(p)
		b = p[:n]
	}
	if _, verr := r.ver.Write(b); verr != nil {
		r.verdict = verr
		return nil, verr
	}
	switch {
	case err == io.EOF:
		if r.verdict = r.ver.Verify(); r.verdict == nil {
			r.verdict = io.EOF
		}
		return b, r.verdict
	case err != nil:
		r.err = r.fault(err)
		return b, r.err
	}
	return b, nil
}
