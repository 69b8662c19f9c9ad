package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestWrite_ReplacesReadOnly: a file is replaced whole even when the old
// one is read-only (a verified blob; on Windows the rename itself would
// refuse it), and gets the new mode.
func TestWrite_ReplacesReadOnly(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	if err := WriteFile(p, []byte("old"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o444); err != nil {
		t.Fatalf("WriteFile over a read-only file: %v", err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("ReadFile = %q, %v, want new", got, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm()&0o200 != 0 {
		t.Errorf("mode after WriteFile(0o444) = %v, %v, want read-only", fi.Mode(), err)
	}
	leftovers(t, dir, "blob")
}

// TestWrite_FailureLeavesNothing: a fill that fails leaves the old file as
// it was and no temporary file, in the given temp dir or beside the file.
func TestWrite_FailureLeavesNothing(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "index.json")
	if err := WriteFile(p, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteIn(p, tmp, "ferry-*", 0o644, func(f *os.File) error {
		f.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want the fill's error", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "v1" {
		t.Errorf("after a failed Write the file holds %q, want v1", got)
	}
	leftovers(t, dir, "index.json")
	leftovers(t, tmp)
}

func leftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want only %v", dir, names, want)
	}
}

// TestCreate_TempBeside: a temporary file is made beside its final name,
// named so that IsTemp finds it when it is left behind, and never so that
// it can be taken for the final file.
func TestCreate_TempBeside(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "trip.ferry")
	f, err := Create(final)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	name := filepath.Base(f.Name())
	if filepath.Dir(f.Name()) != dir || !IsTemp(name) || name == "trip.ferry" {
		t.Errorf("Create(%s) made %s, want a temporary file beside it that IsTemp finds", final, f.Name())
	}
	for _, n := range []string{"trip.ferry", "index.json", "sha256", ".hidden"} {
		if IsTemp(n) {
			t.Errorf("IsTemp(%q) = true, want false", n)
		}
	}
}

// TestCreate_MissingDirectory: a file under a directory that does not
// exist is refused in the directory's terms, not the temporary file's.
func TestCreate_MissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "such")
	_, err := Create(filepath.Join(dir, "trip.ferry"))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "directory "+dir+" does not exist") ||
		strings.Contains(err.Error(), tempInfix) {
		t.Errorf("Create under a missing directory = %v, want it to say %s does not exist, naming no temporary file", err, dir)
	}
}

// TestCreate_Directory: a final name that is a directory is refused before
// a temporary file is made (the rename would fail only after the whole
// file was written), and nothing is left beside it.
func TestCreate_Directory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Create(dir)
	if err == nil || err.Error() != dir+" is a directory: name a file" {
		t.Errorf("Create of a directory = %v, want it refused naming the directory", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Errorf("left beside it: %v", entries)
	}
}

// TestSmallWriter: a write through it reaches the file whole, in calls
// of at most SmallWrites bytes.
func TestSmallWriter(t *testing.T) {
	var rec recorder
	p := bytes.Repeat([]byte("x"), 3*SmallWrites+5)
	if n, err := SmallWriter(&rec).Write(p); err != nil || n != len(p) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if !bytes.Equal(rec.buf.Bytes(), p) || rec.max > SmallWrites || rec.calls != 4 {
		t.Errorf("%d bytes in %d calls of at most %d, want %d in 4 of at most %d", rec.buf.Len(), rec.calls, rec.max, len(p), SmallWrites)
	}
}

type recorder struct {
	buf        bytes.Buffer
	calls, max int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.calls++
	r.max = max(r.max, len(p))
	return r.buf.Write(p)
}

// TestWriter_ManyChunks: bytes written through Writer, in writes of odd
// sizes across several writeback chunks, are the file's bytes after
// Commit, in order, and nothing is left beside it.
func TestWriter_ManyChunks(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "blob")
	want := make([]byte, 2*WritebackChunk+12345)
	for i := range want {
		want[i] = byte(i * 7 / 3)
	}
	f, err := Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := f.Writer()
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 3<<20+17)
		if k, err := w.Write(rest[:n]); err != nil || k != n {
			t.Fatalf("Write = %d, %v, want %d", k, err, n)
		}
		rest = rest[n:]
	}
	if err := f.Commit(0o444); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file after Commit: %d bytes, %v; want the %d written", len(got), err, len(want))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want the file alone", len(ents))
	}
}

// fakeSyncs makes syncFile count its calls, tell ran of each, and fail
// with eio while failing is set, until the test ends.
type fakeSyncs struct {
	calls   atomic.Int32
	failing atomic.Bool
	ran     chan struct{}
}

var eio = errors.New("input/output error")

func fakeSync(t *testing.T) *fakeSyncs {
	fs := &fakeSyncs{ran: make(chan struct{}, 1)}
	t.Cleanup(func() { syncFile = (*os.File).Sync })
	syncFile = func(f *os.File) error {
		fs.calls.Add(1)
		defer func() {
			select {
			case fs.ran <- struct{}{}:
			default:
			}
		}()
		if fs.failing.Load() {
			return eio
		}
		return f.Sync()
	}
	return fs
}

// writeChunks writes size bytes through f.Writer in 1 MiB calls.
func writeChunks(t *testing.T, f *File, size int) {
	t.Helper()
	w := f.Writer()
	p := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
}

// TestWriter_SyncsInBackground: a file written through Writer is synced
// while it is written (not only by Commit), so that Commit's sync finds
// little left to do.
func TestWriter_SyncsInBackground(t *testing.T) {
	fs := fakeSync(t)
	f, err := Create(filepath.Join(t.TempDir(), "blob"))
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, f, 3*WritebackChunk)
	if err := f.CommitUnsynced(0o444); err != nil {
		t.Fatal(err)
	}
	if n := fs.calls.Load(); n < 2 {
		t.Errorf("%d syncs of a file of 3 writeback chunks, want Commit's and at least one in the background", n)
	}
}

// TestWriter_BackgroundSyncFailureFailsCommit: a background sync that
// failed fails Commit even when Commit's own sync succeeds (Linux reports
// a lost writeback to one sync only), and nothing gets the final name.
func TestWriter_BackgroundSyncFailureFailsCommit(t *testing.T) {
	fs := fakeSync(t)
	fs.failing.Store(true)
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "blob"))
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, f, 2*WritebackChunk)
	if f.bg == nil {
		t.Fatal("Writer started no background sync")
	}
	<-fs.ran // a background sync has failed
	fs.failing.Store(false)
	if err := f.Commit(0o444); !errors.Is(err, eio) {
		t.Fatalf("Commit = %v, want the background sync's %v", err, eio)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("directory holds %d entries after a failed Commit, want none", len(ents))
	}
}

// TestWriter_AbortStopsSyncs: Abort while background syncs may run
// removes the temporary file and leaves no sync behind (go test -race
// sees one that touches the file after it is closed).
func TestWriter_AbortStopsSyncs(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "blob"))
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, f, 2*WritebackChunk)
	f.Abort()
	if f.bg != nil {
		t.Error("background syncs still running after Abort")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("directory holds %d entries after Abort, want none", len(ents))
	}
}

// TestWrote_StopSyncsThenNewHandle: bytes written with WriteAt and told
// to Wrote start background syncs as Writer's do; StopSyncs ends them,
// returning a failure of any, so that the handle may be closed; after a
// new handle, Wrote syncs that one (a set's volumes are written so).
func TestWrote_StopSyncsThenNewHandle(t *testing.T) {
	fs := fakeSync(t)
	fs.failing.Store(true)
	f, err := Create(filepath.Join(t.TempDir(), "volume"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	p := make([]byte, WritebackChunk)
	n, _ := f.WriteAt(p, 0)
	f.Wrote(n)
	<-fs.ran // a background sync has failed
	if err := f.StopSyncs(); !errors.Is(err, eio) {
		t.Fatalf("StopSyncs = %v, want the background sync's %v", err, eio)
	}
	fs.failing.Store(false)
	f.File.Close()
	if f.File, err = os.OpenFile(f.Name(), os.O_WRONLY, 0); err != nil {
		t.Fatal(err)
	}
	before := fs.calls.Load()
	n, _ = f.WriteAt(p, WritebackChunk)
	f.Wrote(n)
	if err := f.StopSyncs(); err != nil {
		t.Fatalf("StopSyncs on the new handle = %v", err)
	}
	if fs.calls.Load() == before {
		t.Error("no background sync of the new handle")
	}
	if err := f.Commit(0o444); err != nil {
		t.Fatalf("Commit = %v", err)
	}
}
