// Package ocilayout reads and writes OCI image layouts on disk (the
// oci:DIR[:NAME] transport) and owns the oci-layout and index.json files
// of every layout ferry writes, each image named by the one
// org.opencontainers.image.ref.name rule (Entry).
package ocilayout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Source is an OCI image layout read as a runtime.Source.
type Source struct {
	dir string
	tag string
}

var _ runtime.Source = (*Source)(nil)

// FromPath opens the layout in dir; tag selects an image by its
// org.opencontainers.image.ref.name ("" for all, see Resolve).
func FromPath(dir, tag string) (*Source, error) {
	for _, name := range []string{spec.LayoutEntry, spec.LayoutIndexEntry} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("oci:%s: not an OCI layout (%s %w)", dir, name, spec.ErrNotFound)
			}
			return nil, fmt.Errorf("oci:%s: %w", dir, err)
		}
	}
	return &Source{dir: dir, tag: tag}, nil
}

// Resolve returns the images that the layout's index.json names (see the
// package function Resolve for the rules).
func (l *Source) Resolve(ctx context.Context) ([]runtime.Image, error) {
	idx, err := readIndex(l.dir)
	if err != nil {
		return nil, err
	}
	return Resolve("oci:"+l.dir, idx, l.tag)
}

// Fetch opens blobs/<alg>/<hex> after validating the digest.
func (l *Source) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	p, err := blobPath(l.dir, desc)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("oci:%s: blob %s: %w", l.dir, desc.Digest, spec.ErrNotFound)
	}
	return f, err
}

// Close does nothing: a Source holds no open files.
func (l *Source) Close() error { return nil }

func blobPath(dir string, desc ocispec.Descriptor) (string, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return "", err
	}
	return filepath.Join(dir, "blobs", desc.Digest.Algorithm().String(), desc.Digest.Encoded()), nil
}

func readIndex(dir string) (ocispec.Index, error) {
	where := "oci:" + dir
	f, err := os.Open(filepath.Join(dir, spec.LayoutIndexEntry))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ocispec.Index{}, fmt.Errorf("%s: no index.json: %w", where, spec.ErrNotFound)
		}
		return ocispec.Index{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, spec.MaxManifestSize+1))
	if err != nil {
		return ocispec.Index{}, fmt.Errorf("%s: %w", where, err)
	}
	return ParseIndex(where, data)
}
