package format

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/spec"
)

// How a set is cut (spec/bundle-v1.md section 8.2). A volume's signed
// index must come first, yet it lists what every volume carries, so the
// whole set is planned before a byte is written, from sizes alone: each
// entry is counted at the most bytes it can take once framed, exactly
// for an uncompressed set and for blobs whose frames were made ahead,
// and else at zstd's bound for content that does not compress (an
// encoder stores a block raw rather than let it grow). Every volume is
// then at most the size asked, whatever the content; what compresses
// fills a volume less. A part's digest is known only once its bytes have
// streamed past, so a volume's index and signature are written last,
// into room of their exact length left at the start of its file: the
// index with every digest still to come is as long as the final one (a
// digest is always 71 bytes), and its frames are raw blocks, whose length
// the content's length fixes.

// SetOptions say how to cut and write a set of volumes.
type SetOptions struct {
	WriterOptions
	// Size is the most bytes one volume may hold (spec.ParseSize).
	Size int64
	// Encoded gives, for blobs whose data frames were made ahead (an
	// Encoder's Frames), their length: a volume counts them exactly.
	Encoded map[digest.Digest]int64
}

// placeholderDigest stands in a volume's index for a part's digest until
// the part has been written; placeholderID for a set's id until every
// digest is known.
var (
	placeholderDigest = digest.NewDigestFromEncoded(digest.SHA256, strings.Repeat("0", 64))
	placeholderID     = strings.Repeat("0", 32)
)

// sigSlack is room left beside a signature whose length may vary by a
// few bytes from one signing to the next (ECDSA).
const sigSlack = 64

// maxPlanRounds caps the rounds of PlanSet: each round cuts the set with
// the room its index left the round before.
const maxPlanRounds = 8

// PlanSet cuts the bundle of ix into volumes of at most opts.Size bytes:
// it fills ix.Volumes and turns each blob larger than the room a volume
// has left into a chunked blob (kind spec.KindChunk) whose parts' digests
// are placeholders until a SetWriter writes them. Every volume carries the
// layout files and every manifest and index; the other shipped blobs fill
// the volumes in index order, a blob that does not fit whole in the room
// left is cut into parts, one per volume, and an entry of another kind
// (an extra) that does not fit goes whole into the next volume. It fails,
// naming the least size that would do, when a volume has too little room
// for the set's index and manifests, and when an entry that cannot be cut
// is larger than a volume. ix is completed as Writer.WriteHeader
// completes an index (its id excepted: a SetWriter derives it last).
func PlanSet(ix *Index, s ssh.Signer, opts SetOptions) error {
	unchunk(ix)
	if err := fillIndex(ix, s, modTime(opts.ModTime)); err != nil {
		return err
	}
	if err := withID(ix).Validate(); err != nil {
		return fmt.Errorf("bundle index: %w", err)
	}
	p := &setPlan{ix: ix, opts: opts, s: s}
	if err := p.measure(); err != nil {
		return err
	}
	head := p.fixed
	for range maxPlanRounds {
		room := opts.Size - head
		if room < 2*spec.MinPart {
			return p.tooSmall(head)
		}
		cut, err := p.cut(room)
		if err != nil {
			return err
		}
		need, err := p.overhead(cut.apply(ix))
		if err != nil {
			return err
		}
		if need <= head {
			return withID(ix).Validate()
		}
		head = need + 1<<10
	}
	return fmt.Errorf("split into volumes of %d bytes: the plan did not settle in %d rounds: %w", opts.Size, maxPlanRounds, spec.ErrBadInput)
}

// withID returns ix itself, or a copy with a placeholder id when it has
// none, for checks that need one.
func withID(ix *Index) *Index {
	if ix.ID != "" {
		return ix
	}
	c := *ix
	c.ID = placeholderID
	return &c
}

// unchunk undoes an earlier plan: each chunked blob is a whole blob again.
func unchunk(ix *Index) {
	ix.Volume, ix.Volumes = 0, nil
	for i := range ix.Blobs {
		if ix.Blobs[i].Kind == spec.KindChunk {
			ix.Blobs[i].Kind, ix.Blobs[i].Chunk = spec.KindBlob, nil
		}
	}
}

// setPlan is PlanSet's work.
type setPlan struct {
	ix    *Index
	opts  SetOptions
	s     ssh.Signer
	every []digest.Digest // blobs every volume carries, in index order
	fixed int64           // what every volume holds besides its header and its share of blobs
}

// measure finds the blobs every volume carries and what those, the
// layout files and the tar trailer take in every volume.
func (p *setPlan) measure() error {
	for _, b := range p.ix.Blobs {
		if repeated(b) {
			p.every = append(p.every, b.Digest)
		}
	}
	p.fixed = p.frameBound(2 * blockSize) // the end-of-archive marker
	for _, f := range p.ix.Files {
		n, err := p.headerLen(f.Name, f.Size)
		if err != nil {
			return err
		}
		p.fixed += p.frameBound(n + padded(f.Size))
	}
	for i := range p.ix.Blobs {
		b := &p.ix.Blobs[i]
		if !repeated(*b) {
			continue
		}
		n, err := p.entryCost(b, blobEntries(b)[0].Name, b.Size)
		if err != nil {
			return err
		}
		p.fixed += n
	}
	return nil
}

// repeated reports whether every volume carries blob b: a manifest or an
// image index, so that each volume alone walks every image's graph.
func repeated(b Blob) bool {
	return b.Status == spec.StatusShipped && b.Kind == spec.KindBlob && b.Size <= spec.MaxManifestSize &&
		(spec.IsManifest(b.MediaType) || spec.IsIndex(b.MediaType))
}

// tooSmall names the least size that leaves a volume room for blobs.
func (p *setPlan) tooSmall(head int64) error {
	return spec.Mark(fmt.Errorf("split into volumes of %d bytes: each volume carries the set's index, signature, layout files and %d manifest(s), %d bytes: "+
		"give --split at least %d", p.opts.Size, len(p.every), head, head+2*spec.MinPart), spec.ErrBadInput)
}

// cut is where each blob goes: the blobs each volume carries whole (the
// repeated ones left out) and the parts of each chunked blob.
type cut struct {
	count int
	every []digest.Digest
	whole [][]digest.Digest
	parts map[digest.Digest][]spec.Part
}

// cut fills volumes of room bytes each (what a volume holds beside its
// header and the repeated entries) with the shipped blobs, in index
// order.
func (p *setPlan) cut(room int64) (*cut, error) {
	unchunk(p.ix)
	c := &cut{count: 1, every: p.every, whole: [][]digest.Digest{nil}, parts: map[digest.Digest][]spec.Part{}}
	var used int64
	next := func() error {
		if c.count++; c.count > spec.MaxVolumes {
			return spec.Mark(fmt.Errorf("split into volumes of %d bytes: more than %d volumes: give a larger --split",
				p.opts.Size, spec.MaxVolumes), spec.ErrTooLarge)
		}
		c.whole, used = append(c.whole, nil), 0
		return nil
	}
	for i := range p.ix.Blobs {
		b := &p.ix.Blobs[i]
		if b.Status != spec.StatusShipped || repeated(*b) {
			continue
		}
		if _, ok := kinds[b.Kind]; !ok {
			return nil, fmt.Errorf("blob %s: kind %q cannot be written by this ferry: %w", b.Digest, b.Kind, spec.ErrBadInput)
		}
		e := blobEntries(b)[0]
		cost, err := p.entryCost(b, e.Name, e.Size)
		if err != nil {
			return nil, err
		}
		if used+cost > room && (b.Kind != spec.KindBlob || p.maxPart(b, room-used) < spec.MinPart) && used > 0 {
			if err := next(); err != nil {
				return nil, err
			}
		}
		switch {
		case used+cost <= room:
			c.whole[c.count-1] = append(c.whole[c.count-1], b.Digest)
			used += cost
			continue
		case b.Kind != spec.KindBlob:
			return nil, spec.Mark(fmt.Errorf("%s %s of %d bytes does not fit in a volume of %d bytes, and only image blobs are cut into parts: give a larger --split",
				b.Kind, spec.Quote(e.Name), b.Size, p.opts.Size), spec.ErrBadInput)
		}
		if err := p.cutParts(c, b, room, &used, next); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// cutParts cuts blob b into parts: the first fills the room volume
// c.count has left, each next one a volume of its own, the last what is
// left.
func (p *setPlan) cutParts(c *cut, b *Blob, room int64, used *int64, next func() error) error {
	for left := b.Size; left > 0; {
		n := min(p.maxPart(b, room-*used), left)
		if n > 0 {
			c.parts[b.Digest] = append(c.parts[b.Digest], spec.Part{Digest: placeholderDigest, Size: n, Volume: c.count})
			left -= n
		}
		if left == 0 {
			cost, err := p.entryCost(b, spec.PartEntry(b.Digest, len(c.parts[b.Digest])), n)
			*used += cost
			return err
		}
		if err := next(); err != nil {
			return err
		}
	}
	return nil
}

// apply writes the cut into ix (and returns it): its volumes, and each
// chunked blob's parts.
func (c *cut) apply(ix *Index) *Index {
	unchunk(ix)
	every := map[digest.Digest]bool{}
	for _, d := range c.every {
		every[d] = true
	}
	owner := map[digest.Digest]int{}
	for v, ds := range c.whole {
		for _, d := range ds {
			owner[d] = v
		}
	}
	lists := make([][]digest.Digest, c.count)
	for _, b := range ix.Blobs { // in index order, so each list is too
		if every[b.Digest] {
			for v := range lists {
				lists[v] = append(lists[v], b.Digest)
			}
		} else if v, ok := owner[b.Digest]; ok {
			lists[v] = append(lists[v], b.Digest)
		}
	}
	for v, list := range lists {
		ix.Volumes = append(ix.Volumes, Volume{Number: v + 1, Blobs: nonNil(list)})
	}
	for i := range ix.Blobs {
		if parts, ok := c.parts[ix.Blobs[i].Digest]; ok {
			ix.Blobs[i].Kind = spec.KindChunk
			ix.Blobs[i].Chunk = &spec.Chunk{Parts: append([]spec.Part(nil), parts...)}
		}
	}
	ix.Volume = 1
	return ix
}

// overhead is the most that one volume of the set ix cut holds beside its
// share of blobs: its header (the index, as long as the final one, and
// the signature), the layout files, the repeated blobs and the trailer.
func (p *setPlan) overhead(ix *Index) (int64, error) {
	var most int64
	for _, v := range []int{1, len(ix.Volumes)} { // the longest index has the most digits in "volume"
		head, err := volumeHeader(ix, v, p.s, p.opts.WriterOptions)
		if err != nil {
			return 0, err
		}
		most = max(most, int64(len(head))+sigSlack)
	}
	return most + p.fixed, nil
}

// volumeHeader is volume v's first two entries with ix's digests still
// to come: its index and signature, framed (headerFrames).
func volumeHeader(ix *Index, v int, s ssh.Signer, opts WriterOptions) ([]byte, error) {
	c := *withID(ix)
	c.Volume = v
	raw, err := Canonical(&c)
	if err != nil {
		return nil, err
	}
	if len(raw) > spec.MaxIndexSize {
		return nil, spec.Mark(fmt.Errorf("the set's index would be %d bytes, over the %d-byte limit: give a larger --split, or fewer images",
			len(raw), spec.MaxIndexSize), spec.ErrTooLarge)
	}
	sig, err := Sign(s, spec.SignatureNamespace, raw)
	if err != nil {
		return nil, err
	}
	return headerFrames(raw, sig, opts)
}

// headerFrames is a volume's index and signature entries: as tar, each
// in a frame of raw blocks for a zstd set, so that their length is fixed
// by the content's.
func headerFrames(raw, sig []byte, opts WriterOptions) ([]byte, error) {
	var out bytes.Buffer
	for _, e := range []struct {
		name string
		data []byte
	}{{spec.IndexEntry, raw}, {spec.SignatureEntry, sig}} {
		var entry bytes.Buffer
		tw := tar.NewWriter(&entry)
		h := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644, ModTime: modTime(opts.ModTime)}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
		if opts.Compression == CompressionNone {
			out.Write(entry.Bytes())
			continue
		}
		f := newRawFrame(&out)
		f.Write(entry.Bytes())
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

// entryCost is the most bytes a blob entry of size bytes named name takes:
// its header's frame and its data's frames (exactly, when they were made
// ahead and the entry is the whole blob).
func (p *setPlan) entryCost(b *Blob, name string, size int64) (int64, error) {
	h, err := p.headerLen(name, size)
	if err != nil {
		return 0, err
	}
	data := p.dataBound(size)
	if n, ok := p.opts.Encoded[b.Digest]; ok && size == b.Size && b.Kind != spec.KindChunk {
		data = n
	}
	return p.frameBound(h) + data, nil
}

// maxPart is the largest part of b whose entry takes at most room bytes.
func (p *setPlan) maxPart(b *Blob, room int64) int64 {
	lo, hi := int64(0), min(room, b.Size)
	name := spec.PartEntry(b.Digest, spec.MaxVolumes)
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if cost, err := p.entryCost(&Blob{}, name, mid); err == nil && cost <= room {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// headerLen is the length of an entry's tar header, as the Writer writes
// it.
func (p *setPlan) headerLen(name string, size int64) (int64, error) {
	h, err := headerBytes(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: modTime(p.opts.ModTime)})
	return int64(len(h)), err
}

// frameBound is the most bytes one frame of n bytes of content takes: n
// itself in an uncompressed set; else n, a 3-byte header per block of at
// most 128 KiB (an encoder stores a block raw when compressing would not
// make it smaller), and at most 18 bytes of frame header and checksum.
func (p *setPlan) frameBound(n int64) int64 {
	if p.opts.Compression == CompressionNone {
		return n
	}
	return n + 3*(n/rawBlockMax+1) + 18
}

// dataBound is the most bytes the data frames of an entry of n bytes
// take: the data and its padding, in frames of chunkSize bytes of content
// when compressed, or in one frame of raw blocks.
func (p *setPlan) dataBound(n int64) int64 {
	c := padded(n)
	if p.opts.Compression == CompressionNone || c == 0 {
		return c
	}
	compressed := (c/chunkSize)*p.frameBound(chunkSize) + p.frameBound(c%chunkSize)
	return max(compressed, p.frameBound(c))
}

// padded is n rounded up to tar's block.
func padded(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }
