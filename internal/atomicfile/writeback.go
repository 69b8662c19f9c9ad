package atomicfile

import "io"

// WritebackChunk is how many bytes Writer lets pile up in the page cache
// before it asks the kernel to start writing them to disk.
const WritebackChunk = 8 << 20

// Writer returns a writer of f's bytes, in SmallWrites calls, that asks
// the kernel to start writing every WritebackChunk to disk as soon as it
// is written (on Linux, sync_file_range with SYNC_FILE_RANGE_WRITE; a
// hint elsewhere ignored), so that the disk works while the next bytes
// are read and hashed, and Commit's sync waits for the last chunk rather
// than for the whole file. Durability is still Commit's: the hint
// promises nothing, and a failure of it is left to the sync to report.
func (f *File) Writer() io.Writer { return &writeback{f: f} }

type writeback struct {
	f       *File
	written int64 // bytes written
	started int64 // bytes whose writeback was asked for
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := smallWriter{w.f.File}.Write(p)
	w.written += int64(n)
	if w.written-w.started >= WritebackChunk {
		startWriteback(w.f.File, w.started, w.written-w.started)
		w.started = w.written
	}
	return n, err
}
