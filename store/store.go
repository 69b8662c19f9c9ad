package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/runtime/ocilayout"
	"github.com/ferryhq/ferry/spec"
)

// Store is a content-addressed blob store kept as an OCI image layout:
// oci-layout, index.json and blobs/sha256/<hex>. Blobs enter only through
// Ingest, which verifies them before they get their name, so a file under
// blobs/sha256 always holds the bytes its name promises (unless the disk
// damaged it: see Verify). Safe for concurrent use.
type Store struct {
	dir string // the layout
	tmp string // ingest temp files, on the same filesystem
	// verified maps each blob this process has hashed (on ingest or by
	// Verify) to its file's os.FileInfo at that time: a blob whose file is
	// still that file, unwritten since, may be handed to a target as it
	// is (BlobFile).
	verified sync.Map
}

var _ runtime.Fetcher = (*Store)(nil)

// tmpPrefix starts the name of every temp file a Store makes, so that
// Open removes only its own leftovers.
const tmpPrefix = "ferry-"

// scratchPrefix starts the names of the scratch directories of tmp/
// (Home.Scratch), removed whole when the store is opened.
const scratchPrefix = tmpPrefix + "scratch-"

// Open opens the layout at layoutDir, creating it if missing, and
// removes leftover temp files from tmpDir. Only one process may use a
// tmpDir at a time: a home takes the catalog lock first.
func Open(layoutDir, tmpDir string) (*Store, error) {
	b := &Store{dir: layoutDir, tmp: tmpDir}
	if err := os.MkdirAll(b.shaDir(), 0o755); err != nil {
		return nil, fmt.Errorf("store %s: %w", layoutDir, err)
	}
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("store %s: %w", layoutDir, err)
	}
	if err := b.createLayout(); err != nil {
		return nil, fmt.Errorf("store %s: %w", layoutDir, err)
	}
	if err := b.removeTemps(); err != nil {
		return nil, fmt.Errorf("store %s: %w", layoutDir, err)
	}
	return b, nil
}

// Dir is the layout's directory.
func (b *Store) Dir() string { return b.dir }

func (b *Store) shaDir() string { return filepath.Join(b.dir, "blobs", "sha256") }

// createLayout writes oci-layout and an empty index.json if absent.
func (b *Store) createLayout() error {
	p := filepath.Join(b.dir, ocispec.ImageLayoutFile)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if err := b.writeLayoutFile(ocispec.ImageLayoutFile, ocilayout.LayoutFile()); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	_, err := os.Stat(filepath.Join(b.dir, ocispec.ImageIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return b.WriteIndex(nil)
	}
	return err
}

func (b *Store) removeTemps() error {
	entries, err := os.ReadDir(b.tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), scratchPrefix) && e.IsDir() {
			if err := os.RemoveAll(filepath.Join(b.tmp, e.Name())); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(b.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// path validates d and returns its file name. No path is ever built from
// an unvalidated digest.
func (b *Store) path(d digest.Digest) (string, error) {
	if err := spec.ValidateDigest(d); err != nil {
		return "", err
	}
	return filepath.Join(b.shaDir(), d.Encoded()), nil
}

// Fetch opens a blob. The error wraps spec.ErrNotFound if it is absent.
func (b *Store) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := b.path(desc.Digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w in the store", desc.Digest, spec.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && b.unchanged(desc.Digest, fi) {
		return &verifiedFile{File: f, d: desc.Digest, size: fi.Size()}, nil
	}
	return f, nil
}

// verifiedFile is a blob's file that this process hashed and that was not
// written since (the test BlobFile applies before a target links it): it
// promises its digest and size (spec.SelfVerifying), so that a target
// that reads it does not hash it again.
type verifiedFile struct {
	*os.File
	d    digest.Digest
	size int64
}

func (f *verifiedFile) Promise() (digest.Digest, int64) { return f.d, f.size }

// Exists reports whether the store holds the blob with the descriptor's
// size.
func (b *Store) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	size, err := b.Stat(desc.Digest)
	if errors.Is(err, spec.ErrNotFound) {
		return false, nil
	}
	return err == nil && size == desc.Size, err
}

// Stat returns a blob's size on disk, or an error wrapping
// spec.ErrNotFound.
func (b *Store) Stat(d digest.Digest) (int64, error) {
	p, err := b.path(d)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("blob %s: %w in the store", d, spec.ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Delete removes a blob's file. Deleting an absent blob is not an error.
func (b *Store) Delete(d digest.Digest) error {
	p, err := b.path(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	return nil
}

// Walk calls fn for every blob file, in digest order. Names that are not
// 64 lower-case hex digits are skipped.
func (b *Store) Walk(fn func(d digest.Digest, size int64) error) error {
	entries, err := os.ReadDir(b.shaDir())
	if err != nil {
		return fmt.Errorf("store %s: %w", b.dir, err)
	}
	for _, e := range entries {
		d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
		if !e.Type().IsRegular() || spec.ValidateDigest(d) != nil {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("blob %s: %w", d, err)
		}
		if err := fn(d, fi.Size()); err != nil {
			return err
		}
	}
	return nil
}

// Verify re-hashes a blob's file. The error is a *spec.VerifyError when
// the bytes do not match the name.
func (b *Store) Verify(d digest.Digest) error {
	return b.verify(context.Background(), d, nil)
}

// verify hashes a blob, calling onRead with the count of each read, and
// remembers a good one as verified.
func (b *Store) verify(ctx context.Context, d digest.Digest, onRead func(n int64)) error {
	p, err := b.path(d)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w in the store", d, spec.ErrNotFound)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	vr := spec.NewVerifyingReader(f, d, fi.Size())
	err = copyBuffer(ctx, writerFunc(func(p []byte) (int, error) {
		if onRead != nil {
			onRead(int64(len(p)))
		}
		return len(p), nil
	}), vr, *buf)
	if err == nil {
		b.verified.Store(d, fi)
	}
	return err
}

// markVerified remembers the file at p as holding d's verified bytes.
func (b *Store) markVerified(d digest.Digest, p string) {
	if fi, err := os.Stat(p); err == nil {
		b.verified.Store(d, fi)
	}
}

// unchanged reports whether the file fi is the one this process verified
// for d and has not been written since.
func (b *Store) unchanged(d digest.Digest, fi os.FileInfo) bool {
	v, ok := b.verified.Load(d)
	old, _ := v.(os.FileInfo)
	return ok && os.SameFile(old, fi) && old.Size() == fi.Size() && old.ModTime().Equal(fi.ModTime())
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BlobFile names the file of a blob the store holds, so that a layout
// target on the same filesystem can hard-link it (runtime.BlobFiler). It
// hands out only a file verified since it was last written: one this
// process ingested or hashed and that is still that file, unchanged, or
// else one it hashes now. A damaged file is refused with an error that
// wraps its *spec.VerifyError and says how to repair the store. The file
// is read-only; whoever links it must not make it writable.
func (b *Store) BlobFile(d digest.Digest) (string, error) {
	p, err := b.path(d)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", d, spec.ErrNotFound)
	}
	if b.unchanged(d, fi) {
		return p, nil
	}
	if err := b.Verify(d); err != nil {
		return "", Damaged(err)
	}
	return p, nil
}

// Damaged explains a blob of the store whose bytes no longer match its
// name: err (a *spec.VerifyError) and what repairs it.
func Damaged(err error) error {
	return fmt.Errorf("the store's copy is damaged (%w); ferry check --read-data --repair removes it and the images "+
		"that need it, and loading any bundle that carries it restores it", err)
}

var _ runtime.BlobFiler = (*Store)(nil)
