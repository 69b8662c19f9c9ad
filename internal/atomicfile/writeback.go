package atomicfile

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// WritebackChunk is how many bytes Writer lets pile up before it asks for
// a sync in the background.
const WritebackChunk = 4 << 20

// syncFile syncs f; tests count and fail the background syncs through it.
var syncFile = (*os.File).Sync

// Writer returns a writer of f's bytes, in SmallWrites calls, that starts
// a sync of the file in the background every WritebackChunk bytes
// (coalesced: at most one runs, and one waits), so that the disk, and the
// device's cache flush that each sync ends with, keep up with the writes,
// and Commit's sync waits for the last chunk only. With writeback only
// started (sync_file_range) the cache flush of the whole file was left to
// Commit: 25-30 ms of a 46 MiB file's, 160-210 ms of a 512 MiB one's on
// the reference machine; after background syncs, 3-10 ms.
//
// Durability is still Commit's, which stops the background syncs before
// its own and fails if any of them did: on Linux a failed writeback is
// reported to one sync of the open file only, so an error dropped here
// would let Commit's sync succeed over lost bytes.
func (f *File) Writer() io.Writer { return writeback{f} }

type writeback struct{ f *File }

func (w writeback) Write(p []byte) (int, error) {
	n, err := smallWriter{w.f.File}.Write(p)
	w.f.Wrote(n)
	return n, err
}

// Wrote tells f of n bytes written to it other than through Writer (with
// WriteAt, in SmallWrites calls): they count towards its next background
// sync as Writer's do. Before the handle is closed or replaced, StopSyncs.
func (f *File) Wrote(n int) {
	f.written += int64(n)
	if f.written-f.asked >= WritebackChunk {
		f.syncInBackground()
		f.asked = f.written
	}
}

// StopSyncs waits for f's background syncs to end, so that its handle
// may be closed or replaced, and returns the failure of any of them. A
// later Wrote starts them again, on the handle f then has.
func (f *File) StopSyncs() error { return f.stopSyncs() }

// syncer runs a File's background syncs in one goroutine.
type syncer struct {
	kick chan struct{} // one waiting request; closed to stop
	done chan struct{} // closed when the goroutine has returned
	err  error         // the first sync's failure; read after done
}

// syncInBackground asks for a sync of f in the background, starting the
// goroutine that runs them on the first request; a request made while
// one waits is the same request.
func (f *File) syncInBackground() {
	if f.bg == nil {
		f.bg = &syncer{kick: make(chan struct{}, 1), done: make(chan struct{})}
		go f.bg.run(f.File)
	}
	select {
	case f.bg.kick <- struct{}{}:
	default:
	}
}

func (s *syncer) run(f *os.File) {
	defer close(s.done)
	for range s.kick {
		if s.err == nil {
			backgroundSyncs.Add(1)
			s.err = syncFile(f)
		}
	}
}

var backgroundSyncs atomic.Int64

// BackgroundSyncs is how many syncs Writers of this process have run in
// the background: what tells a test of a command's file that it is
// written through Writer, and synced as it grows.
func BackgroundSyncs() int64 { return backgroundSyncs.Load() }

// stopSyncs waits for the background syncs to end (the file may be closed
// after) and returns the first one's failure.
func (f *File) stopSyncs() error {
	s := f.bg
	if s == nil {
		return nil
	}
	f.bg = nil
	close(s.kick)
	<-s.done
	if s.err != nil {
		return fmt.Errorf("sync %s in the background: %w", f.Name(), s.err)
	}
	return nil
}
