package recompress

import (
	"errors"
	"testing"

	"github.com/ferryhq/ferry/spec"
)

// TestEncoders_Golden fails when a toolchain or dependency update changes
// what an encoder writes: recipes name the version whose output they
// need, so such an update must keep the old implementation (see
// spec/delta-v1.md) or name a new version.
func TestEncoders_Golden(t *testing.T) {
	for name, e := range encoders {
		got, err := goldenOutput(e)
		if err != nil {
			t.Fatalf("goldenOutput(%s): %v", name, err)
		}
		if got != e.golden {
			t.Errorf("golden output of %s = %s, want %s", name, got, e.golden)
		}
		if err := e.selfCheck(); err != nil {
			t.Errorf("selfCheck(%s) = %v", name, err)
		}
	}
}

func TestCheck_Refuses(t *testing.T) {
	header := "1f8b08000000000000ff"
	for _, tc := range []struct {
		name string
		r    spec.Recipe
		want error
	}{
		{"unknown encoder", spec.Recipe{Compression: "gzip", Encoder: "zlib@1.3", Header: header, Level: 6}, spec.ErrCannotReproduce},
		{"zstd encoder for gzip", spec.Recipe{Compression: "gzip", Encoder: KlauspostZstd, Header: header, Level: 2}, spec.ErrCannotReproduce},
		{"level it lacks", spec.Recipe{Compression: "gzip", Encoder: GoFlate, Header: header, Level: 12}, spec.ErrCannotReproduce},
		{"blocks from Go's encoder", spec.Recipe{Compression: "gzip", Encoder: GoFlate, Header: header, Level: 6, BlockSize: 1 << 20}, spec.ErrCannotReproduce},
		{"blocks under the tail", spec.Recipe{Compression: "gzip", Encoder: KlauspostFlate, Header: header, Level: 5, BlockSize: 1000}, spec.ErrCannotReproduce},
		{"header with bytes after it", spec.Recipe{Compression: "gzip", Encoder: GoFlate, Header: header + "00", Level: 6}, spec.ErrCorrupt},
		{"header cut", spec.Recipe{Compression: "gzip", Encoder: GoFlate, Header: "1f8b08080000000000ff41", Level: 6}, spec.ErrCorrupt},
		{"header not gzip", spec.Recipe{Compression: "gzip", Encoder: GoFlate, Header: "1f8b09000000000000ff", Level: 6}, spec.ErrCorrupt},
		{"zstd window not a power of two", spec.Recipe{Compression: "zstd", Encoder: KlauspostZstd, Level: 2, WindowSize: 3 << 20}, spec.ErrCorrupt},
		{"unknown compression", spec.Recipe{Compression: "bzip2", Encoder: GoFlate}, spec.ErrCorrupt},
		{"none with a level", spec.Recipe{Compression: "none", Level: 3}, spec.ErrCorrupt},
	} {
		if err := Check(tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s: Check(%+v) = %v, want %v", tc.name, tc.r, err, tc.want)
		}
	}
}
