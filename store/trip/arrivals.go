package trip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// arrivals serves the blobs of a bundle while it is being loaded, to the
// targets that send blobs ahead (runtime.BlobSender). A blob the bundle
// ships is followed as it is written into the store (store.Follower): a
// fetch of it reads its bytes as they are written, waits for the next
// ones, and ends only once the load has verified them all (a
// spec.VerifyError or a broken entry fails the read instead, so a target
// never completes an upload of bad bytes); once the blob is named, the
// rest is read from the store. A fetch before its bytes start waits for
// them; a damaged or missing blob fails. A blob the bundle does not ship
// is the store's at once.
type arrivals struct {
	store   runtime.Fetcher
	mu      sync.Mutex
	shipped map[digest.Digest]*arrival
}

// arrival is what is known of a shipped blob.
type arrival struct {
	done    chan struct{} // closed when its fate is known: named in the store (good) or lost
	good    bool
	file    *os.File // its temporary file while it is written (store.Follower)
	written int64
	ended   bool          // every byte written: verified when err is nil
	err     error         // why its bytes failed
	changed chan struct{} // closed, and replaced, at every change
}

func newArrivals(store runtime.Fetcher, ix *format.Index) *arrivals {
	a := &arrivals{store: store, shipped: map[digest.Digest]*arrival{}}
	for _, b := range ix.Shipped() {
		a.shipped[b.Digest] = &arrival{done: make(chan struct{}), changed: make(chan struct{})}
	}
	return a
}

// update changes d's arrival with a.mu held and wakes its readers.
func (a *arrivals) update(d digest.Digest, change func(*arrival)) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ar, ok := a.shipped[d]
	if !ok {
		return
	}
	change(ar)
	close(ar.changed)
	ar.changed = make(chan struct{})
}

// Begin, Wrote and End follow a shipped blob's bytes as the load writes
// them (store.Follower).
func (a *arrivals) Begin(d digest.Digest, f *os.File) {
	a.update(d, func(ar *arrival) { ar.file, ar.written, ar.ended, ar.err = f, 0, false, nil })
}

func (a *arrivals) Wrote(d digest.Digest, n int64) {
	a.update(d, func(ar *arrival) { ar.written = n })
}

func (a *arrivals) End(d digest.Digest, err error) {
	a.update(d, func(ar *arrival) { ar.ended, ar.err = true, err })
}

// arrived records a shipped blob as ingested (good) or lost.
func (a *arrivals) arrived(d digest.Digest, good bool) {
	a.update(d, func(ar *arrival) {
		select {
		case <-ar.done:
		default:
			ar.good = good
			close(ar.done)
		}
	})
}

// end marks every shipped blob not yet arrived as lost.
func (a *arrivals) end() {
	for d := range a.shipped {
		a.arrived(d, false)
	}
}

func (a *arrivals) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	a.mu.Lock()
	ar, ok := a.shipped[desc.Digest]
	a.mu.Unlock()
	if !ok {
		return a.store.Fetch(ctx, desc)
	}
	for {
		a.mu.Lock()
		named, following, failed, changed := closed(ar.done), ar.file != nil, ar.ended && ar.err != nil, ar.changed
		a.mu.Unlock()
		switch {
		case named:
			return a.named(ctx, desc, ar)
		case failed:
			return nil, a.lost(desc.Digest, ar)
		case following:
			return &follower{a: a, ar: ar, ctx: ctx, desc: desc}, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// named opens a shipped blob from the store once its fate is known.
func (a *arrivals) named(ctx context.Context, desc ocispec.Descriptor, ar *arrival) (io.ReadCloser, error) {
	a.mu.Lock()
	good := ar.good
	a.mu.Unlock()
	if !good {
		return nil, a.lost(desc.Digest, ar)
	}
	return a.store.Fetch(ctx, desc)
}

// lost is the error of a shipped blob the load did not keep.
func (a *arrivals) lost(d digest.Digest, ar *arrival) error {
	a.mu.Lock()
	err := ar.err
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("blob %s: damaged or missing in the bundle: %w", d, err)
	}
	return fmt.Errorf("blob %s: damaged or missing in the bundle: %w", d, spec.ErrNotFound)
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// follower reads a shipped blob as the load writes it: from its
// temporary file up to the bytes written, then, once that file is
// closed (the blob named), from the store. It returns io.EOF only after
// the load verified every byte, so it checks its bytes itself
// (spec.SelfVerifying): they are the ones the load hashed.
type follower struct {
	a       *arrivals
	ar      *arrival
	ctx     context.Context
	desc    ocispec.Descriptor
	off     int64
	rc      io.ReadCloser // the store's file, once named
	tmpGone bool          // the temporary file was closed
}

var _ spec.SelfVerifying = (*follower)(nil)

func (f *follower) Promise() (digest.Digest, int64) { return f.desc.Digest, f.desc.Size }

func (f *follower) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if f.rc != nil {
			n, err := f.rc.Read(p)
			f.off += int64(n)
			return n, err
		}
		a := f.a
		a.mu.Lock()
		file, written, ended, ferr, changed := f.ar.file, f.ar.written, f.ar.ended, f.ar.err, f.ar.changed
		named, good := closed(f.ar.done), f.ar.good
		a.mu.Unlock()
		switch {
		case ended && ferr != nil, named && !good:
			return 0, a.lost(f.desc.Digest, f.ar)
		case !f.tmpGone && f.off < written:
			n, err := file.ReadAt(p[:min(int64(len(p)), written-f.off)], f.off)
			f.off += int64(n)
			if n > 0 {
				return n, nil
			}
			if errors.Is(err, os.ErrClosed) {
				f.tmpGone = true // committed, or removed: named or lost next
				continue
			}
			if err != nil && err != io.EOF {
				return 0, err
			}
			continue
		case ended && f.off >= f.desc.Size:
			return 0, io.EOF
		case named && f.tmpGone:
			rc, err := a.store.Fetch(f.ctx, f.desc)
			if err != nil {
				return 0, err
			}
			s, ok := rc.(io.Seeker)
			if !ok {
				rc.Close()
				return 0, fmt.Errorf("blob %s: the store's file cannot seek", f.desc.Digest)
			}
			if _, err := s.Seek(f.off, io.SeekStart); err != nil {
				rc.Close()
				return 0, err
			}
			f.rc = rc
			continue
		}
		select {
		case <-changed:
		case <-f.ctx.Done():
			return 0, f.ctx.Err()
		}
	}
}

func (f *follower) Close() error {
	if f.rc == nil {
		return nil
	}
	return f.rc.Close()
}

// sendAhead starts, for every target that can take blobs ahead of its
// images (runtime.BlobSender), the sending of the bundle's images' blobs
// as they arrive, so that a load into a registry uploads while it
// verifies and ingests. Nothing is named or tagged: the targets' Write
// does that once the images are recorded, and finds the blobs sent.
// wait ends the sending (after a.end, or with ctx cancelled) and waits
// for it; its errors are dropped, since Write sends whatever is missing
// and reports its own faults.
func sendAhead(ctx context.Context, ix *format.Index, targets []Destination, a *arrivals) (wait func()) {
	images := runtimeImages(ix.Images)
	var wg sync.WaitGroup
	for _, t := range targets {
		if bs, ok := t.Target.(runtime.BlobSender); ok && len(images) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				bs.SendBlobs(ctx, images, a)
			}()
		}
	}
	return wg.Wait
}

// sendsAhead reports whether any of targets takes blobs ahead
// (runtime.BlobSender).
func sendsAhead(targets []Destination) bool {
	for _, t := range targets {
		if _, ok := t.Target.(runtime.BlobSender); ok {
			return true
		}
	}
	return false
}
