// Package ociarchive reads and writes tar files of an OCI image layout:
// the oci-archive:FILE[:TAG] transport. Reading scans the tar once and
// serves blobs as sections of the file; nothing is extracted to disk.
package ociarchive

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/internal/tarfile"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// Source is an OCI archive read as a runtime.Source.
type Source struct {
	file string
	tag  string
	tr   *tarfile.Reader
}

var _ runtime.Source = (*Source)(nil)

// FromPath scans the archive at file; tag selects an image by its
// ref.name as in an OCI layout ("" for all).
func FromPath(file, tag string) (*Source, error) {
	tr, err := tarfile.Open(file)
	if err != nil {
		return nil, fmt.Errorf("oci-archive:%s: %w", file, err)
	}
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		if !tr.Has(name) {
			tr.Close()
			return nil, fmt.Errorf("oci-archive:%s: not an OCI archive (no %s): %w", file, name, spec.ErrBadInput)
		}
	}
	return &Source{file: file, tag: tag, tr: tr}, nil
}

// Resolve returns the images the archive's index.json names.
func (a *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	where := "oci-archive:" + a.file
	data, err := a.tr.ReadFile(spec.LayoutIndexEntry, spec.MaxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	idx, err := ocilayout.ParseIndex(where, data)
	if err != nil {
		return nil, err
	}
	return ocilayout.Resolve(where, idx, a.tag)
}

// Fetch serves the member blobs/<alg>/<hex>.
func (a *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return FetchMember(a.tr, "oci-archive:"+a.file, desc.Digest)
}

// Close closes the file.
func (a *Source) Close() error { return a.tr.Close() }

// FetchMember opens the blob member of d in tr after validating d.
func FetchMember(tr tarfile.Members, where string, d digest.Digest) (io.ReadCloser, error) {
	if err := spec.ValidateDigest(d); err != nil {
		return nil, err
	}
	rc, err := tr.OpenMember("blobs/" + d.Algorithm().String() + "/" + d.Encoded())
	if err != nil {
		return nil, fmt.Errorf("%s: blob %s: %w", where, d, spec.ErrNotFound)
	}
	return rc, nil
}
