// Package tarfile reads and writes the tar files of the archive
// transports. Reader scans a tar once and serves members as sections of
// the file, extracting nothing; member names are map keys, never paths on
// disk. Writer writes deterministic tars of an OCI layout.
package tarfile

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ferryhq/ferry/runtime"
	"github.com/ferryhq/ferry/spec"
)

// maxLinks bounds how many links Open follows.
const maxLinks = 8

type member struct {
	offset, size int64
	link         string // cleaned target of a symlink or hard link
}

// Members is a tar's files by name: read from a file (Reader) or read
// once from a stream, its large files kept in a spool (Stream).
type Members interface {
	// Has reports whether the tar holds a file (or a link) named name.
	Has(name string) bool
	// ReadFile returns the whole file name, refusing more than max bytes.
	ReadFile(name string, max int64) ([]byte, error)
	// OpenMember returns the bytes of the file name, following links.
	OpenMember(name string) (io.ReadCloser, error)
	// Describe returns the file's digest and size, and the media type of
	// a layer that begins as the file does (runtime.LayerMediaType).
	Describe(name string) (ocispec.Descriptor, error)
	Close() error
}

var (
	_ Members = (*Reader)(nil)
	_ Members = (*Stream)(nil)
)

// Reader serves the regular files of a tar file by name. Open sections
// may be read concurrently.
type Reader struct {
	path    string
	f       *os.File
	members map[string]member
}

// Open scans the tar at name once, recording where each member's bytes
// lie. Directories and other special members are ignored.
func Open(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: name, f: f, members: map[string]member{}}
	if err := r.scan(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

func (r *Reader) scan() error {
	tr := tar.NewReader(r.f) // an *os.File: tar seeks over member bodies
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %v: %w", err, spec.ErrCorrupt)
		}
		name := Clean(h.Name)
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			off, err := r.f.Seek(0, io.SeekCurrent)
			if err != nil {
				return err
			}
			r.members[name] = member{offset: off, size: h.Size}
		case tar.TypeSymlink:
			r.members[name] = member{link: Clean(path.Join(path.Dir(name), h.Linkname))}
		case tar.TypeLink:
			r.members[name] = member{link: Clean(h.Linkname)}
		}
	}
}

// Clean normalises a member name: no leading "./" or "/", no "..".
func Clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// Has reports whether the tar holds a file (or a link) named name.
func (r *Reader) Has(name string) bool {
	_, ok := r.members[Clean(name)]
	return ok
}

// Names returns the names of every file and link.
func (r *Reader) Names() []string {
	out := make([]string, 0, len(r.members))
	for n := range r.members {
		out = append(out, n)
	}
	return out
}

// Open returns the bytes of the file name, following links.
func (r *Reader) Open(name string) (*io.SectionReader, error) {
	want := Clean(name)
	for range maxLinks {
		m, ok := r.members[want]
		if !ok {
			return nil, fmt.Errorf("%s: no member %q: %w", r.path, name, spec.ErrNotFound)
		}
		if m.link == "" {
			return io.NewSectionReader(r.f, m.offset, m.size), nil
		}
		want = m.link
	}
	return nil, fmt.Errorf("%s: member %q: too many links: %w", r.path, name, spec.ErrCorrupt)
}

// OpenMember is Open as a ReadCloser.
func (r *Reader) OpenMember(name string) (io.ReadCloser, error) {
	s, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(s), nil
}

// Describe reads the file name once: its digest, size and media type.
func (r *Reader) Describe(name string) (ocispec.Descriptor, error) {
	s, err := r.Open(name)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	head := make([]byte, runtime.MagicSize)
	n, _ := io.ReadFull(s, head)
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(s, 0, s.Size())); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: member %q: %w", r.path, name, err)
	}
	return ocispec.Descriptor{MediaType: runtime.LayerMediaType(head[:n]), Size: s.Size(), Digest: digest.NewDigest(digest.SHA256, h)}, nil
}

// ReadFile returns the whole file name, refusing more than max bytes.
func (r *Reader) ReadFile(name string, max int64) ([]byte, error) {
	s, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	if s.Size() > max {
		return nil, fmt.Errorf("%s: member %q: %d bytes, limit %d: %w", r.path, name, s.Size(), max, spec.ErrTooLarge)
	}
	b := make([]byte, s.Size())
	if _, err := io.ReadFull(s, b); err != nil {
		return nil, fmt.Errorf("%s: member %q: %w", r.path, name, errors.Join(err, spec.ErrCorrupt))
	}
	return b, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
