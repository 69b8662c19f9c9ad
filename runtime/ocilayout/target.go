package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Target writes images into an OCI image layout.
type Target struct {
	dir string
	tag string
}

var (
	_ runtime.Target      = (*Target)(nil)
	_ runtime.BlobChecker = (*Target)(nil)
	_ runtime.Namer       = (*Target)(nil)
)

// NewTarget returns a Target for the layout in dir (created on Write if
// missing). tag, if set, is the ref.name of the one image written.
func NewTarget(dir, tag string) *Target { return &Target{dir: dir, tag: tag} }

// Names returns the ref.name each image gets (runtime.RefName; tag for
// the one image when the target has one).
func (t *Target) Names(images []runtime.Image) ([]string, error) {
	images, err := Named(images, t.tag)
	if err != nil {
		return nil, fmt.Errorf("oci:%s: %w", t.dir, err)
	}
	return RefNames(images), nil
}

// Exists reports whether the layout holds a blob of desc's digest and size.
func (t *Target) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	p, err := blobPath(t.dir, desc)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.Mode().IsRegular() && fi.Size() == desc.Size, nil
}

// Write writes every blob the images need (each atomically and verified;
// blobs already present with the right size are kept), then rewrites
// index.json atomically, merging with its existing entries. On failure
// index.json is unchanged.
func (t *Target) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	where := "oci:" + t.dir
	entries, err := Entries(images, t.tag)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	blobs, err := runtime.Collect(ctx, src, images)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := t.init(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	named := false
	for _, b := range blobs {
		n, err := t.writeBlob(ctx, b, src)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		named = named || n
	}
	// One sync of blobs/sha256 makes every name given above durable,
	// before index.json (whose commit syncs the layout's directory, and
	// so oci-layout's name) points at any of them.
	if named {
		if err := atomicfile.SyncDir(filepath.Join(t.dir, "blobs", "sha256")); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if err := t.writeIndex(entries); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Close does nothing.
func (t *Target) Close() error { return nil }

func (t *Target) init() error {
	if err := os.MkdirAll(filepath.Join(t.dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	p := filepath.Join(t.dir, spec.LayoutEntry)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	// Its name is made durable by index.json's commit, in the same
	// directory, which Write does last.
	f, err := atomicfile.Create(p)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(LayoutFile()); err != nil {
		return err
	}
	return f.CommitUnsynced(0o644)
}

// writeBlob gives the layout blob b unless it holds it, linked from src
// or copied, and says whether it named a file; the caller syncs
// blobs/sha256 once for all.
func (t *Target) writeBlob(ctx context.Context, b runtime.Blob, src runtime.Fetcher) (bool, error) {
	if ok, err := t.Exists(ctx, b.Desc); err != nil || ok {
		return false, err
	}
	p, _ := blobPath(t.dir, b.Desc)
	if linked(src, b, p) {
		return true, nil
	}
	f, err := atomicfile.Create(p)
	if err != nil {
		return false, err
	}
	defer f.Abort()
	// f.Writer syncs as it goes, so that the commit's sync waits for the
	// last few MiB of a large layer only.
	if err := runtime.CopyBlob(ctx, f.Writer(), src, b); err != nil {
		return false, err
	}
	return true, f.CommitUnsynced(0o444)
}

func (t *Target) writeIndex(entries []ocispec.Descriptor) error {
	old, err := readIndex(t.dir)
	if err != nil && !errors.Is(err, spec.ErrNotFound) {
		return err
	}
	data, err := EncodeIndex(Merge(old.Manifests, entries))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(t.dir, spec.LayoutIndexEntry), data, 0o644)
}

// linked hard-links the blob's file from a source that has one (ferry's
// store, whose blobs were verified on ingest and are read-only) when both
// are on one filesystem: a load into a layout then writes each byte once.
// A manifest or config held in memory (b.Data) is linked too when the
// source has its file: the digest names the bytes. Any failure leaves
// the copy to do. The directory is synced by the caller.
func linked(src runtime.Fetcher, b runtime.Blob, dst string) bool {
	bf, ok := src.(runtime.BlobFiler)
	if !ok || (b.Data != nil && int64(len(b.Data)) != b.Desc.Size) {
		return false
	}
	from, err := bf.BlobFile(b.Desc.Digest)
	if err != nil {
		return false
	}
	if st, err := os.Stat(from); err != nil || st.Size() != b.Desc.Size {
		return false
	}
	return os.Link(from, dst) == nil
}
