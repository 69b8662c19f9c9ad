package trip

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/readahead"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// A far blob fetched in its turn is read ahead into readAheadBuffers
// buffers of readAheadBuffer bytes when it holds at least readAheadMin:
// for a smaller one the buffers would cost more memory than the overlap
// saves time.
const (
	readAheadBuffers = 4
	readAheadBuffer  = 1 << 20
	readAheadMin     = 16 << 20
)

// Only blobs of at most prefetchBlob bytes are fetched ahead, at most
// prefetchBytes of them at a time (the disk a save borrows in the home's
// tmp/ beyond the bundle itself): a larger blob streams in its turn, read
// ahead in memory, since the writer would only wait for its whole file.
// So does a blob with less than prefetchAfter bytes to write before it
// (a layer after its config): there is no time to fetch it ahead in, and
// its file would only be written and read back.
const (
	prefetchBlob  = 64 << 20
	prefetchBytes = 256 << 20
	prefetchAfter = 2 << 20
)

// prefetcher fetches the blobs a bundle writes next, from sources that
// are far (runtime.Distant: a registry), into temporary files while the
// writer streams the current one, several at once: a registry serves
// each stream at its own pace, and the writer no longer waits for each
// request to start. It holds no blob in memory, only files in dir, each
// removed once written (or when the save ends). The bytes are verified
// as they are written into the bundle, like any other source's.
type prefetcher struct {
	ctx   context.Context
	fetch runtime.Fetcher
	blobs []format.Blob // shipped, in the order they are written
	dir   string
	far   func(format.Blob) bool // whether the blob comes over a network
	ahead func(format.Blob) int  // how many to fetch ahead for this blob's source; 0: none

	bufs [][]byte // the read-ahead's, made once

	mu      sync.Mutex
	jobs    map[int]*prefetchJob
	pending int64 // bytes of jobs started and not yet opened
	started int   // blobs considered for prefetching: [0, started)
	wg      sync.WaitGroup
}

type prefetchJob struct {
	done chan struct{}
	path string
	size int64
	err  error
}

func newPrefetcher(ctx context.Context, p *Plan, blobs []format.Blob, dir string) *prefetcher {
	pf := &prefetcher{ctx: ctx, fetch: p, blobs: blobs, dir: dir, jobs: map[int]*prefetchJob{}}
	pf.far = func(b format.Blob) bool {
		_, ok := p.from[b.Digest].from.(runtime.Distant)
		_, spooled := p.spools[b.Digest]
		// manifests are in memory; a delta and a layer fetched for one are files of the home
		return ok && p.Role(b.Digest) != RoleManifest && !spooled && b.Kind == spec.KindBlob
	}
	pf.ahead = func(b format.Blob) int {
		if !pf.far(b) || dir == "" {
			return 0
		}
		return p.from[b.Digest].from.(runtime.Distant).FetchAhead()
	}
	return pf
}

// open returns blob i's bytes, from its file when it was fetched ahead,
// else fetched now; and starts fetching the blobs after it.
func (pf *prefetcher) open(i int) (io.ReadCloser, error) {
	pf.startAfter(i)
	pf.mu.Lock()
	job := pf.jobs[i]
	delete(pf.jobs, i)
	pf.mu.Unlock()
	b := pf.blobs[i]
	desc := ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size}
	if job == nil {
		rc, err := pf.fetch.Fetch(pf.ctx, desc)
		if err != nil || !pf.far(b) || b.Size < readAheadMin {
			return rc, err
		}
		// Received and hashed on one core, written on the other.
		return &readAheadCloser{Reader: readahead.New(rc, pf.buffers()), rc: rc}, nil
	}
	<-job.done
	pf.mu.Lock()
	pf.pending -= job.size
	pf.mu.Unlock()
	pf.startAfter(i)
	if job.path == "" {
		return pf.fetch.Fetch(pf.ctx, desc)
	}
	defer os.Remove(job.path) // an open file stays readable
	if job.err != nil {
		// Fetched again in its turn: a fault of the source shows again,
		// and one of tmp/ (a full disk) costs only the time.
		return pf.fetch.Fetch(pf.ctx, desc)
	}
	return os.Open(job.path)
}

func (pf *prefetcher) buffers() [][]byte {
	if pf.bufs == nil {
		for range readAheadBuffers {
			pf.bufs = append(pf.bufs, make([]byte, readAheadBuffer))
		}
	}
	return pf.bufs
}

// readAheadCloser is a blob read ahead; Close ends the fetch first, so
// that a read under way returns, then the read-ahead.
type readAheadCloser struct {
	*readahead.Reader
	rc io.ReadCloser
}

// Promise is the fetched stream's own, when it checks its bytes
// (spec.SelfVerifying): the read-ahead hands on its bytes, and its
// verdict at their end, as they are.
func (r *readAheadCloser) Promise() (digest.Digest, int64) {
	if sv, ok := r.rc.(spec.SelfVerifying); ok {
		return sv.Promise()
	}
	return "", 0
}

func (r *readAheadCloser) Close() error {
	err := r.rc.Close()
	r.Reader.Close()
	return err
}

// startAfter starts fetching the blobs after i, as many at once as their
// source says and prefetchBytes allows.
func (pf *prefetcher) startAfter(i int) {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.started = max(pf.started, i+1)
	var before int64 // bytes written from blob i on, before blob j
	for _, b := range pf.blobs[i:pf.started] {
		before += b.Size
	}
	for j := pf.started; j < len(pf.blobs); j++ {
		b := pf.blobs[j]
		n := pf.ahead(b)
		if b.Size > prefetchBlob || before < prefetchAfter {
			n = 0
		}
		before += b.Size
		if n > 0 && (len(pf.jobs) >= n || pf.pending+b.Size > prefetchBytes) {
			return
		}
		pf.started = j + 1
		if n == 0 {
			continue // fetched in its turn
		}
		job := &prefetchJob{done: make(chan struct{}), size: b.Size}
		pf.jobs[j] = job
		pf.pending += b.Size
		pf.wg.Add(1)
		go pf.run(job, b)
	}
}

func (pf *prefetcher) run(job *prefetchJob, b format.Blob) {
	defer pf.wg.Done()
	defer close(job.done)
	f, err := os.CreateTemp(pf.dir, ".ferry-prefetch-*")
	if err != nil {
		job.err = err
		return
	}
	job.path = f.Name()
	rc, err := pf.fetch.Fetch(pf.ctx, ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size})
	if err == nil {
		_, err = io.Copy(f, io.LimitReader(runtime.ContextReader(pf.ctx, rc), b.Size+1))
		rc.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	job.err = err
}

// close waits for the fetches still running (the save's context ends
// them when it fails) and removes their files.
func (pf *prefetcher) close() {
	pf.wg.Wait()
	pf.mu.Lock()
	defer pf.mu.Unlock()
	for i, job := range pf.jobs {
		if job.path != "" {
			os.Remove(job.path)
		}
		delete(pf.jobs, i)
	}
}
