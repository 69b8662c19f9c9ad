package trip

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/format"
	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/spec"
)

// A split save (SaveOptions.Split) writes the bundle as a set of volumes
// (spec/bundle-v1.md section 8): NAME.1-of-N.ferry … for a Path of
// NAME.ferry, each at most Split bytes, in one pass over the blobs. Each
// volume is written to a temporary file beside its final name; all are
// renamed only once every volume is complete, so a save that fails or is
// killed leaves no volume behind.

// saveSet writes ix, cut into volumes, and returns the set.
func (p *Plan) saveSet(ctx context.Context, ix *format.Index, files map[string][]byte, opts SaveOptions) (*SaveResult, error) {
	if opts.Path == "-" {
		return nil, spec.Mark(fmt.Errorf("save --split: volumes are files; give -o NAME%s, not -", spec.FileExtension), spec.ErrBadInput)
	}
	sopts, err := setOptions(ix, opts)
	if err != nil {
		return nil, err
	}
	if err := format.PlanSet(ix, opts.Signer, sopts); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(opts.Path, spec.FileExtension)
	vols := &volumeFiles{ctx: ctx, plan: p, ix: ix, base: base}
	defer vols.abort()
	sw, err := format.NewSetWriter(ix, opts.Signer, sopts, files, vols)
	if err != nil {
		return nil, err
	}
	pf := newPrefetcher(ctx, p, sw.Order(), opts.TmpDir)
	defer pf.close()
	if err := p.writeAll(ctx, sw, sw.Order(), pf, opts); err != nil {
		return nil, fmt.Errorf("save %s: %w", base, err)
	}
	if err := sw.Close(); err != nil {
		return nil, fmt.Errorf("save %s: %w", base, err)
	}
	paths, size, err := vols.commit()
	if err != nil {
		return nil, fmt.Errorf("save %s: %w", base, err)
	}
	return &SaveResult{Index: ix, Path: paths[0], Volumes: paths, Size: size, Layers: p.shippedLayers()}, nil
}

// setOptions are the set's writing options: the bundle's, the volume
// size, and the frames' lengths of the blobs the spool encoded ahead.
func setOptions(ix *format.Index, opts SaveOptions) (format.SetOptions, error) {
	created, err := time.Parse(time.RFC3339, ix.Created)
	if err != nil {
		return format.SetOptions{}, err
	}
	return format.SetOptions{WriterOptions: format.WriterOptions{Compression: opts.Compression, ModTime: created},
		Size: opts.Split, Encoded: opts.Spool.encoded()}, nil
}

// PlanVolumes cuts the bundle of plan into volumes of opts.Split bytes
// without writing anything: what save --split --dry-run shows.
func PlanVolumes(plan *Plan, opts SaveOptions) ([]DryRunVolume, error) {
	ix, _, err := plan.index(opts)
	if err != nil {
		return nil, err
	}
	sopts, err := setOptions(ix, opts)
	if err != nil {
		return nil, err
	}
	if err := format.PlanSet(ix, opts.Signer, sopts); err != nil {
		return nil, err
	}
	out := make([]DryRunVolume, len(ix.Volumes))
	for i, v := range ix.Volumes {
		out[i].Number = v.Number
		for _, e := range ix.Entries(v.Number) {
			if e.Blob == nil {
				continue
			}
			out[i].Blobs = append(out[i].Blobs, DryRunPart{Digest: e.Blob.Digest, Size: e.Size, Part: e.Part,
				Parts: partCount(e.Blob), Role: plan.Role(e.Blob.Digest)})
			out[i].Bytes += e.Size
		}
	}
	return out, nil
}

func partCount(b *format.Blob) int {
	if b.Chunk == nil {
		return 0
	}
	return len(b.Chunk.Parts)
}

// DryRunVolume is one volume of a split plan: the blobs it carries whole
// and the parts of blobs it carries, and their bytes before compression.
type DryRunVolume struct {
	Number int          `json:"number"`
	Blobs  []DryRunPart `json:"blobs"`
	Bytes  int64        `json:"bytes"`
}

// DryRunPart is a blob a volume carries: whole (Part 0), or its part
// Part of Parts.
type DryRunPart struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Role   string        `json:"role"`
	Part   int           `json:"part,omitempty"`
	Parts  int           `json:"parts,omitempty"`
}

// volumeFiles is a set's files (format.SetSource): each volume a
// temporary file beside its final name. At most one is open at a time,
// whatever the count of volumes: a SetWriter writes one volume's body
// after the other, then each header.
type volumeFiles struct {
	ctx   context.Context
	plan  *Plan
	ix    *format.Index
	base  string
	files []*atomicfile.File
	open  *atomicfile.File // the one whose handle is open
}

func (v *volumeFiles) Repeat(d digest.Digest) (io.ReadCloser, error) {
	for _, b := range v.ix.Blobs {
		if b.Digest == d {
			return v.plan.Fetch(v.ctx, ocispec.Descriptor{MediaType: b.MediaType, Digest: d, Size: b.Size})
		}
	}
	return nil, fmt.Errorf("blob %s: %w", d, spec.ErrNotFound)
}

func (v *volumeFiles) Volume(n int) (io.WriterAt, error) {
	if err := v.park(); err != nil {
		return nil, err
	}
	f, err := atomicfile.Create(spec.VolumeName(v.base, n, len(v.ix.Volumes)))
	if err != nil {
		return nil, err
	}
	v.files = append(v.files, f)
	v.open = f
	return volumeFile{v: v, f: f}, nil
}

// park closes the open handle, once its background syncs have ended; the
// temporary file stays. A failed background sync fails the save here.
func (v *volumeFiles) park() error {
	if v.open == nil {
		return nil
	}
	f := v.open
	v.open = nil
	err := f.StopSyncs()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// reopen makes f the open one.
func (v *volumeFiles) reopen(f *atomicfile.File) error {
	if v.open == f {
		return nil
	}
	if err := v.park(); err != nil {
		return err
	}
	h, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	f.File, v.open = h, f
	return nil
}

// commit syncs and renames every volume into place, then syncs the
// directory once, and returns their paths and total size.
func (v *volumeFiles) commit() ([]string, int64, error) {
	var paths []string
	var size int64
	for i, f := range v.files {
		if err := v.reopen(f); err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			return nil, 0, err
		}
		size += st.Size()
		v.open = nil
		if err := f.CommitUnsynced(0o644); err != nil {
			return nil, 0, err
		}
		paths = append(paths, spec.VolumeName(v.base, i+1, len(v.files)))
	}
	v.files = nil
	return paths, size, atomicfile.SyncDir(filepath.Dir(v.base))
}

// abort removes every temporary file not committed.
func (v *volumeFiles) abort() {
	v.park()
	for _, f := range v.files {
		f.Abort()
	}
}

// volumeFile writes one volume through the set's one open handle.
type volumeFile struct {
	v *volumeFiles
	f *atomicfile.File
}

// WriteAt passes at most atomicfile.SmallWrites bytes a call to the
// kernel, for the reason atomicfile.SmallWriter gives, and syncs the
// volume in the background as it grows (atomicfile.File.Wrote), so that
// the commit's sync of each volume waits for its last few MiB, not for
// the whole of a volume the size of a DVD.
func (w volumeFile) WriteAt(b []byte, off int64) (int, error) {
	if err := w.v.reopen(w.f); err != nil {
		return 0, err
	}
	var n int
	for n < len(b) {
		m, err := w.f.WriteAt(b[n:min(len(b), n+atomicfile.SmallWrites)], off+int64(n))
		w.f.Wrote(m)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
