package recompress

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/spec"
)

const zstdMagic = "\x28\xb5\x2f\xfd"

// zstdFrame is what a frame header says of the encoder that wrote it.
type zstdFrame struct {
	window   int64 // 0 for a single-segment frame
	checksum bool
}

// parseZstdFrame reads the header of the frame at the start of b.
func parseZstdFrame(b []byte) (zstdFrame, error) {
	if len(b) < 6 || string(b[:4]) != zstdMagic {
		return zstdFrame{}, fmt.Errorf("zstd: not a frame: %w", spec.ErrCorrupt)
	}
	fhd := b[4]
	f := zstdFrame{checksum: fhd&(1<<2) != 0}
	if fhd&(1<<5) == 0 { // not single segment: a window descriptor follows
		exp, mant := int64(b[5]>>3), int64(b[5]&7)
		base := int64(1) << (10 + exp)
		f.window = base + base/8*mant
	}
	return f, nil
}

// levelWindow is the window klauspost's encoder takes for a level when
// not told otherwise.
func levelWindow(level int) int64 {
	if zstd.EncoderLevel(level) == zstd.SpeedFastest {
		return 4 << 20
	}
	return 8 << 20
}

// newZstdWriter writes one frame as klauspost's stream encoder does with
// the recipe's level, window and checksum. The options go in the order
// that gives what zstd.NewWriter(w, zstd.WithEncoderLevel(l)) gives when
// the window is the level's own.
func newZstdWriter(w io.Writer, r spec.Recipe) (io.WriteCloser, error) {
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(zstd.EncoderLevel(r.Level)),
		zstd.WithEncoderCRC(r.Checksum),
		zstd.WithEncoderConcurrency(1),
	}
	if r.WindowSize != levelWindow(r.Level) {
		opts = append(opts, zstd.WithWindowSize(int(r.WindowSize)))
	}
	zw, err := zstd.NewWriter(w, opts...)
	if err != nil {
		return nil, fmt.Errorf("recipe %s level %d window %d: %v: %w", r.Encoder, r.Level, r.WindowSize, err, spec.ErrCannotReproduce)
	}
	return zw, nil
}

func newZstdReader(r io.Reader) (io.ReadCloser, error) {
	zr, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(spec.MaxDecoderMemory),
		zstd.WithDecoderMaxWindow(spec.MaxDecoderMemory))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w: %v", spec.ErrCorrupt, err)
	}
	return zr.IOReadCloser(), nil
}
