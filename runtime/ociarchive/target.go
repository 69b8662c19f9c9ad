package ociarchive

import (
	"context"
	"fmt"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/runtime/ocilayout"
)

// Target writes images as a new OCI archive.
type Target struct {
	file string
	tag  string
}

var (
	_ runtime.Target = (*Target)(nil)
	_ runtime.Namer  = (*Target)(nil)
)

// NewTarget returns a Target that writes the archive file; tag, if set,
// is the ref.name of the one image written.
func NewTarget(file, tag string) *Target { return &Target{file: file, tag: tag} }

// Names returns the ref.name each image gets, as a layout names it.
func (t *Target) Names(images []runtime.Image) ([]string, error) {
	images, err := ocilayout.Named(images, t.tag)
	if err != nil {
		return nil, fmt.Errorf("oci-archive:%s: %w", t.file, err)
	}
	return ocilayout.RefNames(images), nil
}

// Write writes the archive to a temporary file beside file and renames
// it, so file is either the whole new archive or untouched. The tar is
// deterministic: oci-layout, index.json, then blobs sorted by digest, all
// with modification time 0. An existing file is replaced, not merged.
func (t *Target) Write(ctx context.Context, images []runtime.Image, src runtime.Fetcher) error {
	where := "oci-archive:" + t.file
	entries, err := ocilayout.Entries(images, t.tag)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	index, err := ocilayout.EncodeIndex(entries)
	if err != nil {
		return err
	}
	blobs, err := runtime.Collect(ctx, src, images)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := tarfile.WriteLayout(ctx, t.file, index, nil, blobs, src); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Close does nothing.
func (t *Target) Close() error { return nil }
