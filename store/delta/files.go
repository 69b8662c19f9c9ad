package delta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/internal/recompress"
	"github.com/ferryhq/ferry/spec"
)

// openLayer reads a layer blob from the store through a verifying reader
// and decompresses it. The caller must call done to learn whether the
// blob was what its digest promises: it drains what is left and closes.
func openLayer(ctx context.Context, store Fetcher, desc ocispec.Descriptor) (tarball io.Reader, done func() error, err error) {
	rc, err := store.Fetch(ctx, desc)
	if err != nil {
		return nil, nil, &BaseError{Base: desc.Digest, Err: err}
	}
	vr := spec.NewVerifyingReader(rc, desc.Digest, desc.Size)
	raw, _, err := recompress.Open(vr)
	if err != nil {
		rc.Close()
		return nil, nil, &BaseError{Base: desc.Digest, Err: err}
	}
	done = func() error {
		raw.Close()
		defer rc.Close()
		if _, err := io.Copy(io.Discard, vr); err != nil {
			return &BaseError{Base: desc.Digest, Err: err}
		}
		return nil
	}
	return raw, done, nil
}

// extract writes the content of every ref to refPath(dir, i), reading each
// base that has refs once, through a verifying reader: a file is trusted
// only after its size and sha256 match the ref and its layer's digest
// matches the layer's descriptor. refs are sorted by base and ordinal.
func extract(ctx context.Context, store Fetcher, bases []ocispec.Descriptor, refs []ref, dir string) error {
	i := 0
	for k, base := range bases {
		if i == len(refs) || refs[i].base != k {
			continue
		}
		tarball, done, err := openLayer(ctx, store, base)
		if err != nil {
			return err
		}
		werr := walkTar(tarball, nil, func(f *file, name string, content io.Reader) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if i == len(refs) || refs[i].base != k || refs[i].ordinal != f.ordinal {
				return nil
			}
			if err := writeRef(refPath(dir, i), refs[i], f, content); err != nil {
				return &BaseError{Base: base.Digest, Err: fmt.Errorf("entry %d %q: %w", f.ordinal, name, err)}
			}
			i++
			return nil
		})
		if err := done(); err != nil {
			return err // a damaged base says so before what it broke
		}
		if werr != nil {
			return wrapBase(base, werr)
		}
		if i < len(refs) && refs[i].base == k {
			return &BaseError{Base: base.Digest, Err: fmt.Errorf("no file at entry %d: %w", refs[i].ordinal, spec.ErrNotFound)}
		}
	}
	return nil
}

func wrapBase(base ocispec.Descriptor, err error) error {
	if _, ok := err.(*BaseError); ok {
		return err
	}
	return &BaseError{Base: base.Digest, Err: err}
}

func refPath(dir string, i int) string { return filepath.Join(dir, "ref-"+strconv.Itoa(i)) }

// writeRef copies a base file's content to p and checks it is the ref's.
func writeRef(p string, r ref, f *file, content io.Reader) error {
	if f.size != r.size {
		return fmt.Errorf("%d bytes, the delta expects %d: %w", f.size, r.size, spec.ErrSizeMismatch)
	}
	out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), content)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), r.digest[:]) {
		return fmt.Errorf("content is not what the delta expects: %w", spec.ErrDigestMismatch)
	}
	return nil
}
