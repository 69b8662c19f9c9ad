package recompress

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/ferryhq/ferry/spec"
)

// sample is 3 MiB of goldenInput-like content: more than two pgzip
// blocks of 1 MiB, so block framing is told apart from one stream.
func sample() []byte {
	var b bytes.Buffer
	for b.Len() < 3<<20 {
		b.Write(goldenInput())
		b.WriteString(time.Unix(int64(b.Len()), 0).UTC().String())
	}
	return b.Bytes()
}

// findAndRebuild finds blob's recipe and checks that NewWriter with it
// gives blob back from raw.
func findAndRebuild(t *testing.T, blob, raw []byte) (spec.Recipe, error) {
	t.Helper()
	r, err := Find(context.Background(), bytes.NewReader(blob), int64(len(blob)), FindOptions{})
	if err != nil {
		return r, err
	}
	var out bytes.Buffer
	w, err := NewWriter(&out, r)
	if err != nil {
		t.Fatalf("NewWriter(%+v): %v", r, err)
	}
	w.Write(raw)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), blob) {
		t.Fatalf("recipe %+v: rebuilt %d bytes differ from the blob's %d", r, out.Len(), len(blob))
	}
	return r, nil
}

func TestFind_GoGzip(t *testing.T) {
	raw := sample()
	for _, level := range []int{stdgzip.DefaultCompression, stdgzip.BestSpeed, 4, stdgzip.BestCompression, stdgzip.HuffmanOnly} {
		var b bytes.Buffer
		zw, _ := stdgzip.NewWriterLevel(&b, level)
		zw.Name, zw.ModTime, zw.Comment = "layer.tar", time.Unix(1700000000, 0), "made by a test"
		zw.Write(raw)
		zw.Close()
		r, err := findAndRebuild(t, b.Bytes(), raw)
		if err != nil {
			t.Fatalf("level %d: Find: %v", level, err)
		}
		want := level
		if level == stdgzip.DefaultCompression {
			want = 6
		}
		if r.Encoder != GoFlate || r.Level != want || r.BlockSize != 0 {
			t.Errorf("level %d: recipe %+v, want %s level %d", level, r, GoFlate, want)
		}
	}
}

func TestFind_KlauspostGzip(t *testing.T) {
	raw := sample()
	var b bytes.Buffer
	zw, _ := kgzip.NewWriterLevel(&b, kgzip.DefaultCompression) // what testdata/mkimage writes
	zw.Write(raw)
	zw.Close()
	r, err := findAndRebuild(t, b.Bytes(), raw)
	if err != nil || r.Encoder != KlauspostFlate || r.Level != 5 || r.BlockSize != 0 {
		t.Fatalf("Find = %+v, %v; want %s level 5 in one stream", r, err, KlauspostFlate)
	}
}

// TestFind_Zstd checks klauspost's encoder as umoci, containerd and
// buildkit run it: default options, concurrency GOMAXPROCS.
func TestFind_Zstd(t *testing.T) {
	raw := sample()
	for _, opts := range [][]zstd.EOption{
		nil,
		{zstd.WithEncoderLevel(zstd.SpeedFastest)},
		{zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(4)},
		{zstd.WithEncoderCRC(false), zstd.WithWindowSize(1 << 20)},
	} {
		var b bytes.Buffer
		zw, _ := zstd.NewWriter(&b, opts...)
		zw.Write(raw)
		zw.Close()
		if _, err := findAndRebuild(t, b.Bytes(), raw); err != nil {
			t.Errorf("Find(zstd with %d options): %v", len(opts), err)
		}
	}
}

func TestFind_None(t *testing.T) {
	raw := sample()
	r, err := Find(context.Background(), bytes.NewReader(raw), int64(len(raw)), FindOptions{})
	if err != nil || r != (spec.Recipe{Compression: spec.CompressionNone}) {
		t.Fatalf("Find(tar) = %+v, %v; want compression none", r, err)
	}
}

// TestFind_Prefix: with a prefix, a recipe that matches the first bytes
// is accepted without compressing the rest.
func TestFind_Prefix(t *testing.T) {
	raw := sample()
	var b bytes.Buffer
	zw := stdgzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	blob := b.Bytes()
	blob[len(blob)-100] ^= 1 // past the prefix: only a full check sees it
	_, err := Find(context.Background(), bytes.NewReader(blob), int64(len(blob)), FindOptions{Prefix: 64 << 10})
	if err != nil {
		t.Fatalf("Find with a prefix: %v", err)
	}
}

// TestFind_Unreproducible: zlib (the gzip command, Python) and libzstd
// (the zstd command) are encoders ferry does not carry.
func TestFind_Unreproducible(t *testing.T) {
	raw := sample()
	dir := t.TempDir()
	in := dir + "/layer.tar"
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  []string
	}{
		{"gzip -n", []string{"sh", "-c", "gzip -n -c " + in}},
		{"python zlib", []string{"python3", "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.compress(open(sys.argv[1],'rb').read(), mtime=0))", in}},
		{"zstd", []string{"zstd", "-q", "-c", in}},
	} {
		if _, err := exec.LookPath(tc.cmd[0]); err != nil {
			t.Logf("%s: %s not installed", tc.name, tc.cmd[0])
			continue
		}
		blob, err := exec.Command(tc.cmd[0], tc.cmd[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = Find(context.Background(), bytes.NewReader(blob), int64(len(blob)), FindOptions{})
		var nr *NotReproducibleError
		if !errors.As(err, &nr) || !errors.Is(err, spec.ErrCannotReproduce) {
			t.Errorf("%s: Find = %v, want a *NotReproducibleError", tc.name, err)
		}
	}
}

func TestFind_CorruptBlob(t *testing.T) {
	raw := sample()
	var b bytes.Buffer
	zw := stdgzip.NewWriter(&b)
	zw.Write(raw)
	zw.Close()
	blob := b.Bytes()[:b.Len()/2]
	_, err := Find(context.Background(), bytes.NewReader(blob), int64(len(blob)), FindOptions{})
	if !errors.Is(err, spec.ErrCorrupt) {
		t.Fatalf("Find(cut blob) = %v, want spec.ErrCorrupt", err)
	}
}

var _ = io.EOF
