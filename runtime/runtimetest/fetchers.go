package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// DirFetcher serves the blobs of the OCI layout in dir. It is a few lines
// independent of the ocilayout package, so the suite does not test a
// transport with itself.
type DirFetcher string

// Fetch opens blobs/sha256/<hex>.
func (d DirFetcher) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := spec.ValidateDigest(desc.Digest); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(string(d), "blobs", "sha256", desc.Digest.Encoded()))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", desc.Digest, spec.ErrNotFound)
	}
	return f, err
}

// Missing serves every blob of f except gone, for which it reports
// spec.ErrNotFound.
func Missing(f runtime.Fetcher, gone digest.Digest) runtime.Fetcher {
	return fetchFunc(func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
		if desc.Digest == gone {
			return nil, fmt.Errorf("blob %s: %w", gone, spec.ErrNotFound)
		}
		return f.Fetch(ctx, desc)
	})
}

// Corrupt serves every blob of f, but with one byte of bad flipped.
func Corrupt(f runtime.Fetcher, bad digest.Digest) runtime.Fetcher {
	return fetchFunc(func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
		rc, err := f.Fetch(ctx, desc)
		if err != nil || desc.Digest != bad {
			return rc, err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			b[len(b)/2] ^= 0x01
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

type fetchFunc func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)

func (f fetchFunc) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return f(ctx, desc)
}

// Named is an image named name whose root is a manifest descriptor with
// the digest of content: for tests of naming rules, which read no blob.
func Named(name, content string) runtime.Image {
	return runtime.Image{Name: name, Desc: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
		Digest: digest.FromString(content), Size: int64(len(content))}}
}

// With serves the blobs in extra from memory and every other blob from f.
func With(f runtime.Fetcher, extra map[digest.Digest][]byte) runtime.Fetcher {
	return fetchFunc(func(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
		if b, ok := extra[desc.Digest]; ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		return f.Fetch(ctx, desc)
	})
}
