package format

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/internal/readahead"
	"github.com/ferryhq/ferry/spec"
)

// ReaderOptions say whom a Reader trusts.
type ReaderOptions struct {
	// Trust is called with the verified index and the key that signed it;
	// it returns an error (wrapping spec.ErrUnknownSite) if the key is not
	// trusted for ix.From.Site. Required unless InsecureSkipSignature.
	Trust func(ix *Index, key ssh.PublicKey) error
	// InsecureSkipSignature reads a bundle without checking (or
	// requiring) its signature, for inspect on an unknown bundle.
	InsecureSkipSignature bool
}

// Reader reads a bundle in one pass and in constant memory. NewReader
// reads and verifies the index and its signature; Next then returns each
// later entry, whose bytes Read returns, hashed as they stream.
//
// Faults of one entry are *EntryError and not fatal. Faults of the stream
// (tar structure, truncation, zstd, too many entries, the input's own read
// errors) are sticky: every later call returns the same error.
type Reader struct {
	envelope
	opts        ReaderOptions
	raw         []byte
	sig         []byte
	ix          *Index
	key         ssh.PublicKey
	want        map[string]listed
	unknown     []Blob // shipped blobs of kinds this build does not know
	seen        map[string]bool
	pending     *tar.Header // entry 2 of an unsigned bundle read with InsecureSkipSignature
	entries     int
	ver         *spec.Verifier    // the current entry's, nil when there is none
	ra          *readahead.Reader // the current entry's read-ahead, if it runs
	curErr      error             // the current entry's fault
	verdict     error             // the current entry's end: io.EOF or a *spec.VerifyError
	buf         []byte
	bufs        [][]byte    // the read-ahead's
	discard     chan []byte // Discard's free buffers
	discardMade int         // buffers Discard has made
	err         error
}

var _ spec.SelfVerifying = (*Reader)(nil)

// listed is an entry as the index lists it.
type listed struct {
	Entry
	status string
}

// NewReader reads the index and its signature from r, a zstd-compressed
// or plain tar bundle (sniffed), and checks them: the signature over the
// exact index bytes, the index itself (ParseIndex), that the index names
// the key that signed it, and opts.Trust. On any fault it returns an error
// and has read nothing more than those two entries.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	if opts.Trust == nil && !opts.InsecureSkipSignature {
		return nil, fmt.Errorf("format: ReaderOptions.Trust is required unless InsecureSkipSignature: %w", spec.ErrBadInput)
	}
	env, err := openEnvelope("bundle", r, headerBudget,
		zstd.WithDecoderLowmem(true), zstd.WithDecoderConcurrency(0), zstd.IgnoreChecksum(true))
	if err != nil {
		return nil, err
	}
	br := &Reader{envelope: env, opts: opts}
	if err := br.readHeader(); err != nil {
		br.Close()
		return nil, err
	}
	br.indexEntries()
	return br, nil
}

// Byte budget of the decoded stream. A good bundle holds its index and
// signature, the listed entries' bytes, and per entry a tar header with
// padding (and PAX records, at most a few hundred bytes): anything beyond
// budget() is refused as fatal, however well it compresses.
const (
	headerBudget   = spec.MaxIndexSize + spec.MaxSignatureSize + 64<<10
	perEntryBudget = 4 << 10
	slackBudget    = 1 << 20
)

func (r *Reader) budget() int64 {
	total := int64(headerBudget + slackBudget + 16*perEntryBudget)
	for _, l := range r.want {
		if l.status == spec.StatusShipped {
			total += l.Size + perEntryBudget
		}
	}
	for _, b := range r.unknown {
		total += b.Size + perEntryBudget // a kind's entry is never larger than its blob (section 7)
	}
	return total
}

// readHeader reads entries 1 and 2 and checks them.
func (r *Reader) readHeader() error {
	raw, err := r.entry(spec.IndexEntry, spec.MaxIndexSize, spec.ErrCorrupt)
	if errors.Is(err, errOtherFile) {
		return err
	}
	if err != nil && r.tarIn.n <= 512 && !errors.Is(err, spec.ErrTooLarge) {
		// Not even one tar header: most likely not a bundle at all.
		return fmt.Errorf("not a ferry bundle (no %s entry first): %w", spec.IndexEntry, err)
	}
	if err != nil {
		return fmt.Errorf("bundle index: %w", err)
	}
	r.raw = raw
	if err := r.readSignature(); err != nil {
		return err
	}
	if !r.opts.InsecureSkipSignature {
		key, err := VerifySignature(r.sig, spec.SignatureNamespace, raw)
		if err != nil {
			return fmt.Errorf("signature: %w", err)
		}
		r.key = key
	}
	ix, err := ParseIndex(raw)
	if err != nil {
		return fmt.Errorf("bundle index: %w", err)
	}
	r.ix = ix
	if r.key == nil {
		return nil
	}
	if err := checkSigner(r.key, ix.From.Fingerprint, "index"); err != nil {
		return err
	}
	if err := r.opts.Trust(ix, r.key); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	return nil
}

func (r *Reader) readSignature() error {
	h, err := r.nextHeader()
	if err != nil && err != io.EOF {
		return err
	}
	if err == io.EOF || h.Name != spec.SignatureEntry {
		if !r.opts.InsecureSkipSignature {
			return fmt.Errorf("signature: no %s entry after the index: %w", spec.SignatureEntry, spec.ErrUnsigned)
		}
		r.pending = h
		return nil
	}
	sig, err := r.small(h, spec.SignatureEntry, spec.MaxSignatureSize, spec.ErrUnsigned)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	r.sig = sig
	return nil
}

func (r *Reader) indexEntries() {
	r.want = make(map[string]listed, len(r.ix.Files)+len(r.ix.Blobs))
	if r.ix.IsSet() {
		for _, e := range r.ix.Entries(0) { // of every volume: refused here as another's
			r.want[e.Name] = listed{Entry: e, status: statusElsewhere}
		}
	}
	for _, e := range r.ix.Entries(r.ix.Volume) {
		r.want[e.Name] = listed{Entry: e, status: spec.StatusShipped}
	}
	for i := range r.ix.Blobs {
		b := &r.ix.Blobs[i]
		_, known := kinds[b.Kind]
		switch {
		case !known && b.Status == spec.StatusShipped:
			r.unknown = append(r.unknown, *b)
		case known && b.Status == spec.StatusPrerequisite:
			for _, e := range blobEntries(b) {
				r.want[e.Name] = listed{Entry: e, status: b.Status}
			}
		}
	}
	r.tarIn.limit = r.budget()
	r.seen = make(map[string]bool, len(r.want))
}

// statusElsewhere marks, in a volume of a set, an entry that another
// volume carries.
const statusElsewhere = "elsewhere"

// Index returns the verified index.
func (r *Reader) Index() *Index { return r.ix }

// RawIndex returns the index bytes exactly as signed.
func (r *Reader) RawIndex() []byte { return r.raw }

// Signature returns the armored signature, nil when there was none.
func (r *Reader) Signature() []byte { return r.sig }

// Key returns the key that signed the bundle; nil when the signature was
// skipped.
func (r *Reader) Key() ssh.PublicKey { return r.key }

// Missing returns, sorted, the names of the listed files and shipped blobs
// ("blobs/sha256/<hex>") that have not been met in the stream. Call it
// after Next returned io.EOF. Entries met but refused are not missing:
// Next reported them.
func (r *Reader) Missing() []string {
	var out []string
	for name, l := range r.want {
		if l.status == spec.StatusShipped && !r.seen[name] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Unsupported returns the shipped blobs of kinds this ferry does not know
// (spec/bundle-v1.md section 7): their entries are refused, and the blobs
// count as not received.
func (r *Reader) Unsupported() []Blob { return r.unknown }

// Close releases the zstd decoder and its goroutines; call it on every
// Reader. It does not close the underlying reader.
func (r *Reader) Close() error {
	r.endEntry()
	r.closeDecoder()
	if r.err == nil || r.err == io.EOF {
		r.err = errors.New("bundle: reader closed")
	}
	return nil
}
