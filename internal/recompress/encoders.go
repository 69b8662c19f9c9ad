package recompress

import (
	stdflate "compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sync"

	kflate "github.com/klauspost/compress/flate"

	"github.com/ferryhq/ferry/internal/recompress/klauspost118"

	"github.com/ferryhq/ferry/spec"
)

// Encoder names. Each is an implementation and the version whose output it
// gives; spec/delta-v1.md lists them with the versions known to behave the
// same.
const (
	// GoFlate is Go's compress/flate as in Go 1.26.
	GoFlate = "go-flate@go1.26"
	// KlauspostFlate is github.com/klauspost/compress/flate as in v1.20.3
	// (the same output since v1.18.1).
	KlauspostFlate = "klauspost-flate@v1.20.3"
	// Klauspost118 is github.com/klauspost/compress/flate as in v1.18.0
	// (the same output since at least v1.15.12), which ferry carries in
	// internal/recompress/klauspost118.
	Klauspost118 = "klauspost-flate@v1.18.0"
	// KlauspostZstd is github.com/klauspost/compress/zstd as in v1.20.3.
	KlauspostZstd = "klauspost-zstd@v1.20.3"
)

// flateWriter is what the gzip writer needs of a deflate encoder.
type flateWriter interface {
	io.WriteCloser
	Flush() error
}

// dictResetter is a deflate encoder that can start a new block stream
// with a dictionary, as pgzip does for each block.
type dictResetter interface {
	ResetDict(w io.Writer, dict []byte)
}

// encoder is one implementation ferry carries.
type encoder struct {
	name        string
	compression string
	levels      []int // every level it has, in the order Find tries them
	blocks      bool  // can write pgzip blocks (has ResetDict)
	newFlate    func(w io.Writer, level int) (flateWriter, error)
	golden      string // hex sha256 of goldenOutput
	check       func() error
}

var encoders = map[string]*encoder{}

func register(e *encoder) {
	e.check = sync.OnceValue(func() error {
		got, err := goldenOutput(e)
		if err != nil {
			return err
		}
		if got != e.golden {
			return fmt.Errorf("this build's %s does not write what %s wrote (golden output %.12s, want %.12s): %w",
				e.compression, e.name, got, e.golden, spec.ErrCannotReproduce)
		}
		return nil
	})
	encoders[e.name] = e
}

func init() {
	register(&encoder{
		name: GoFlate, compression: spec.CompressionGzip,
		levels: []int{6, 1, 9, 5, 4, 3, 2, 7, 8, 0, -2},
		newFlate: func(w io.Writer, level int) (flateWriter, error) {
			return stdflate.NewWriter(w, level)
		},
		golden: "493f1eae51f43134f43189d33a597d46aa579a034acaa3565ccd7c9dcf224e0d",
	})
	klauspostLevels := []int{5, 1, 9, 6, 4, 3, 2, 7, 8, 0, -2}
	register(&encoder{name: KlauspostFlate, compression: spec.CompressionGzip, levels: klauspostLevels, blocks: true,
		newFlate: func(w io.Writer, level int) (flateWriter, error) { return kflate.NewWriter(w, level) },
		golden:   "b36115daa451e0f3d3b9c391359af548a83f4408fcd6d060498bf795198e8714",
	})
	register(&encoder{name: Klauspost118, compression: spec.CompressionGzip, levels: klauspostLevels, blocks: true,
		newFlate: func(w io.Writer, level int) (flateWriter, error) { return klauspost118.NewWriter(w, level) },
		golden:   "e0978c52b0f1f15bb9633e2991ba1e6ea2d5668a1e974868b961193dcb29956b",
	})
	register(&encoder{
		name: KlauspostZstd, compression: spec.CompressionZstd,
		levels: []int{2, 1, 3, 4},
		golden: "e51963754c15de8fefff560430a7cba0b4858e4898d7f95de8cac4c750c9f222",
	})
}

func (e *encoder) hasLevel(l int) bool { return slices.Contains(e.levels, l) }

func (e *encoder) selfCheck() error { return e.check() }

// goldenInput is 96 KiB that every encoder must compress to its golden
// output: runs of text, repeats at several distances, and noise, from a
// fixed xorshift generator.
func goldenInput() []byte {
	const n = 96 << 10
	out := make([]byte, 0, n+1024)
	x := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	words := []string{"layer ", "ferry ", "func ", "return ", "{\n", "}\n", "module.exports = ", "0123456789", "\t"}
	for len(out) < n {
		switch next() % 4 {
		case 0:
			for range 64 {
				out = append(out, byte(next()))
			}
		case 1:
			if len(out) > 1000 {
				d := int(next()%uint64(len(out)-1)) + 1
				start := len(out) - d
				for i := range 40 + int(next()%200) {
					out = append(out, out[start+i%d])
				}
			}
		default:
			for range 20 {
				out = append(out, words[next()%uint64(len(words))]...)
			}
		}
	}
	return out[:n]
}

// goldenOutput compresses goldenInput at every level of e (for gzip
// encoders that write blocks, in blocks too) and hashes the outputs.
func goldenOutput(e *encoder) (string, error) {
	in := goldenInput()
	h := sha256.New()
	header := hex.EncodeToString([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	for _, l := range e.levels {
		recipes := []spec.Recipe{{Compression: e.compression, Encoder: e.name, Level: l}}
		switch {
		case e.compression == spec.CompressionZstd:
			recipes[0].WindowSize = 1 << 20
			recipes[0].Checksum = true
		case e.blocks:
			recipes[0].Header = header
			recipes = append(recipes, recipes[0])
			recipes[1].BlockSize = 40000
		default:
			recipes[0].Header = header
		}
		for _, r := range recipes {
			w, err := newUncheckedWriter(h, r)
			if err != nil {
				return "", err
			}
			if _, err := w.Write(in); err != nil {
				return "", err
			}
			if err := w.Close(); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// newUncheckedWriter is NewWriter without Check, for the golden output.
func newUncheckedWriter(w io.Writer, r spec.Recipe) (io.WriteCloser, error) {
	if r.Compression == spec.CompressionGzip {
		return newGzipWriter(w, r)
	}
	return newZstdWriter(w, r)
}
