package trip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"
)

// sink consumes one entry's verified bytes; an error that is a
// *spec.VerifyError costs only that entry. A sink may instead give the
// entry's verdict for later (later, with err nil): scan waits for it
// before it records any fault of a later entry, and at the end.
type sink func(ctx context.Context, e *format.Entry, r io.Reader) (later func() error, err error)

// now is a sink that gives every entry's verdict at once.
func now(fn func(ctx context.Context, e *format.Entry, r io.Reader) error) sink {
	return func(ctx context.Context, e *format.Entry, r io.Reader) (func() error, error) {
		return nil, fn(ctx, e, r)
	}
}

// discarder is a source that reads an entry to its end and hashes it on
// another goroutine (format.Reader.Discard): the verdict comes later.
type discarder interface {
	Discard() (verdict func() error, err error)
}

// openBundle opens the bundle file path, or stdin for "-".
func openBundle(path string, stdin io.Reader) (io.ReadCloser, error) {
	if path != "-" {
		return os.Open(path)
	}
	if stdin == nil {
		return nil, fmt.Errorf("no standard input given: %w", spec.ErrBadInput)
	}
	return io.NopCloser(stdin), nil
}

// scan reads the bundle at path (standard input for "-") once, handing each entry to sink and
// recording every fault. A bad signature or index returns an error before
// sink is called at all.
//
// admit, if set, is asked about the verified index (and the key that
// signed it, nil when unchecked) before any entry is
// read; an error from it refuses the bundle with nothing read or written.
func scan(ctx context.Context, path string, opts CheckOptions, admit func(*format.Index, ssh.PublicKey) error, fn sink) (*Report, *format.Reader, map[digest.Digest]bool, error) {
	f, err := openBundle(path, opts.Stdin)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	defer f.Close()
	r, err := format.NewReader(f, format.ReaderOptions{Trust: opts.Trust, InsecureSkipSignature: opts.InsecureSkipSignature})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	defer r.Close()
	ix := r.Index()
	if t, ok := opts.Progress.(interface{ SetTotal(int64) }); ok {
		var total int64
		for _, b := range ix.Shipped() {
			if b.Delta != nil {
				total += b.Delta.Size // the entry's bytes, not its layer's
			} else {
				total += b.Size
			}
		}
		t.SetTotal(total)
	}
	if admit != nil {
		if err := admit(ix, r.Key()); err != nil {
			return nil, nil, nil, fmt.Errorf("bundle %s: %w", path, err)
		}
	}
	rep := &Report{Bundle: path, Index: ix, ID: ix.ID, From: ix.From.Site, Signer: ix.From.Fingerprint, Faults: []Fault{}}
	for _, im := range ix.Refused {
		rep.fault("refused image", Fault{Digest: im.Digest, What: "image left out: " + im.Err.Error()})
	}
	if r.Key() == nil {
		rep.Signer = "unverified"
	}
	good := map[digest.Digest]bool{}
	passed := func(e *format.Entry) {
		rep.Bytes += e.Size
		if e.Kind == spec.KindBlob || e.Kind == spec.KindDelta {
			good[blobOf(e)] = true
		}
	}
	// Entries whose sink gave their verdict for later (a hash running on
	// another goroutine), in stream order: settled before any later fault
	// is recorded, so that the report lists faults in the order of the
	// stream.
	type deferred struct {
		e       *format.Entry
		verdict func() error
	}
	var later []deferred
	settle := func() {
		for _, d := range later {
			if err := d.verdict(); err != nil {
				rep.fault(faultKind(err), Fault{Entry: d.e.Name, Digest: blobOf(d.e), What: err.Error()})
			} else {
				passed(d.e)
			}
		}
		later = later[:0]
	}
	defer settle() // on an early return too, every hash has ended when scan returns
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			settle()
		}
		var ee *format.EntryError
		if errors.As(err, &ee) {
			rep.fault(faultKind(ee), Fault{Entry: ee.Name, Digest: ee.Digest, What: ee.Err.Error()})
			continue
		}
		if err != nil {
			rep.fault("stream", Fault{What: err.Error()})
			break
		}
		rep.Entries++
		if opts.Progress != nil && e.Kind != spec.KindFile {
			opts.Progress.Blob(e.Digest, e.Size)
		}
		var src io.Reader = r
		if opts.Progress != nil {
			src = &countingReader{r: r, p: opts.Progress}
		}
		verdict, err := fn(ctx, e, src)
		if err == nil && verdict != nil {
			later = append(later, deferred{e, verdict})
			continue
		}
		if err != nil {
			settle()
			if !isEntryFault(err) && errors.Is(err, spec.ErrCorrupt) {
				// The stream broke inside this entry (spec/bundle-v1.md 5.2):
				// everything after is lost, what verified before is kept.
				rep.fault("stream", Fault{Entry: e.Name, Digest: blobOf(e), What: err.Error()})
				break
			}
			if !isEntryFault(err) {
				return nil, nil, nil, fmt.Errorf("bundle %s: entry %s: %w", path, e.Name, err)
			}
			rep.fault(faultKind(err), Fault{Entry: e.Name, Digest: blobOf(e), What: err.Error()})
			continue
		}
		passed(e)
	}
	settle()
	for _, m := range r.Missing() {
		rep.fault("listed in the index but not in the bundle", Fault{Entry: m, What: "listed in the index but not in the bundle"})
	}
	for _, b := range r.Unsupported() {
		rep.fault("unknown kind", Fault{Digest: b.Digest, What: fmt.Sprintf("kind %q is unknown to this ferry (a newer one reads it): not received", b.Kind)})
	}
	rep.summarize()
	return rep, r, good, nil
}

// isEntryFault tells a fault that costs one entry (its bytes, or the
// layer its delta did not rebuild) from one that stops the scan.
func isEntryFault(err error) bool {
	return errors.As(err, new(*spec.VerifyError)) || errors.As(err, new(*format.EntryError)) || errors.As(err, new(*DeltaError))
}

// blobOf is the digest of the blob an entry carries: a delta's layer, not
// the delta; "" for the layout files.
func blobOf(e *format.Entry) digest.Digest {
	if e.Blob != nil {
		return e.Blob.Digest
	}
	return e.Digest
}
