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
// A blob with less than prefetchAfter bytes to write before it (the
// first layers, after the configs), of any size, is only opened ahead:
// its request is sent as soon as the save starts, while the bundle's
// header is signed and written, and its stream waits for the writer.
// There is no time to fetch it into a file, which would only be written
// and read back; but the writer no longer waits a round trip for each.
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
	ctx    context.Context
	cancel context.CancelFunc // ends the fetches under way (close)
	fetch  runtime.Fetcher
	blobs  []format.Blob // shipped, in the order they are written
	dir    string
	far    func(format.Blob) bool // whether the blob comes over a network
	ahead  func(format.Blob) int  // how many to fetch ahead for this blob's source; 0: none

	bufs [][]byte // the read-ahead's, made once

	mu      sync.Mutex
	jobs    map[int]*prefetchJob
	pending int64 // bytes of jobs started and not yet opened
	started int   // blobs considered for prefetching: [0, started)
	wg      sync.WaitGroup
}

type prefetchJob struct {
	done chan struct{}
	path string        // fetched into this file
	rc   io.ReadCloser // or only opened (path "")
	size int64         // of the file, counted in pending
	err  error
}

// newPrefetcher starts fetching blobs, the shipped ones in the order the
// bundle writes them: it opens the first far ones and fetches ahead the
// next (see startAfter) before the writer asks for any. close ends it.
func newPrefetcher(ctx context.Context, p *Plan, blobs []format.Blob, dir string) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	pf := &prefetcher{ctx: ctx, cancel: cancel, fetch: p, blobs: blobs, dir: dir, jobs: map[int]*prefetchJob{}}
	far := map[digest.Digest]bool{}
	for _, b := range blobs {
		_, ok := p.from[b.Digest].from.(runtime.Distant)
		_, spooled := p.spools[b.Digest]
		// manifests and the configs read are in memory; a delta and a
		// layer fetched for one are files of the home
		far[b.Digest] = ok && p.Role(b.Digest) != RoleManifest && !p.inMemory(b.Digest) && !spooled && b.Kind == spec.KindBlob
	}
	pf.far = func(b format.Blob) bool { return far[b.Digest] }
	pf.ahead = func(b format.Blob) int {
		if !pf.far(b) || dir == "" {
			return 0
		}
		return p.from[b.Digest].from.(runtime.Distant).FetchAhead()
	}
	pf.startAfter(-1)
	return pf
}

// inMemory reports whether a graph of the plan keeps blob d in memory
// (runtime.Graph.Holds): it is served from there, not fetched.
func (p *Plan) inMemory(d digest.Digest) bool {
	for _, g := range p.graphs {
		if g.Holds(d) {
			return true
		}
	}
	return false
}

// open returns blob i's bytes, from its file when it was fetched ahead,
// its stream when it was opened ahead, else fetched now; and starts
// fetching the blobs after it.
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
		if err != nil {
			return nil, err
		}
		return pf.readAhead(b, rc), nil
	}
	<-job.done
	pf.mu.Lock()
	pf.pending -= job.size
	pf.mu.Unlock()
	pf.startAfter(i)
	if job.rc != nil {
		return pf.readAhead(b, job.rc), nil
	}
	if job.path == "" { // not opened: opened again in its turn, where a fault shows again
		return pf.fetch.Fetch(pf.ctx, desc)
	}
	defer os.Remove(job.path) // an open file stays readable
	if job.err != nil {
		// Fetched again in its turn: a fault of the source shows again,
		// and one of tmp/ (a full disk) costs only the time.
		return pf.fetch.Fetch(pf.ctx, desc)
	}
	f, err := os.Open(job.path)
	if err != nil {
		return nil, err
	}
	return &fetchedFile{f: f, d: b.Digest, size: b.Size}, nil
}

// fetchedFile is a blob fetched ahead into a file of this process, whose
// bytes were hashed and found to be the blob as they were written (run),
// a moment before: it promises them (spec.SelfVerifying), so that the
// writer does not hash them a second time, and fails at EOF if the file
// no longer holds exactly size bytes. As the store's verifiedFile, it
// trusts a file in the home that only this process wrote; the site
// hashes every byte of the bundle again. Only Read and Close: an
// *os.File's WriteTo would pass by the check.
type fetchedFile struct {
	f    *os.File
	d    digest.Digest
	size int64
	n    int64
}

var _ spec.SelfVerifying = (*fetchedFile)(nil)

func (f *fetchedFile) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	f.n += int64(n)
	if f.n > f.size || err == io.EOF && f.n != f.size {
		return n, &spec.VerifyError{Want: f.d, WantSize: f.size, GotSize: f.n}
	}
	return n, err
}

func (f *fetchedFile) Close() error { return f.f.Close() }

func (f *fetchedFile) Promise() (digest.Digest, int64) { return f.d, f.size }

// readAhead returns the stream of blob b, read ahead in memory when it is
// far and large: received and hashed on one core, written on the other.
func (pf *prefetcher) readAhead(b format.Blob, rc io.ReadCloser) io.ReadCloser {
	if !pf.far(b) || b.Size < readAheadMin {
		return rc
	}
	return &readAheadCloser{Reader: readahead.New(rc, pf.buffers()), rc: rc}
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

// startAfter starts fetching the blobs after i (-1: from the first), as
// many at once as their source says and prefetchBytes allows: opened
// only, those with less than prefetchAfter bytes before them.
func (pf *prefetcher) startAfter(i int) {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.started = max(pf.started, i+1)
	var before int64 // bytes written from blob i on, before blob j
	for _, b := range pf.blobs[max(i, 0):pf.started] {
		before += b.Size
	}
	for j := pf.started; j < len(pf.blobs); j++ {
		b := pf.blobs[j]
		n := pf.ahead(b)
		near := before < prefetchAfter
		if b.Size > prefetchBlob && !near {
			n = 0
		}
		before += b.Size
		if n > 0 && (len(pf.jobs) >= n || !near && pf.pending+b.Size > prefetchBytes) {
			return
		}
		pf.started = j + 1
		if n == 0 {
			continue // fetched in its turn
		}
		job := &prefetchJob{done: make(chan struct{})}
		pf.jobs[j] = job
		pf.wg.Add(1)
		if near {
			go pf.openAhead(job, b)
			continue
		}
		job.size = b.Size
		pf.pending += b.Size
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
		// Hashed as it arrives (once: a registry's stream checks itself),
		// so that the file is the blob when the copy succeeds.
		_, err = io.Copy(f, io.LimitReader(runtime.ContextReader(pf.ctx, spec.Verify(rc, b.Digest, b.Size)), b.Size+1))
		rc.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	job.err = err
}

// openAhead opens b's stream, for the writer to read in b's turn.
func (pf *prefetcher) openAhead(job *prefetchJob, b format.Blob) {
	defer pf.wg.Done()
	defer close(job.done)
	job.rc, job.err = pf.fetch.Fetch(pf.ctx, ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size})
}

// close ends the fetches still running, waits for them, and closes the
// streams and removes the files the writer did not take.
func (pf *prefetcher) close() {
	pf.cancel()
	pf.wg.Wait()
	pf.mu.Lock()
	defer pf.mu.Unlock()
	for i, job := range pf.jobs {
		if job.path != "" {
			os.Remove(job.path)
		}
		if job.rc != nil {
			job.rc.Close()
		}
		delete(pf.jobs, i)
	}
}
