package format

import (
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// A split bundle is a set of volumes (spec/bundle-v1.md section 8). Each
// volume is a bundle of its own: its signed index is the set's, the same
// in every volume but for Volume, this volume's number; Volumes says which
// blobs each volume carries whole, and a blob of kind spec.KindChunk says
// in its chunk field which volume carries each of its parts. Every volume
// carries the layout files and every manifest and index of the set, so
// that each alone walks every image's graph.

// Volume is one volume of a set: the blobs it carries whole, in index
// order. A chunked blob's parts are not listed here: its chunk field
// names their volumes.
type Volume struct {
	Number int             `json:"number"`
	Blobs  []digest.Digest `json:"blobs"`
}

// IsSet reports whether the index is that of a volume of a split bundle.
func (ix *Index) IsSet() bool { return len(ix.Volumes) > 0 }

// chunkParts: a chunked blob is carried in one entry per part, under
// spec.PartEntry, each holding that part's bytes.
func chunkParts(b *Blob) []Entry {
	if b.Chunk == nil {
		return nil
	}
	out := make([]Entry, len(b.Chunk.Parts))
	var off int64
	for i, p := range b.Chunk.Parts {
		out[i] = Entry{Name: spec.PartEntry(b.Digest, i+1), Kind: spec.KindChunk, Digest: p.Digest, Size: p.Size,
			MediaType: b.MediaType, Blob: b, Part: i + 1, Offset: off, Volume: p.Volume}
		off += p.Size
	}
	return out
}

func checkChunk(b *Blob) error {
	switch {
	case b.Chunk == nil:
		return fmt.Errorf("kind %s without its %q field", spec.KindChunk, spec.KindChunk)
	case b.Status != spec.StatusShipped:
		return fmt.Errorf("a chunked blob is %s, not %s", spec.Quote(b.Status), spec.StatusShipped)
	}
	if err := b.Chunk.Validate(b.Size, spec.MaxVolumes); err != nil {
		return err
	}
	return onlyField(b, spec.KindChunk)
}

// validateVolumes checks a set's fields: Volume one of Volumes, numbered
// from 1 in order, each listing shipped blobs of whole kinds at most once,
// every shipped blob of a kind this build knows carried by some volume,
// and every part in a volume of the set. A chunked blob outside a set is
// refused.
func (ix *Index) validateVolumes() error {
	if !ix.IsSet() {
		if ix.Volume != 0 {
			return fieldErrorf("volume", "%d without volumes", ix.Volume)
		}
		for i, b := range ix.Blobs {
			if b.Kind == spec.KindChunk {
				return fieldErrorf(fmt.Sprintf("blobs[%d]", i), "a chunked blob outside a set of volumes")
			}
		}
		return nil
	}
	n := len(ix.Volumes)
	if n > spec.MaxVolumes {
		return fieldErrorf("volumes", "%d volumes, at most %d: %w", n, spec.MaxVolumes, spec.ErrTooLarge)
	}
	if ix.Volume < 1 || ix.Volume > n {
		return fieldErrorf("volume", "%d, not one of the set's %d", ix.Volume, n)
	}
	shipped := map[digest.Digest]Blob{}
	for _, b := range ix.Blobs {
		if b.Status == spec.StatusShipped {
			shipped[b.Digest] = b
		}
	}
	carried := map[digest.Digest]bool{}
	for i, v := range ix.Volumes {
		if err := validateVolume(i, v, shipped, carried); err != nil {
			return err
		}
	}
	for i, b := range ix.Blobs {
		field := fmt.Sprintf("blobs[%d]", i)
		if b.Kind == spec.KindChunk {
			for _, p := range b.Chunk.Parts {
				if p.Volume > n {
					return fieldErrorf(field+".chunk", "a part in volume %d of a set of %d", p.Volume, n)
				}
			}
			continue
		}
		if _, known := kinds[b.Kind]; known && b.Status == spec.StatusShipped && !carried[b.Digest] {
			return fieldErrorf(field, "%s is shipped but no volume carries it", b.Digest)
		}
	}
	return nil
}

func validateVolume(i int, v Volume, shipped map[digest.Digest]Blob, carried map[digest.Digest]bool) error {
	field := fmt.Sprintf("volumes[%d]", i)
	if v.Number != i+1 {
		return fieldErrorf(field+".number", "%d, want %d", v.Number, i+1)
	}
	if len(v.Blobs) > spec.MaxEntries {
		return fieldErrorf(field+".blobs", "%d blobs, at most %d: %w", len(v.Blobs), spec.MaxEntries, spec.ErrTooLarge)
	}
	here := make(map[digest.Digest]bool, len(v.Blobs))
	for j, d := range v.Blobs {
		f := fmt.Sprintf("%s.blobs[%d]", field, j)
		b, ok := shipped[d]
		switch {
		case !ok:
			return fieldErrorf(f, "%s is not a shipped blob of the index", spec.Quote(string(d)))
		case b.Kind == spec.KindChunk:
			return fieldErrorf(f, "%s is chunked: its parts name their volumes", d)
		case here[d]:
			return fieldErrorf(f, "%s listed twice", d)
		}
		here[d], carried[d] = true, true
	}
	return nil
}

// Entries returns the entries that volume v of a set carries (v 0: every
// entry of a bundle in one file): the layout files, then, in index
// order, each shipped blob of a kind this build knows that v carries
// whole and each part of a chunked blob that v carries.
func (ix *Index) Entries(v int) []Entry {
	var out []Entry
	for _, f := range ix.Files {
		out = append(out, Entry{Name: f.Name, Kind: spec.KindFile, Digest: f.Digest, Size: f.Size})
	}
	whole := ix.carriedWhole(v)
	for i := range ix.Blobs {
		b := &ix.Blobs[i]
		if _, known := kinds[b.Kind]; !known || b.Status != spec.StatusShipped {
			continue
		}
		for _, e := range blobEntries(b) {
			if v == 0 || (e.Part == 0 && whole[b.Digest]) || (e.Part > 0 && e.Volume == v) {
				out = append(out, e)
			}
		}
	}
	return out
}

// carriedWhole is the set of blobs volume v carries whole.
func (ix *Index) carriedWhole(v int) map[digest.Digest]bool {
	out := map[digest.Digest]bool{}
	if v >= 1 && v <= len(ix.Volumes) {
		for _, d := range ix.Volumes[v-1].Blobs {
			out[d] = true
		}
	}
	return out
}

// Carriers maps each blob a set ships to the volumes that carry some of
// it, in order: the one (or, for a manifest, every one) that carries it
// whole, or those that carry its parts. Empty outside a set.
func (ix *Index) Carriers() map[digest.Digest][]int {
	out := map[digest.Digest][]int{}
	for _, v := range ix.Volumes {
		for _, d := range v.Blobs {
			out[d] = append(out[d], v.Number)
		}
	}
	for _, b := range ix.Blobs {
		if b.Chunk == nil {
			continue
		}
		for _, p := range b.Chunk.Parts {
			out[b.Digest] = append(out[b.Digest], p.Volume)
		}
		slices.Sort(out[b.Digest])
		out[b.Digest] = slices.Compact(out[b.Digest])
	}
	return out
}

// Parts returns the entries of a chunked blob's parts, in its byte order
// (each with its Part, Offset and Volume); nil for a blob carried whole.
func (b *Blob) Parts() []Entry { return chunkParts(b) }
