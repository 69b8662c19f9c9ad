package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"math/rand"
	"time"
)

// rootfs writes into tw a tree that looks, to a compressor and to a tar
// reader, like a Debian root file system of about size bytes: thousands
// of files from a few hundred bytes to a few MiB (the median a few KiB),
// about half of the bytes machine code and data (binaries, shared
// libraries: gzip takes them to about 40%), the rest text (documentation,
// scripts, package lists: gzip takes them to about 30%), in the
// directories a Debian image has. Every byte follows from rnd.
func rootfs(tw *tar.Writer, rnd *rand.Rand, size int64) error {
	g := &generator{rnd: rnd, words: vocabulary(rnd, 3000), ops: opcodes(rnd, 600)}
	g.wordZipf = rand.NewZipf(rnd, 1.1, 4, uint64(len(g.words)-1))
	g.opZipf = rand.NewZipf(rnd, 1.2, 2, uint64(len(g.ops)-1))
	dirs := map[string]bool{}
	var written int64
	for i := 0; written < size; i++ {
		kind := rootKinds[rnd.Intn(len(rootKinds))]
		n := g.fileSize(kind.median)
		n = min(n, size-written)
		name := fmt.Sprintf("%s/%s%d%s", kind.dir, g.word(), i, kind.ext)
		if err := mkdirs(tw, dirs, kind.dir); err != nil {
			return err
		}
		var body []byte
		if kind.binary {
			body = g.binary(n)
		} else {
			body = g.text(n)
		}
		hdr := &tar.Header{Name: name, Mode: kind.mode, Size: int64(len(body)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
		written += int64(len(body)) + 512
	}
	return nil
}

// rootKind is one sort of file of a Debian root, with where it lives and
// its typical size.
type rootKind struct {
	dir    string
	ext    string
	mode   int64
	median int64
	binary bool
}

var rootKinds = []rootKind{
	{"usr/bin", "", 0o755, 48 << 10, true},
	{"usr/lib/x86_64-linux-gnu", ".so.1", 0o644, 96 << 10, true},
	{"usr/lib/x86_64-linux-gnu/gconv", ".so", 0o644, 16 << 10, true},
	{"usr/share/zoneinfo/Etc", "", 0o644, 2 << 10, true},
	{"usr/share/doc", "/copyright", 0o644, 6 << 10, false},
	{"usr/share/perl5/Debian", ".pm", 0o644, 12 << 10, false},
	{"usr/share/locale/de/LC_MESSAGES", ".mo", 0o644, 24 << 10, false},
	{"var/lib/dpkg/info", ".list", 0o644, 3 << 10, false},
	{"etc", ".conf", 0o644, 1 << 10, false},
}

type generator struct {
	rnd      *rand.Rand
	words    []string
	ops      [][]byte
	wordZipf *rand.Zipf
	opZipf   *rand.Zipf
}

// fileSize draws a size around median, spread over two orders of
// magnitude either way.
func (g *generator) fileSize(median int64) int64 {
	f := g.rnd.NormFloat64() * 1.2
	if f > 4 {
		f = 4
	}
	s := float64(median)
	for ; f > 0; f-- {
		s *= 2.7
	}
	for ; f < 0; f++ {
		s /= 2.7
	}
	return max(int64(s), 64)
}

func (g *generator) word() string { return g.words[g.wordZipf.Uint64()] }

// text is lines of words drawn from the vocabulary by Zipf's law, as
// prose and code are.
func (g *generator) text(n int64) []byte {
	var b bytes.Buffer
	line := 0
	for int64(b.Len()) < n {
		w := g.word()
		b.WriteString(w)
		line += len(w) + 1
		if line > 50+g.rnd.Intn(30) {
			b.WriteByte('\n')
			line = 0
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// binary is an ELF header, then machine code (opcodes drawn by Zipf's law
// with random operands), a string table and zero padding.
func (g *generator) binary(n int64) []byte {
	var b bytes.Buffer
	b.WriteString("\x7fELF\x02\x01\x01\x00")
	b.Write(make([]byte, 56))
	code := n * 7 / 10
	for int64(b.Len()) < code {
		b.Write(g.ops[g.opZipf.Uint64()])
		if g.rnd.Intn(3) == 0 {
			var operand [4]byte
			g.rnd.Read(operand[:1+g.rnd.Intn(3)])
			b.Write(operand[:])
		}
	}
	for int64(b.Len()) < n*9/10 {
		b.WriteString(g.word())
		b.WriteByte(0)
	}
	for int64(b.Len()) < n {
		b.WriteByte(0)
	}
	return b.Bytes()[:n]
}

// vocabulary makes n pseudo-words of 2 to 12 letters.
func vocabulary(rnd *rand.Rand, n int) []string {
	const letters = "etaoinshrdlucmfwypvbgkqjxz_"
	out := make([]string, n)
	for i := range out {
		w := make([]byte, 2+rnd.Intn(11))
		for j := range w {
			w[j] = letters[min(rnd.Intn(len(letters)), rnd.Intn(len(letters)))]
		}
		out[i] = string(w)
	}
	return out
}

// opcodes makes n instruction-like byte strings of 1 to 7 bytes.
func opcodes(rnd *rand.Rand, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		op := make([]byte, 1+rnd.Intn(7))
		rnd.Read(op)
		out[i] = op
	}
	return out
}

func mkdirs(tw *tar.Writer, done map[string]bool, dir string) error {
	for i := 0; i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		d := dir[:i]
		if done[d] {
			continue
		}
		done[d] = true
		hdr := &tar.Header{Name: d + "/", Mode: 0o755, ModTime: time.Unix(0, 0), Typeflag: tar.TypeDir}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return nil
}
