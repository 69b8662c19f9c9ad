package trip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
)

// This file is where an entry kind is dispatched: what Load and Verify do
// with each kind's verified bytes, and how Save writes each kind's entry.
// format/kinds.go declares the kinds; a new kind adds a case here.

// loadEntry consumes one verified entry of a bundle being loaded: an
// image blob is ingested into the store, an extra is written to
// opts.ExtrasDir, a delta's layer is rebuilt into the store, the layout
// files are read and dropped (the store keeps its own). An error that is
// a *spec.VerifyError or a *DeltaError costs that entry only.
func (l *loader) loadEntry(ctx context.Context, e *format.Entry, src io.Reader) error {
	switch e.Kind {
	case spec.KindBlob:
		return l.blob(ctx, e, src)
	case spec.KindExtra:
		return l.extra(e, src)
	case spec.KindDelta:
		return l.delta(ctx, e, src)
	case spec.KindChunk:
		return l.part(e, src)
	}
	return discard(src)
}

// verifyEntry reads one entry for Verify: the manifests and indexes are
// kept to walk each image's graph, a delta is checked (verifier.delta),
// every other entry is hashed only; another blob on a goroutine of its
// own when the source can (discarder), its verdict coming later, while
// the next entries are read.
func (v *verifier) verifyEntry(ctx context.Context, e *format.Entry, src io.Reader) (func() error, error) {
	if e.Kind == spec.KindBlob && isManifest(e.MediaType) && e.Size <= spec.MaxManifestSize {
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, src); err != nil {
			return nil, err
		}
		v.manifests.blobs[e.Digest] = buf.Bytes()
		return nil, nil
	}
	switch e.Kind {
	case spec.KindExtra:
		v.extras = append(v.extras, extraFile(e, ""))
	case spec.KindDelta:
		return nil, v.delta(ctx, e, src)
	case spec.KindBlob:
		if d, ok := src.(discarder); ok {
			return d.Discard()
		}
	}
	err := discardBuf(src, v.buf)
	if e.Kind == spec.KindChunk && err == nil {
		v.parts[e.Name] = true
	}
	return nil, err
}

// saveEntry writes the entry of the i-th shipped blob: an image blob from
// the source the plan fetched it from (or pf fetched ahead), an extra from
// its file, a delta from the file Deltas built and proved.
func (p *Plan) saveEntry(ctx context.Context, w blobWriter, b format.Blob, extras map[digest.Digest]Extra,
	pf *prefetcher, i int, opts SaveOptions) error {
	if b.Kind == spec.KindDelta {
		return writeFile(w, b, p.deltas[b.Digest].path, opts.Progress)
	}
	if b.Kind == spec.KindExtra {
		x, ok := extras[b.Digest]
		if !ok {
			return fmt.Errorf("extra %s: no file given for it: %w", b.Digest, spec.ErrNotFound)
		}
		if err := writeFile(w, b, x.Path, opts.Progress); err != nil {
			return fmt.Errorf("extra %s: %w", x.Name, err)
		}
		return nil
	}
	return p.writeBlob(ctx, w, b, pf, i, opts)
}

// writeFile writes b's entry from the file at path.
func writeFile(w blobWriter, b format.Blob, path string, prog Progress) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return countWrite(w, b, f, prog)
}

// verifier holds what Verify's entries need and leave for the end of
// the scan.
type verifier struct {
	manifests memFetcher
	buf       []byte
	extras    []ExtraFile
	h         *store.Home   // nil without a home
	ix        *format.Index // once admitted
	rebuild   bool          // CheckOptions.RebuildDeltas
	rebuilt   int
	parts     map[string]bool // the parts of chunked blobs that arrived intact, by entry name
}

// loader holds what Load's entries need.
type loader struct {
	h         *store.Home
	batch     *store.Batch // ingests each blob, committed in the background
	arrived   *arrivals    // told of each blob ingested, for targets that take blobs ahead
	extrasDir string
	ix        *format.Index // once admitted
	stored    int
	held      int
	rebuilt   int // layers rebuilt from deltas
	repaired  []digest.Digest
	extras    []ExtraFile
	// scratchDir holds the base files of the deltas (loader.scratch).
	scratchDir string
}

func (l *loader) blob(ctx context.Context, e *format.Entry, src io.Reader) error {
	desc := ocispec.Descriptor{MediaType: e.MediaType, Digest: e.Digest, Size: e.Size}
	got, err := l.batch.Ingest(ctx, desc, src) // l.arrived hears when it is named
	if err != nil {
		l.arrived.arrived(e.Digest, false)
		return err
	}
	l.count(got, e.Digest)
	return nil
}

// count tells the report what Ingest did with blob d.
func (l *loader) count(got store.Ingested, d digest.Digest) {
	switch got {
	case store.Stored:
		l.stored++
	case store.Held:
		l.held++
	case store.Repaired:
		l.repaired = append(l.repaired, d)
	}
}

// extra writes an extra file whole, under its name in the extras
// directory, or not at all: a file that does not match the index is
// never renamed into place.
func (l *loader) extra(e *format.Entry, src io.Reader) error {
	if l.extrasDir == "" {
		return discard(src)
	}
	x := e.Blob.Extra
	path := filepath.Join(l.extrasDir, x.Name) // a name spec.ValidateFileName accepted
	mode := os.FileMode(0o644)
	if x.Executable {
		mode = 0o755
	}
	err := atomicfile.Write(path, mode, func(f *os.File) error {
		_, err := io.Copy(f, src)
		return err
	})
	var ve *spec.VerifyError
	if err != nil && !errors.As(err, &ve) {
		return fmt.Errorf("extra %s: %w", path, err)
	}
	if err == nil {
		l.extras = append(l.extras, extraFile(e, path))
	}
	return err
}

// ExtraFile is an extra a bundle carried, verified, and where Load wrote
// it ("" for Verify).
type ExtraFile struct {
	Name   string        `json:"name"`
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Path   string        `json:"path,omitempty"`
}

func extraFile(e *format.Entry, path string) ExtraFile {
	return ExtraFile{Name: e.Blob.Extra.Name, Digest: e.Digest, Size: e.Size, Path: path}
}

// Extra is a file Save carries as an extra entry (spec/extra-v1.md).
type Extra struct {
	Name       string // its file name at the destination
	Path       string // where it is read here
	Digest     digest.Digest
	Size       int64
	Executable bool
}

// extraBlobs lists extras in the index.
func extraBlobs(extras []Extra) []format.Blob {
	var out []format.Blob
	for _, x := range extras {
		mt := "application/octet-stream"
		if x.Executable {
			mt = spec.MediaTypeExecutable
		}
		out = append(out, format.Blob{Digest: x.Digest, Size: x.Size, MediaType: mt, Kind: spec.KindExtra,
			Status: spec.StatusShipped, Extra: &spec.Extra{Name: x.Name, Executable: x.Executable}})
	}
	return out
}

func discard(src io.Reader) error {
	_, err := io.Copy(io.Discard, src)
	return err
}

// discardBuf reads src through buf into a plain writer, so that
// io.Discard's 8 KiB ReadFrom is not used: large reads keep verify near
// sha256's own speed.
func discardBuf(src io.Reader, buf []byte) error {
	_, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, src, buf)
	return err
}
