package store

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// WriteIndex atomically rewrites index.json to list images, sorted by
// name, each named as every OCI layout ferry writes names it
// (ocilayout.Entry: org.opencontainers.image.ref.name is the whole name,
// runtime.RefName), so that `skopeo inspect oci:STORE:NAME` finds the
// image `ferry ls` lists as NAME. The output is deterministic.
func (b *Blobs) WriteIndex(images []runtime.Image) error {
	data, err := LayoutIndex(images)
	if err != nil {
		return fmt.Errorf("store %s: index.json: %w", b.dir, err)
	}
	if err := b.writeLayoutFile(ocispec.ImageIndexFile, data); err != nil {
		return fmt.Errorf("store %s: index.json: %w", b.dir, err)
	}
	return nil
}

// writeLayoutFile replaces the layout's file name with data, through a
// temporary file in the store's tmp/.
func (b *Blobs) writeLayoutFile(name string, data []byte) error {
	return atomicfile.WriteFileIn(filepath.Join(b.dir, name), b.tmp, tmpPrefix+"layout-*", data, 0o644)
}

// LayoutIndex is the index.json of an OCI image layout that lists images,
// sorted by name, named as WriteIndex names them. Bundles carry the same.
// Two images that would share a ref.name are refused.
func LayoutIndex(images []runtime.Image) ([]byte, error) {
	images = slices.Clone(images)
	slices.SortStableFunc(images, func(a, b runtime.Image) int { return strings.Compare(a.Name, b.Name) })
	for _, im := range images {
		if err := spec.ValidateDigest(im.Desc.Digest); err != nil {
			return nil, fmt.Errorf("image %s: %w", im.Name, err)
		}
	}
	entries, err := ocilayout.Entries(images, "")
	if err != nil {
		return nil, err
	}
	return ocilayout.EncodeIndex(entries)
}
