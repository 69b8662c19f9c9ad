package delta

import (
	"bufio"
	"crypto/sha256"
	"io"
	"math"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
)

// writeDelta reads the new layer once more and writes the delta stream to
// path, setting d's digest and size.
func writeDelta(layer Layer, p *deltaPlan, dir, path string, d *spec.Delta) (Stats, error) {
	var st Stats
	f, err := os.Create(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	h := sha256.New()
	out := &countingHash{w: f, h: h, max: math.MaxInt64}
	zw, err := zstd.NewWriter(out, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(outerWin),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return st, err
	}
	ww := &wireWriter{w: bufio.NewWriterSize(zw, 64<<10)}
	ww.header(len(d.Bases), p.refs)
	raw, _, err := recompress.Open(io.NewSectionReader(layer.Blob, 0, layer.Desc.Size))
	if err != nil {
		return st, err
	}
	defer raw.Close()
	pw := &patcher{ww: ww, dir: dir}
	buf := make([]byte, 64<<10)
	err = walkTar(raw, func(b []byte) error { ww.raw(b); return nil }, func(fl *file, _ string, content io.Reader) error {
		st.Files++
		a := p.actions[fl.ordinal]
		switch a.kind {
		case opCopy:
			st.Copied++
			st.CopiedBytes += fl.size
			ww.copyRef(a.ref)
			return nil
		case opPatch:
			st.Patched++
			st.PatchedBytes += fl.size
			return pw.file(a.ref, p.refs[a.ref].size, fl.size, content)
		}
		st.LiteralBytes += fl.size
		_, err := io.CopyBuffer(rawWriter{ww}, content, buf)
		return err
	})
	if err == nil {
		err = ww.end()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	pw.close()
	d.Digest, d.Size = digest.NewDigest(digest.SHA256, h), out.n
	return st, err
}

type rawWriter struct{ ww *wireWriter }

func (r rawWriter) Write(p []byte) (int, error) { r.ww.raw(p); return len(p), nil }

// patcher writes the patches of changed files.
type patcher struct {
	ww    *wireWriter
	dir   string
	enc   *zstd.Encoder
	dict  []byte
	chunk []byte
}

// file patches a new file of size bytes against base file ref of baseSize
// bytes: in one patch when both fit, else in chunks, each against the
// part of the base file around the same offset.
func (p *patcher) file(ref int, baseSize, size int64, content io.Reader) error {
	base, err := os.Open(refPath(p.dir, ref))
	if err != nil {
		return err
	}
	defer base.Close()
	step := int64(maxPatch)
	if size > maxPatch || baseSize > maxDict {
		step = maxPatch / 2
	}
	for off := int64(0); off < size; off += step {
		o := op{ref: ref, n: min(step, size-off)}
		o.dictOff = max(0, min(off-patchSlack, baseSize-maxDict))
		o.dictLen = min(maxDict, baseSize-o.dictOff)
		if err := p.patch(o, base, content); err != nil {
			return err
		}
	}
	return nil
}

func (p *patcher) patch(o op, base *os.File, content io.Reader) error {
	if p.dict == nil {
		p.dict = make([]byte, maxDict)
	}
	dict := p.dict[:o.dictLen]
	if _, err := base.ReadAt(dict, o.dictOff); err != nil {
		return err
	}
	if p.enc == nil {
		enc, err := newPatchEncoder()
		if err != nil {
			return err
		}
		p.enc = enc
	}
	p.ww.patch(o)
	if p.chunk == nil {
		p.chunk = make([]byte, 0, 128<<10)
	}
	cw := &chunkWriter{ww: p.ww, buf: p.chunk[:0]}
	if err := p.enc.ResetWithOptions(cw, zstd.WithEncoderDictRaw(dictID, dict)); err != nil {
		return err
	}
	if _, err := io.CopyN(p.enc, content, o.n); err != nil {
		return err
	}
	if err := p.enc.Close(); err != nil {
		return err
	}
	cw.close()
	return nil
}

func (p *patcher) close() {
	if p.enc != nil {
		p.enc.Close()
	}
}

// chunkWriter cuts a patch's frame into chunks.
type chunkWriter struct {
	ww  *wireWriter
	buf []byte
}

func (c *chunkWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, b[:k]...)
		b = b[k:]
		if len(c.buf) == cap(c.buf) {
			c.ww.chunk(c.buf)
			c.buf = c.buf[:0]
		}
	}
	return n, nil
}

func (c *chunkWriter) close() {
	if len(c.buf) > 0 {
		c.ww.chunk(c.buf)
	}
	c.ww.chunk(nil)
}
