package spec

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/go-digest"
)

// Split bundles (spec/bundle-v1.md section 8): a bundle written as a set
// of volumes, each a bundle of its own kind, and a blob larger than the
// room a volume has left carried in parts, one entry per part.
const (
	// KindChunk is the index kind of a blob carried in parts across the
	// volumes of a set: its "chunk" field lists the parts.
	KindChunk = "chunk"
	// ChunkPrefix is the directory of part entries: ChunkPrefix + the hex
	// of the blob + "/" + the part's number, from 1 (never blobs/sha256/,
	// which holds only a blob's whole bytes).
	ChunkPrefix = "chunks/sha256/"
	// MaxVolumes caps the volumes of one set, and so the parts of one
	// blob (a blob has at most one part per volume).
	MaxVolumes = 10000
	// MinPart is the smallest part a writer cuts but for a blob's last:
	// a volume with less room left ends there.
	MinPart = 64 << 10
)

// Chunk is what the index says of a blob carried in parts (the blob's
// "chunk" field): the parts in the blob's byte order. The blob's own
// digest, size and media type are the Blob record's; the parts' sizes add
// up to its size.
type Chunk struct {
	Parts []Part `json:"parts"`
}

// Part is one part of a chunked blob: the volume that carries it, and its
// bytes' digest and size, so that each part is checked on arrival.
type Part struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Volume int           `json:"volume"`
}

// PartEntry is the tar name of part number n (from 1) of blob d.
func PartEntry(d digest.Digest, n int) string {
	return ChunkPrefix + d.Encoded() + "/" + strconv.Itoa(n)
}

// Validate checks a chunk against its blob (size) and the set's count of
// volumes: 1 to MaxVolumes parts, each of a valid digest and at least one
// byte, in a volume of the set, adding up to size. Errors wrap
// ErrCorrupt.
func (c *Chunk) Validate(size int64, volumes int) error {
	if len(c.Parts) == 0 || len(c.Parts) > MaxVolumes {
		return fmt.Errorf("chunk: %d parts, want 1 to %d: %w", len(c.Parts), MaxVolumes, ErrCorrupt)
	}
	var total int64
	for i, p := range c.Parts {
		if err := ValidateDigest(p.Digest); err != nil {
			return fmt.Errorf("chunk: part %d: %w: %w", i+1, err, ErrCorrupt)
		}
		if p.Size <= 0 || p.Size > size-total {
			return fmt.Errorf("chunk: part %d of %d bytes: the parts must add up to the blob's %d: %w", i+1, p.Size, size, ErrCorrupt)
		}
		total += p.Size
		if p.Volume < 1 || p.Volume > volumes {
			return fmt.Errorf("chunk: part %d in volume %d, not one of the set's %d: %w", i+1, p.Volume, volumes, ErrCorrupt)
		}
	}
	if total != size {
		return fmt.Errorf("chunk: parts of %d bytes, the blob has %d: %w", total, size, ErrCorrupt)
	}
	return nil
}

// VolumeName is the file name of volume n of a set of count volumes
// whose bundle would be named base + FileExtension:
// base.N-of-COUNT.ferry (trip-12.2-of-3.ferry).
func VolumeName(base string, n, count int) string {
	return fmt.Sprintf("%s.%d-of-%d%s", base, n, count, FileExtension)
}
