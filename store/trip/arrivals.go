package trip

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// arrivals serves the blobs of a bundle while it is being loaded, to the
// targets that send blobs ahead (runtime.BlobSender): a blob the bundle
// ships is served from the store once it has been verified and ingested,
// and a fetch of it waits until then; a damaged or missing one fails. A
// blob the bundle does not ship is the store's at once.
type arrivals struct {
	store   runtime.Fetcher
	mu      sync.Mutex
	shipped map[digest.Digest]chan struct{} // closed when the blob's fate is known
	good    map[digest.Digest]bool
}

func newArrivals(store runtime.Fetcher, ix *format.Index) *arrivals {
	a := &arrivals{store: store, shipped: map[digest.Digest]chan struct{}{}, good: map[digest.Digest]bool{}}
	for _, b := range ix.Shipped() {
		a.shipped[b.Digest] = make(chan struct{})
	}
	return a
}

// arrived records a shipped blob as ingested (good) or lost.
func (a *arrivals) arrived(d digest.Digest, good bool) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ch, ok := a.shipped[d]
	if !ok || a.good[d] {
		return
	}
	a.good[d] = good
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// end marks every shipped blob not yet arrived as lost.
func (a *arrivals) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ch := range a.shipped {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
}

func (a *arrivals) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	a.mu.Lock()
	ch, ok := a.shipped[desc.Digest]
	a.mu.Unlock()
	if ok {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		a.mu.Lock()
		good := a.good[desc.Digest]
		a.mu.Unlock()
		if !good {
			return nil, fmt.Errorf("blob %s: damaged or missing in the bundle: %w", desc.Digest, spec.ErrNotFound)
		}
	}
	return a.store.Fetch(ctx, desc)
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
