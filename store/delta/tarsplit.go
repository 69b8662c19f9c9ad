package delta

import (
	"archive/tar"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ferryhq/ferry/spec"
)

// file is a regular file of a layer's tar: where it is (its ordinal among
// the tar's entries), its path's hash, its size and, once read, the
// sha256 of its content.
type file struct {
	ordinal  int64
	pathHash uint64
	size     int64
	digest   [32]byte
}

// splitter passes a tar stream to archive/tar and hands every byte that is
// not a regular file's content (headers, PAX records, padding, the end of
// the archive and anything after it) to raw, as tar-split keeps them:
// headers and content together give back the tar byte for byte.
type splitter struct {
	r       io.Reader
	raw     func([]byte) error
	content bool // reading a file's content: not raw
}

func (s *splitter) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.content {
		if rerr := s.raw(p[:n]); rerr != nil {
			return n, rerr
		}
	}
	return n, err
}

// walkTar reads the tar r to its end. For each regular file (not sparse)
// of non-zero size, it calls onFile with the file and a reader of exactly
// its content, which onFile may read in part (the rest is skipped);
// every other byte goes to raw, in stream order. raw may be nil.
func walkTar(r io.Reader, raw func([]byte) error, onFile func(f *file, name string, content io.Reader) error) error {
	if raw == nil {
		raw = func([]byte) error { return nil }
	}
	s := &splitter{r: r, raw: raw}
	tr := tar.NewReader(s)
	for ordinal := int64(0); ; ordinal++ {
		s.content = false
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("tar entry %d: %w: %v", ordinal, spec.ErrCorrupt, err)
		}
		if !isContent(h) {
			continue
		}
		s.content = true
		name := cleanName(h.Name)
		f := &file{ordinal: ordinal, pathHash: hashPath(name), size: h.Size}
		if err := onFile(f, name, io.LimitReader(tr, h.Size)); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("tar entry %d %q: %w: %v", ordinal, name, spec.ErrCorrupt, err)
		}
	}
	s.content = false
	if _, err := io.Copy(io.Discard, s); err != nil {
		return fmt.Errorf("after the tar: %w", err)
	}
	return nil
}

// isContent says whether a header's data is a plain run of the file's
// bytes that archive/tar gives back as they are: a regular file that is
// not sparse.
func isContent(h *tar.Header) bool {
	if h.Size <= 0 || (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA && h.Typeflag != tar.TypeCont) {
		return false
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return false
		}
	}
	return true
}

func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

func hashPath(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// hashFile reads a file's content and records its digest.
func hashFile(f *file, content io.Reader) error {
	h := sha256.New()
	n, err := io.Copy(h, content)
	if err != nil {
		return err
	}
	if n != f.size {
		return fmt.Errorf("tar entry %d: %d of %d bytes: %w", f.ordinal, n, f.size, spec.ErrCorrupt)
	}
	copy(f.digest[:], h.Sum(nil))
	return nil
}

func (f *file) Digest() digest.Digest {
	return digest.NewDigestFromBytes(digest.SHA256, f.digest[:])
}
