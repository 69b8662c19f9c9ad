package trip

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/spec"
	"github.com/ferryhq/ferry/store"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/ssh"
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
	Size  int64
}

// Save writes the bundle that carries plan, through a temporary file
// beside it (store.WriteAtomic). Nothing is left at opts.Path when it fails.
// With Path "-" it streams the bundle to opts.Stdout.
func Save(ctx context.Context, plan *Plan, opts SaveOptions) (*SaveResult, error) {
	ix, files, err := plan.index(opts)
	if err != nil {
		return nil, err
	}
	if opts.Path == "-" {
		if opts.Stdout == nil {
			return nil, fmt.Errorf("save to standard output: no writer given: %w", spec.ErrBadInput)
		}
		cw := &countingWriter{w: opts.Stdout}
		if err := plan.write(ctx, cw, ix, files, opts); err != nil {
			return nil, fmt.Errorf("save to standard output: %w", err)
		}
		return &SaveResult{Index: ix, Path: "-", Size: cw.n}, nil
	}
	err = store.WriteAtomic(opts.Path, "", "."+filepath.Base(opts.Path)+".tmp-*", 0o644, func(f *os.File) error {
		return plan.write(ctx, f, ix, files, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("save %s: %w", opts.Path, err)
	}
	st, err := os.Stat(opts.Path)
	if err != nil {
		return nil, err
	}
	return &SaveResult{Index: ix, Path: opts.Path, Size: st.Size()}, nil
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
	files := map[string][]byte{spec.LayoutEntry: ociLayout, spec.LayoutIndexEntry: li}
	ix := &format.Index{
		SchemaVersion: spec.BundleSchemaVersion,
		MediaType:     spec.IndexMediaType,
		Created:       created.UTC().Truncate(time.Second).Format(time.RFC3339),
		From:          format.Party{Site: opts.From},
		To:            opts.To,
		Sequence:      opts.Sequence,
		Images:        p.images(),
		Charts:        p.Charts,
		Blobs:         p.Blobs,
	}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		ix.Files = append(ix.Files, format.File{Name: name, Digest: digest.FromBytes(files[name]), Size: int64(len(files[name]))})
	}
	return ix, files, nil
}

func (p *Plan) write(ctx context.Context, f io.Writer, ix *format.Index, files map[string][]byte, opts SaveOptions) error {
	bw := bufio.NewWriterSize(f, 1<<20)
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
	for _, b := range ix.Blobs {
		if b.Status != spec.StatusShipped {
			continue
		}
		if err := p.writeBlob(ctx, w, b, opts.Progress); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

func (p *Plan) writeBlob(ctx context.Context, w *format.Writer, b format.Blob, prog Progress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rc, err := p.Fetch(ctx, ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest, Size: b.Size})
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if prog != nil {
		prog.Blob(b.Digest, b.Size)
		r = &countingReader{r: rc, p: prog}
	}
	if err := w.WriteBlob(b.Digest, r); err != nil {
		return fmt.Errorf("blob %s: %w", b.Digest, err)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	p Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.Add(int64(n))
	return n, err
}

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
