package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/spec"
)

// batchCommits bounds the blobs written and not yet committed: open
// temporary files whose fsync is under way.
const batchCommits = 8

// Batch ingests blobs one after another, as Ingest does, but commits each
// new one (fsync, read-only, rename) in the background, so that a load of
// many blobs does not wait for the disk after each: the next blob is
// verified and written while the one before is synced. Flush waits for
// every commit and syncs the store's directory once. A blob gets its name
// only once its bytes are durable; a caller records a blob in the
// catalog only after Flush.
type Batch struct {
	b        *Store
	onCommit func(d digest.Digest, err error)
	follow   Follower
	slots    chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error
	renamed  bool
}

// NewBatch starts a batch; onCommit, if set, is told of each blob Ingest
// accepted once it has its name (or failed to get it), from any
// goroutine.
func (b *Store) NewBatch(onCommit func(d digest.Digest, err error)) *Batch {
	return &Batch{b: b, onCommit: onCommit, slots: make(chan struct{}, batchCommits)}
}

// Follower hears of a new blob's bytes as Batch.Ingest writes them, so
// that a reader may follow them before the blob is named (a load sends
// them on while it writes them): Begin with its temporary file, as soon
// as it is made (to be read with ReadAt only: it is closed once
// committed, and removed on failure); Wrote with the bytes written so
// far; End once every byte is written and verified (err nil) or not.
// Its methods are called from Ingest's goroutine and must not block.
type Follower interface {
	Begin(d digest.Digest, f *os.File)
	Wrote(d digest.Digest, n int64)
	End(d digest.Digest, err error)
}

// Follow makes f hear of every new blob Ingest writes from now on.
func (bt *Batch) Follow(f Follower) { bt.follow = f }

// Ingest verifies r against desc and writes it, as Store.Ingest does; a
// new blob's commit is left to the background (Stored), an error of it
// to Flush.
func (bt *Batch) Ingest(ctx context.Context, desc ocispec.Descriptor, r io.Reader) (Ingested, error) {
	p, err := bt.b.path(desc.Digest)
	if err != nil {
		return 0, fmt.Errorf("ingest: %w", err)
	}
	if desc.Size < 0 {
		return 0, fmt.Errorf("ingest blob %s: negative size %d: %w", desc.Digest, desc.Size, spec.ErrBadInput)
	}
	vr := spec.Verify(r, desc.Digest, desc.Size)
	if held, err := os.Open(p); err == nil {
		defer held.Close()
		got, err := bt.b.compare(ctx, desc, vr, held, p)
		if err != nil {
			return 0, ingestError(desc, err)
		}
		bt.b.markVerified(desc.Digest, p)
		bt.committed(desc.Digest, nil)
		return got, nil
	}
	f, err := bt.b.fill(ctx, vr, p, desc.Digest, bt.follow)
	if err != nil {
		return 0, ingestError(desc, err)
	}
	bt.slots <- struct{}{}
	bt.wg.Add(1)
	go func() {
		defer bt.wg.Done()
		err := f.CommitUnsynced(0o444)
		if err == nil {
			bt.b.markVerified(desc.Digest, p)
		} else {
			err = fmt.Errorf("ingest blob %s: %w", desc.Digest, err)
		}
		bt.mu.Lock()
		if err != nil && bt.err == nil {
			bt.err = err
		}
		bt.renamed = bt.renamed || err == nil
		bt.mu.Unlock()
		<-bt.slots
		bt.committed(desc.Digest, err)
	}()
	return Stored, nil
}

func (bt *Batch) committed(d digest.Digest, err error) {
	if bt.onCommit != nil {
		bt.onCommit(d, err)
	}
}

// Flush waits for every commit, syncs the store's directory, and returns
// the first commit's error.
func (bt *Batch) Flush() error {
	bt.wg.Wait()
	bt.mu.Lock()
	defer bt.mu.Unlock()
	if bt.renamed {
		bt.renamed = false
		if err := atomicfile.SyncDir(bt.b.shaDir()); err != nil && bt.err == nil {
			bt.err = err
		}
	}
	return bt.err
}

// fill writes vr to a temporary file for p, verified to its end, telling
// fl (if set) of blob d's bytes as they are written.
func (b *Store) fill(ctx context.Context, vr io.Reader, p string, d digest.Digest, fl Follower) (*atomicfile.File, error) {
	f, err := atomicfile.CreateIn(p, b.tmp, tmpPrefix+"ingest-*")
	if err != nil {
		return nil, err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	w := f.Writer()
	if fl != nil {
		fl.Begin(d, f.File)
		w = &followed{w: w, wrote: func(n int64) { fl.Wrote(d, n) }}
	}
	err = copyOut(ctx, w, vr, *buf)
	if fl != nil {
		fl.End(d, err)
	}
	if err != nil {
		f.Abort()
		return nil, err
	}
	return f, nil
}

// followed counts the bytes written through it, telling wrote the total.
type followed struct {
	w     io.Writer
	n     int64
	wrote func(int64)
}

func (f *followed) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.n += int64(n)
	if n > 0 {
		f.wrote(f.n)
	}
	return n, err
}

// copyOut copies vr to w as copyBuffer does, except that a reader that
// verifies itself and writes from its own buffers (a bundle's entry, read
// ahead: format.Reader.WriteTo) writes them to w directly, every byte
// hashed before it is handed on, saving a copy of each into buf. ctx is
// then checked before every write.
func copyOut(ctx context.Context, w io.Writer, vr io.Reader, buf []byte) error {
	_, self := vr.(spec.SelfVerifying)
	wt, ok := vr.(io.WriterTo)
	if !self || !ok {
		return copyBuffer(ctx, w, vr, buf)
	}
	_, err := wt.WriteTo(ctxWriter{ctx: ctx, w: w})
	return err
}

// ctxWriter fails every write once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
