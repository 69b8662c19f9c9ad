package trip

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/ssh"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// SaveOptions says how to write a bundle. The zero value of each optional
// field is documented on it.
type SaveOptions struct {
	// Path is the bundle file to write. It is written to a temporary file
	// beside it and renamed only when complete and synced. "-" writes the
	// bundle to Stdout instead, as it is made.
	Path string
	// Stdout receives the bundle when Path is "-" (the command line gives
	// its standard output).
	Stdout io.Writer
	// Signer signs the index; From is this site's name.
	Signer ssh.Signer
	From   string
	// To is the destination site, "" for any site.
	To string
	// Sequence is the bundle's sequence number for (From, To).
	Sequence uint64
	// Created is the index's created time; zero means now. Set it (or
	// SOURCE_DATE_EPOCH on the command line) for byte-identical output.
	Created time.Time
	// Compression is "zstd" (default) or "none".
	Compression string
	// Progress, if set, is told of each blob as it is written.
	Progress Progress
	// TmpDir holds the blobs fetched ahead from far sources (a registry)
	// while the one before is written; "" fetches each in its turn. It
	// should be on a disk with room for a few blobs (the home's tmp/).
	TmpDir string
	// Extras are files carried beside the images as extra entries
	// (spec/extra-v1.md): ferry's own release, say.
	Extras []Extra
	// Spool, if set, holds blobs already encoded for this bundle (a
	// Docker export, compressed as it streamed): their frames are copied
	// in as they are. It must be made with the same Compression.
	Spool *FrameSpool
	// Split, if positive, writes the bundle as a set of volumes of at
	// most Split bytes each (split.go): NAME.1-of-N.ferry … for a Path
	// of NAME.ferry. Path must be a file.
	Split int64
}

// Progress receives progress of long work: a blob started (done == 0),
// bytes copied, and the totals.
type Progress interface {
	Blob(d digest.Digest, size int64)
	Add(n int64)
}

// SaveResult describes a written bundle.
type SaveResult struct {
	Index *format.Index
	Path  string
	Size  int64 // of every volume, for a set
	// Layers maps each layer the bundle ships (whole or as a delta) to
	// the repository of an image it is a layer of ("" for none), for the
	// shipping log (RecordMade).
	Layers map[digest.Digest]string
	// Volumes are the files of a set, in order (Path is the first);
	// nil for a bundle of one file.
	Volumes []string
}

// Save writes the bundle that carries plan, through a temporary file
// beside it (internal/atomicfile). Nothing is left at opts.Path when it fails.
// With Path "-" it streams the bundle to opts.Stdout.
func Save(ctx context.Context, plan *Plan, opts SaveOptions) (*SaveResult, error) {
	ix, files, err := plan.index(opts)
	if err != nil {
		return nil, err
	}
	if opts.Split > 0 {
		return plan.saveSet(ctx, ix, files, opts)
	}
	if opts.Path == "-" && opts.Stdout == nil {
		return nil, fmt.Errorf("save to standard output: no writer given: %w", spec.ErrBadInput)
	}
	// The first blobs of far sources are requested now, while the header
	// is signed and written, not a round trip after it.
	pf := newPrefetcher(ctx, plan, ix.Shipped(), opts.TmpDir)
	defer pf.close()
	if opts.Path == "-" {
		cw := &countingWriter{w: opts.Stdout}
		if err := plan.write(ctx, atomicfile.SmallWriter(cw), ix, files, pf, opts); err != nil {
			return nil, fmt.Errorf("save to standard output: %w", err)
		}
		return &SaveResult{Index: ix, Path: "-", Size: cw.n, Layers: plan.shippedLayers()}, nil
	}
	if err := writeBundleFile(ctx, plan, ix, files, pf, opts); err != nil {
		return nil, fmt.Errorf("save %s: %w", opts.Path, err)
	}
	st, err := os.Stat(opts.Path)
	if err != nil {
		return nil, err
	}
	return &SaveResult{Index: ix, Path: opts.Path, Size: st.Size(), Layers: plan.shippedLayers()}, nil
}

func (p *Plan) index(opts SaveOptions) (*format.Index, map[string][]byte, error) {
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	li, err := layoutIndex(p.Images)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{spec.LayoutEntry: ocilayout.LayoutFile(), spec.LayoutIndexEntry: li}
	ix := &format.Index{
		SchemaVersion: spec.BundleSchemaVersion,
		MediaType:     spec.IndexMediaType,
		Created:       created.UTC().Truncate(time.Second).Format(time.RFC3339),
		From:          format.Party{Site: opts.From},
		To:            opts.To,
		Sequence:      opts.Sequence,
		Images:        p.indexImages(),
		Charts:        p.Charts,
		Blobs:         append(slices.Clip(p.Blobs), extraBlobs(opts.Extras)...),
	}
	format.Order(ix.Blobs) // as the writer would: Shipped is in entry order
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		ix.Files = append(ix.Files, format.File{Name: name, Digest: digest.FromBytes(files[name]), Size: int64(len(files[name]))})
	}
	return ix, files, nil
}

// writeBundleFile writes the bundle to opts.Path through a temporary file
// that syncs in the background as it grows (atomicfile.File.Writer): the
// commit's sync then waits for the last few MiB, not for the whole bundle
// (1.2 s of a 2 GiB save's 4.8 s when it was left to the end).
func writeBundleFile(ctx context.Context, plan *Plan, ix *format.Index, files map[string][]byte, pf *prefetcher, opts SaveOptions) error {
	f, err := atomicfile.Create(opts.Path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := plan.write(ctx, f.Writer(), ix, files, pf, opts); err != nil {
		return err
	}
	return f.Commit(0o644)
}

// write writes the bundle to out, which takes writes of any size: a file's
// atomicfile writer, or standard output through atomicfile.SmallWriter.
func (p *Plan) write(ctx context.Context, out io.Writer, ix *format.Index, files map[string][]byte, pf *prefetcher, opts SaveOptions) error {
	bw := bufio.NewWriterSize(out, atomicfile.SmallWrites)
	modTime, _ := time.Parse(time.RFC3339, ix.Created)
	w := format.NewWriter(bw, format.WriterOptions{Compression: opts.Compression, ModTime: modTime})
	if err := w.WriteHeader(ix, opts.Signer); err != nil {
		return err
	}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		if err := w.WriteFile(name, files[name]); err != nil {
			return err
		}
	}
	if err := p.writeAll(ctx, w, ix.Shipped(), pf, opts); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// blobWriter takes the entries of a bundle's blobs: a format.Writer, or
// a format.SetWriter for a set of volumes.
type blobWriter interface {
	WriteBlob(d digest.Digest, r io.Reader) error
	WriteEncoded(e format.Encoded, frames io.Reader) error
}

// writeAll writes the entry of each of shipped, in that order, the
// blobs of far sources from pf, which fetches them ahead (made for
// shipped).
func (p *Plan) writeAll(ctx context.Context, w blobWriter, shipped []format.Blob, pf *prefetcher, opts SaveOptions) error {
	extras := map[digest.Digest]Extra{}
	for _, x := range opts.Extras {
		extras[x.Digest] = x
	}
	for i, b := range shipped {
		if err := p.saveEntry(ctx, w, b, extras, pf, i, opts); err != nil {
			return err
		}
	}
	return nil
}

// writeBlob writes shipped blob i, b: its frames from the spool, or its
// bytes from pf.
func (p *Plan) writeBlob(ctx context.Context, w blobWriter, b format.Blob, pf *prefetcher, i int, opts SaveOptions) error {
	prog := opts.Progress
	if err := ctx.Err(); err != nil {
		return err
	}
	if e, frames, ok := opts.Spool.frames(b.Digest); ok {
		if prog != nil {
			prog.Blob(b.Digest, b.Size)
			defer prog.Add(b.Size)
		}
		return w.WriteEncoded(e, frames)
	}
	if path, ok := p.spools[b.Digest]; ok { // fetched for a delta, which was declined
		return writeFile(w, b, path, prog)
	}
	rc, err := pf.open(i)
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	defer rc.Close()
	return countWrite(w, b, rc, prog)
}

// countWrite writes b's entry from r, telling prog.
func countWrite(w blobWriter, b format.Blob, r io.Reader, prog Progress) error {
	if prog != nil {
		size := b.Size
		if b.Delta != nil {
			size = b.Delta.Size // the entry's bytes, not its layer's
		}
		prog.Blob(b.Digest, size)
		if _, ok := r.(format.BufferOwner); ok {
			r = &countingOwner{countingReader{r: r, p: prog}}
		} else {
			r = &countingReader{r: r, p: prog}
		}
	}
	if err := w.WriteBlob(b.Digest, r); err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	return nil
}

// countingReader tells p of every byte read through it. It keeps the
// abilities of what it wraps: a bundle entry still verifies itself
// (spec.SelfVerifying) and still writes from its own buffers (WriteTo).
type countingReader struct {
	r io.Reader
	p Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.Add(int64(n))
	return n, err
}

// Discard hands the entry to its source's Discard (format.Reader's) and
// tells p of its bytes, all read when Discard returns.
func (c *countingReader) Discard() (func() error, error) {
	d, ok := c.r.(discarder)
	if !ok {
		return nil, discard(c)
	}
	_, size := c.Promise()
	verdict, err := d.Discard()
	if err == nil {
		c.p.Add(size)
	}
	return verdict, err
}

func (c *countingReader) Promise() (digest.Digest, int64) {
	if sv, ok := c.r.(spec.SelfVerifying); ok {
		return sv.Promise()
	}
	return "", 0
}

func (c *countingReader) WriteTo(w io.Writer) (int64, error) {
	wt, ok := c.r.(io.WriterTo)
	if !ok {
		return io.Copy(w, struct{ io.Reader }{c})
	}
	return wt.WriteTo(writerFunc(func(b []byte) (int, error) {
		n, err := w.Write(b)
		c.p.Add(int64(n))
		return n, err
	}))
}

// countingOwner is a countingReader of a format.BufferOwner, which it
// stays: its WriteTo counts the owner's buffers as they are written.
type countingOwner struct{ countingReader }

func (c *countingOwner) OwnsBuffers() {}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// shippedLayers maps each layer the plan ships to the first repository of
// the images it is a layer of.
func (p *Plan) shippedLayers() map[digest.Digest]string {
	repos := p.layerRepositories()
	out := map[digest.Digest]string{}
	for _, b := range p.Blobs {
		if b.Status == spec.StatusShipped && p.Role(b.Digest) == RoleLayer && b.Kind != spec.KindExtra {
			out[b.Digest] = firstOf(repos[b.Digest])
		}
	}
	return out
}

func firstOf(repos []string) string {
	for _, r := range repos {
		if r != "" {
			return r
		}
	}
	return ""
}
