package trip

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/runtime"
)

// TestSave_FrameSpool: blobs kept as frames while they arrive give the
// bundle written from their bytes, byte for byte, in both compressions;
// the spool serves their bytes too, and Close removes its file.
func TestSave_FrameSpool(t *testing.T) {
	for _, c := range []string{format.CompressionZstd, format.CompressionNone} {
		t.Run(c, func(t *testing.T) {
			dir := t.TempDir()
			set := newBlobSet()
			var inputs []Input
			for _, seed := range []string{"a", "b"} {
				inputs = append(inputs, Input{Image: runtime.Image{Name: "app:" + seed, Desc: set.image(seed, nil)}, From: set})
			}
			big := bytes.Repeat([]byte("layer text that compresses "), 100000)
			bigImage := set.image("big", func(m *ocispec.Manifest) { m.Layers[1] = set.put(ocispec.MediaTypeImageLayer, big) })
			inputs = append(inputs, Input{Image: runtime.Image{Name: "big:1", Desc: bigImage}, From: set})
			p, err := MakePlan(context.Background(), inputs, nil)
			if err != nil {
				t.Fatal(err)
			}
			save := func(name string, sp *FrameSpool) []byte {
				path := filepath.Join(dir, name)
				_, err := Save(context.Background(), p, SaveOptions{Path: path, Signer: signer(t, 1), From: "hq", Sequence: 1,
					Created: time.Unix(0, 0), Compression: c, Spool: sp})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(path)
				return b
			}
			want := save("plain.ferry", nil)
			sp := NewFrameSpool(dir, c)
			for d, data := range set.Blobs {
				got, n, err := sp.Keep(bytes.NewReader(data))
				if err != nil || got != d || n != int64(len(data)) {
					t.Fatalf("Keep = %s %d %v, want %s %d", got, n, err, d, len(data))
				}
				rc, err := sp.Open(d)
				if err != nil {
					t.Fatal(err)
				}
				if back, _ := io.ReadAll(rc); !bytes.Equal(back, data) {
					t.Errorf("Open(%s) gave other bytes", d)
				}
				rc.Close()
			}
			if got := save("spooled.ferry", sp); !bytes.Equal(got, want) {
				t.Errorf("bundle from the spool's frames (%d bytes) differs from the one from bytes (%d)", len(got), len(want))
			}
			if err := sp.Close(); err != nil {
				t.Fatal(err)
			}
			if ents, _ := filepath.Glob(filepath.Join(dir, ".ferry-frames-*")); len(ents) != 0 {
				t.Errorf("Close left %v", ents)
			}
		})
	}
}
