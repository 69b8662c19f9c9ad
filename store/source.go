package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// Source is an image of the store, read by name: the store as a
// runtime.Source.
type Source struct {
	*Store
	img runtime.Image
}

var _ runtime.Source = (*Source)(nil)

// Source opens the image the catalog records under name. A name parsed
// with a default ":latest" also finds an image recorded without a tag
// (one read from oci:DIR:v1 is recorded as "v1").
func (h *Home) Source(name string) (*Source, error) {
	rec, err := h.Image(name)
	if err != nil {
		return nil, err
	}
	return &Source{Store: h.Store, img: rec.Image()}, nil
}

// Image returns the record of the image named name: as recorded, or, for
// a name parsed with a default ":latest", recorded without a tag. The
// error wraps spec.ErrNotFound and says how to list the store.
func (h *Home) Image(name string) (ImageRecord, error) {
	rec, err := h.Catalog.Image(name)
	if errors.Is(err, spec.ErrNotFound) && strings.HasSuffix(name, ":latest") {
		rec, err = h.Catalog.Image(strings.TrimSuffix(name, ":latest"))
	}
	if errors.Is(err, spec.ErrNotFound) {
		return rec, fmt.Errorf("image %s: %w in the store at %s (ferry ls lists what it holds; name a transport such as oci:DIR:TAG to read elsewhere)", spec.Quote(name), spec.ErrNotFound, h.Dir)
	}
	return rec, err
}

// Resolve returns the one image the Source was opened with.
func (s *Source) Resolve(context.Context) ([]runtime.Image, error) {
	return []runtime.Image{s.img}, nil
}

// Close releases nothing: the home owns the store.
func (s *Source) Close() error { return nil }
