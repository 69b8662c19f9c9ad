package spec

import (
	"encoding/hex"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Delta entries (spec/delta-v1.md): a layer shipped as what it does not
// share with layers the destination holds.
const (
	// KindDelta is the index kind of a blob shipped as a delta entry.
	KindDelta = "delta"
	// DeltaPrefix is the directory of delta entries: DeltaPrefix + the hex
	// of the blob the delta rebuilds (never blobs/sha256/, which holds only
	// a blob's own bytes).
	DeltaPrefix = "deltas/sha256/"
	// MaxDeltaBases caps the base layers one delta may build on.
	MaxDeltaBases = 8
	// MaxRecipeHeader caps a gzip recipe's header bytes.
	MaxRecipeHeader = 4096
	// MaxRecipeWindow caps a zstd recipe's window: the encoder's memory
	// grows with it, and the site's must stay bounded.
	MaxRecipeWindow = 8 << 20
)

// Compressions a recipe names.
const (
	CompressionNone = "none" // the blob is the tar itself
	CompressionGzip = "gzip" // RFC 1952: the recipe's header, one deflate stream, CRC-32 and size
	CompressionZstd = "zstd" // RFC 8878: one frame from the recipe's encoder
)

// Delta is what the index says of a delta entry (the blob's "delta"
// field): how to rebuild the blob and what it must hash to. The blob's own
// digest, size and media type are the Blob record's.
type Delta struct {
	// Digest and Size are the delta entry's own bytes, so that a damaged
	// entry is found before anything is rebuilt from it.
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	// Bases are the layers (blob digests) the delta builds on, in the order
	// its references number them. Each is a prerequisite of the bundle.
	Bases []digest.Digest `json:"bases"`
	// DiffID is the sha256 of the rebuilt tar and TarSize its length:
	// checked before the tar is compressed, so a fault names the delta
	// (rebuilt the wrong tar) apart from the recipe (compressed it
	// differently).
	DiffID  digest.Digest `json:"diffID"`
	TarSize int64         `json:"tarSize"`
	// Recipe compresses the tar into exactly the blob's bytes.
	Recipe Recipe `json:"recipe"`
}

// Recipe says how to compress a layer's tar into exactly its blob's bytes.
// Fields are in key order, so json.Marshal writes canonical JSON.
type Recipe struct {
	// BlockSize, for gzip: the deflate stream is cut into blocks of this
	// many input bytes, each compressed with the last 16 KiB of the one
	// before as its dictionary and ended by a sync flush, as
	// github.com/klauspost/pgzip writes them. 0: one unbroken stream.
	BlockSize int64 `json:"blockSize,omitempty"`
	// Checksum, for zstd: the frame ends with its content checksum.
	Checksum bool `json:"checksum,omitempty"`
	// Compression is CompressionNone, CompressionGzip or CompressionZstd.
	Compression string `json:"compression"`
	// Encoder names the implementation whose output the recipe needs,
	// with the version whose behaviour it is (spec/delta-v1.md lists
	// them); empty for CompressionNone. A ferry that lacks it refuses the
	// delta, which costs that layer only.
	Encoder string `json:"encoder,omitempty"`
	// Header, for gzip: the member header's exact bytes (magic, flags,
	// mtime, extra flags, OS, extra field, name, comment), in hex.
	Header string `json:"header,omitempty"`
	// Level is the encoder's level as its API takes it (never "default").
	Level int `json:"level"`
	// WindowSize, for zstd: the encoder's window in bytes.
	WindowSize int64 `json:"windowSize,omitempty"`
}

// Validate checks what a reader relies on before rebuilding anything:
// digests, sizes, the bases (at least one, at most MaxDeltaBases, no
// repeats) and the recipe's form. Errors wrap ErrCorrupt.
func (d *Delta) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("delta: %s: %w", fmt.Sprintf(format, a...), ErrCorrupt)
	}
	if ValidateDigest(d.Digest) != nil || ValidateDigest(d.DiffID) != nil {
		return bad("invalid digest %s or diffID %s", Quote(clip(string(d.Digest))), Quote(clip(string(d.DiffID))))
	}
	if d.Size <= 0 || d.TarSize < 0 {
		return bad("size %d, tarSize %d", d.Size, d.TarSize)
	}
	if len(d.Bases) == 0 || len(d.Bases) > MaxDeltaBases {
		return bad("%d bases, want 1 to %d", len(d.Bases), MaxDeltaBases)
	}
	seen := map[digest.Digest]bool{}
	for _, b := range d.Bases {
		if ValidateDigest(b) != nil || seen[b] {
			return bad("base %s invalid or listed twice", Quote(clip(string(b))))
		}
		seen[b] = true
	}
	if err := d.Recipe.Validate(); err != nil {
		return fmt.Errorf("delta: %w", err)
	}
	return nil
}

// Validate checks a recipe's form: a known compression, and only the
// fields that compression uses. Whether this ferry can run the encoder is
// for the recompressing package to say. Errors wrap ErrCorrupt.
func (r *Recipe) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("recipe: %s: %w", fmt.Sprintf(format, a...), ErrCorrupt)
	}
	switch r.Compression {
	case CompressionNone:
		if *r != (Recipe{Compression: CompressionNone}) {
			return bad("compression none takes no other field")
		}
		return nil
	case CompressionGzip:
		if r.Checksum || r.WindowSize != 0 {
			return bad("gzip takes no checksum or windowSize")
		}
		if r.BlockSize < 0 || r.BlockSize > 1<<30 {
			return bad("blockSize %d", r.BlockSize)
		}
		h, err := hex.DecodeString(r.Header)
		if err != nil || len(h) < 10 || len(h) > MaxRecipeHeader {
			return bad("header is not 10 to %d bytes of hex", MaxRecipeHeader)
		}
	case CompressionZstd:
		if r.Header != "" || r.BlockSize != 0 {
			return bad("zstd takes no header or blockSize")
		}
		if r.WindowSize < 1<<10 || r.WindowSize > MaxRecipeWindow || r.WindowSize&(r.WindowSize-1) != 0 {
			return bad("windowSize %d is not a power of two from 1 KiB to %d", r.WindowSize, MaxRecipeWindow)
		}
	default:
		return bad("compression %s unknown", Quote(clip(r.Compression)))
	}
	if r.Encoder == "" || len(r.Encoder) > 64 {
		return bad("no encoder")
	}
	if r.Level < -3 || r.Level > 22 {
		return bad("level %d", r.Level)
	}
	return nil
}
