package store

import (
	"fmt"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/atomicfile"
	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
)

// WriteIndex atomically rewrites index.json to list images as every OCI
// layout ferry writes lists them (ocilayout.IndexFile: sorted by name,
// org.opencontainers.image.ref.name the whole name, runtime.RefName), so
// that `skopeo inspect oci:STORE:NAME` finds the image `ferry ls` lists
// as NAME.
func (b *Store) WriteIndex(images []runtime.Image) error {
	data, err := ocilayout.IndexFile(images)
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
func (b *Store) writeLayoutFile(name string, data []byte) error {
	return atomicfile.WriteFileIn(filepath.Join(b.dir, name), b.tmp, tmpPrefix+"layout-*", data, 0o644)
}
