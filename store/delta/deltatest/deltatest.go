// Package deltatest makes the layers that the tests and benchmarks of
// store/delta use: an application's files from a seed, a next version of
// them, and their tar written and compressed as real tools write it.
// Every byte follows from the arguments.
package deltatest

import (
	"archive/tar"
	stdgzip "compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// File is one file of a tree: its content is made from Seed, Size bytes,
// Text of them compressible source code and the rest noise.
type File struct {
	Path string
	Seed uint64
	Size int64
	Text bool
}

// Tree is an application's files, in path order.
type Tree []File

// App returns n files of about avg bytes each under app/, in modules of
// ten, two in three of them text (code) and one in three noise (images,
// compiled assets), as an application layer holds.
func App(seed uint64, n int, avg int64) Tree {
	r := rand.New(rand.NewPCG(seed, 1))
	t := make(Tree, n)
	for i := range t {
		t[i] = File{
			Path: fmt.Sprintf("app/module%03d/file%04d.%s", i/10, i, []string{"js", "png", "js"}[i%3]),
			Seed: r.Uint64(),
			Size: avg/2 + r.Int64N(avg),
			Text: i%3 != 1,
		}
	}
	slices.SortFunc(t, func(a, b File) int { return cmpString(a.Path, b.Path) })
	return t
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Next returns the next version of t: change files edited in place (a few
// lines each, so a patch against the old one is small), added new files,
// removed files gone.
func (t Tree) Next(seed uint64, change, added, removed int) Tree {
	r := rand.New(rand.NewPCG(seed, 2))
	out := slices.Clone(t)
	for range change {
		i := r.IntN(len(out))
		out[i].Seed ^= 1 << 63 // an edit: see Content
	}
	for range removed {
		i := r.IntN(len(out))
		out = slices.Delete(out, i, i+1)
	}
	for i := range added {
		out = append(out, File{Path: fmt.Sprintf("app/added/v%d-%d.js", seed, i), Seed: r.Uint64(), Size: 20000 + r.Int64N(200000), Text: true})
	}
	slices.SortFunc(out, func(a, b File) int { return cmpString(a.Path, b.Path) })
	return out
}

// Content writes a file's bytes to w. A file whose seed has the top bit
// flipped is the edited version of the other: the same bytes but for a
// line in about every 300 changed, and one more at the top.
func (f File) Content(w io.Writer) error {
	r := rand.New(rand.NewPCG(f.Seed&^(1<<63), 3))
	edit := rand.New(rand.NewPCG(f.Seed, 4))
	edited := f.Seed&(1<<63) != 0
	lines := vocabulary()
	buf := make([]byte, 0, 64<<10)
	if edited {
		buf = fmt.Appendf(buf, "/* edited %d */\n", f.Seed)
	}
	for left := f.Size; left > 0; buf = buf[:0] {
		for len(buf) < cap(buf)-256 {
			if !f.Text {
				buf = binary.LittleEndian.AppendUint64(buf, r.Uint64())
				continue
			}
			buf = append(buf, lines[r.IntN(len(lines))]...)
			if edited && edit.IntN(300) == 0 {
				buf = fmt.Appendf(buf, "  changed(%d);\n", edit.Uint32())
			}
		}
		n := min(int64(len(buf)), left)
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// vocabulary is the lines text files are made of: 4096 lines of code-like
// tokens, from a fixed seed.
var vocabulary = sync.OnceValue(func() []string {
	r := rand.New(rand.NewPCG(42, 42))
	words := []string{"const", "function", "return", "await", "import", "export", "=>", "value", "node", "layer",
		"if", "else", "for", "let", "this", "new", "null", "true", "false", "require", "module", "exports"}
	out := make([]string, 4096)
	for i := range out {
		var b []byte
		b = append(b, "  "[:r.IntN(3)]...)
		for range 3 + r.IntN(8) {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
			if r.IntN(4) == 0 {
				b = fmt.Appendf(b, "x%d ", r.IntN(1000))
			}
		}
		out[i] = string(append(b, ";\n"...))
	}
	return out
})

// WriteTar writes t as a tar, every file with mtime, as a build tool does.
func (t Tree) WriteTar(w io.Writer, mtime time.Time) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, f := range t {
		for d := dirOf(f.Path); d != "" && !dirs[d]; d = dirOf(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	slices.Sort(sorted)
	for _, d := range sorted {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
			return err
		}
	}
	for _, f := range t {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: 0o644, Size: f.Size, ModTime: mtime,
			Uname: "app", Gname: "app", Uid: 1000, Gid: 1000}); err != nil {
			return err
		}
		if err := f.Content(tw); err != nil {
			return err
		}
	}
	return tw.Close()
}

func dirOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

// Compressions Compress knows, named for the tools that write them.
const (
	GoGzip        = "go-gzip"        // Go's compress/gzip, default level: docker, buildkit, containerd
	GoGzipFast    = "go-gzip-fast"   // Go's compress/gzip, BestSpeed: crane, ko (go-containerregistry)
	KlauspostGzip = "klauspost-gzip" // klauspost/compress/gzip: ferry's testdata/mkimage
	Zstd          = "zstd"           // klauspost/compress/zstd with default options: umoci, containerd
	None          = "none"           // an uncompressed tar: docker save
)

// Compress returns a writer that compresses into w as the named tool
// does; closing it ends the stream, not w.
func Compress(w io.Writer, kind string) (io.WriteCloser, error) {
	switch kind {
	case GoGzip:
		return stdgzip.NewWriterLevel(w, stdgzip.DefaultCompression)
	case GoGzipFast:
		return stdgzip.NewWriterLevel(w, stdgzip.BestSpeed)
	case KlauspostGzip:
		return kgzip.NewWriterLevel(w, kgzip.DefaultCompression)
	case Zstd:
		return zstd.NewWriter(w)
	case None:
		return nopCloser{w}, nil
	}
	return nil, fmt.Errorf("unknown compression %q", kind)
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Layer writes t's tar, compressed as kind, to w.
func (t Tree) Layer(w io.Writer, kind string, mtime time.Time) error {
	zw, err := Compress(w, kind)
	if err != nil {
		return err
	}
	if err := t.WriteTar(zw, mtime); err != nil {
		return err
	}
	return zw.Close()
}

// WriteDir writes t's files under dir, as a build tool's root file system.
func (t Tree) WriteDir(dir string) error {
	for _, f := range t {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		out, err := os.Create(p)
		if err != nil {
			return err
		}
		err = f.Content(out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Epoch is a fixed file time for layers that need one.
var Epoch = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
